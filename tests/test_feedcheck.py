"""The feed rules checker: passes our feeds and a hand-written one, names what is broken."""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st
from test_feeds_out import sample_catalog

from devcasts.publish.feeds import feed_documents
from devcasts.tools import feedcheck
from devcasts.tools.feedcheck import Finding, check_feed, check_json_feed, check_rss, errors

DATA = Path(__file__).parent / "data" / "feeds"


@functools.cache
def our_feed() -> str:
    return dict(feed_documents(sample_catalog()))["feed.xml"].decode()


@pytest.fixture
def our_rss() -> str:
    return our_feed()


@pytest.fixture(scope="module")
def our_json() -> dict[str, object]:
    return json.loads(dict(feed_documents(sample_catalog()))["feed.json"])


def rules(findings: list[Finding], severity: str = "error") -> set[str]:
    return {finding.rule for finding in findings if finding.severity == severity}


def broken(feed: str, old: str, new: str, count: int = 1) -> bytes:
    assert old in feed, f"the mutation must apply: {old!r}"
    return feed.replace(old, new, count).encode()


# Each row breaks one rule in our own feed; the checker must name exactly that rule.
MUTATIONS = [
    ("<title>Dev Deploy Radio</title>", "<title> </title>", "rss.channel.required"),
    ('rel="self"', 'rel="alternate"', "atom.self"),
    ('<itunes:category text="Technology" />', '<itunes:category text="Tech" />', "apple.category"),
    (
        '<itunes:category text="Technology" />',
        '<itunes:category text="Arts"><itunes:category text="Kubernetes" /></itunes:category>',
        "apple.category",
    ),
    (
        "<itunes:explicit>true</itunes:explicit>",
        "<itunes:explicit>maybe</itunes:explicit>",
        "apple.explicit",
    ),
    ("<language>en</language>", "<language>English (UK)</language>", "rss.language"),
    ("<language>en</language>", "", "apple.language"),
    ("<itunes:block>yes</itunes:block>", "<itunes:block>hidden</itunes:block>", "apple.block"),
    ("<podcast:block>yes</podcast:block>", "<podcast:block>1</podcast:block>", "podcast.block"),
    (
        "<podcast:block>yes</podcast:block>",
        "<podcast:block>yes</podcast:block><podcast:locked>maybe</podcast:locked>",
        "podcast.locked",
    ),
    ("<itunes:type>episodic</itunes:type>", "<itunes:type>daily</itunes:type>", "apple.type"),
    (
        "<itunes:email>crew@example.org</itunes:email>",
        "<itunes:email>crew at example</itunes:email>",
        "apple.owner",
    ),
    (
        "<itunes:duration>1801</itunes:duration>",
        "<itunes:duration>1801</itunes:duration><itunes:episodeType>teaser</itunes:episodeType>",
        "apple.episode_type",
    ),
    ("<podcast:guid>", "<podcast:guid>not-a-uuid-", "podcast.guid"),
    (
        "<pubDate>Fri, 28 Feb 2025 12:00:00 GMT</pubDate>",
        "<pubDate>2025-02-28</pubDate>",
        "rss.date",
    ),
    ("<lastBuildDate>Fri, 28 Feb", "<lastBuildDate>Fri, 31 Feb", "rss.date"),
    (
        '<guid isPermaLink="false">devcasts:ep0002</guid>',
        '<guid isPermaLink="false">devcasts:ep0001</guid>',
        "rss.guid.unique",
    ),
    ('<guid isPermaLink="false">devcasts:ep0002</guid>', "", "rss.guid"),
    ("<title>Shipping containers, part 1</title>", "", "apple.item.title"),
    ('length="12000000"', 'length="12 MB"', "rss.enclosure"),
    ('type="audio/mpeg"', 'type="mp3"', "rss.enclosure"),
    ('url="https://cdn.deploy-talk.example/audio/1.mp3"', 'url="/audio/1.mp3"', "rss.enclosure"),
    (
        "<itunes:duration>1801</itunes:duration>",
        "<itunes:duration>about 30 min</itunes:duration>",
        "apple.duration",
    ),
    ("<itunes:episode>1</itunes:episode>", "<itunes:episode>0</itunes:episode>", "apple.episode"),
    ("<itunes:season>1</itunes:season>", "<itunes:season>-2</itunes:season>", "apple.season"),
    ('<itunes:image href="https://example.org/devcasts/static/cover.png" />', "", "apple.image"),
    (
        "<link>https://example.org/devcasts/podcasts/deploy-talk/part-1/</link>",
        "<link>podcasts/deploy-talk/part-1/</link>",
        "rss.url",
    ),
    (
        '<source url="https://deploy-talk.example/feed.rss">',
        '<source url="feed.rss">',
        "rss.source",
    ),
    ('type="application/json+chapters"', "", "podcast.chapters"),
    ('url="https://yaml-hour.example/6.vtt"', 'url="javascript:alert(1)"', "podcast.transcript"),
    (
        'role="host" href="https://carla.example/">Carla Gómez<',
        'role="host" href="https://carla.example/">' + "C" * 129 + "<",
        "podcast.person",
    ),
    ("<channel>", "<channel></channel><channel>", "rss.channel"),
    ('version="2.0"', 'version="0.91"', "rss.root"),
    ("<item>", "<item><oops>", "xml.wellformed"),
    ("<rss ", "<rss xmlns:x='urn:x' x:y='1' z:w='2' ", "xml.wellformed"),
]


@pytest.mark.parametrize(("old", "new", "rule"), MUTATIONS, ids=[m[2] for m in MUTATIONS])
def test_each_broken_rule_is_named(our_rss: str, old: str, new: str, rule: str) -> None:
    findings = check_rss(broken(our_rss, old, new))
    assert rule in rules(findings), findings


def test_channel_description_is_required(our_rss: str) -> None:
    data = broken(
        broken(our_rss, "<description>Episodes", "<summary>Episodes").decode(),
        "several shows.</description>",
        "several shows.</summary>",
    )
    assert "rss.channel.required" in rules(check_rss(data))


def test_description_over_apples_limit(our_rss: str) -> None:
    long_text = "&lt;p&gt;" + "é" * 2100 + "&lt;/p&gt;"
    findings = check_rss(broken(our_rss, "&lt;p&gt;Part 1&lt;/p&gt;", long_text))
    assert "apple.description.length" in rules(findings)


def test_description_tags_apple_does_not_allow_are_a_warning(our_rss: str) -> None:
    findings = check_rss(
        broken(our_rss, "&lt;p&gt;Part 1&lt;/p&gt;", "&lt;h1&gt;Part 1&lt;/h1&gt;")
    )
    assert "apple.description.tags" in rules(findings, "warning")
    assert not errors(findings)


def test_old_explicit_values_are_a_warning(our_rss: str) -> None:
    data = broken(
        our_rss, "<itunes:explicit>true</itunes:explicit>", "<itunes:explicit>yes</itunes:explicit>"
    )
    assert rules(check_rss(data), "warning") == {"apple.explicit"}


def test_guid_from_another_url_is_a_warning(our_rss: str) -> None:
    data = broken(
        our_rss,
        'href="https://example.org/devcasts/feed.xml"',
        'href="https://example.org/elsewhere/feed.xml"',
    )
    findings = check_rss(data)
    assert rules(findings, "warning") == {"podcast.guid"}
    assert not errors(findings)


def test_missing_enclosure_is_an_error(our_rss: str) -> None:
    data = broken(
        our_rss,
        '<enclosure url="https://cdn.deploy-talk.example/audio/1.mp3" '
        'length="12000000" type="audio/mpeg" />',
        "",
    )
    assert "apple.enclosure" in rules(check_rss(data))


def test_findings_say_where(our_rss: str) -> None:
    data = broken(
        our_rss, "<itunes:episode>2</itunes:episode>", "<itunes:episode>x</itunes:episode>"
    )
    (finding,) = errors(check_rss(data))
    assert (finding.where, finding.rule) == ("item 2", "apple.episode")
    assert (
        str(finding)
        == "error: item 2: itunes:episode must be a positive whole number [apple.episode]"
    )


# --- hand-written fixtures -------------------------------------------------------------------


def test_a_hand_written_minimal_feed_passes() -> None:
    assert check_feed((DATA / "minimal-valid.xml").read_bytes()) == []


def test_a_doctype_is_refused_before_parsing() -> None:
    findings = check_feed((DATA / "doctype-entities.xml").read_bytes())
    assert [f.rule for f in findings] == ["xml.doctype"]


def test_atom_is_not_rss() -> None:
    assert rules(check_feed((DATA / "atom-not-rss.xml").read_bytes())) == {
        "rss.root",
        "rss.channel",
    }


def test_broken_json_feed() -> None:
    findings = check_feed((DATA / "json-feed-broken.json").read_bytes())
    where = {(f.rule, f.where) for f in findings}
    assert where >= {
        ("json.required", "feed"),
        ("json.url", "feed"),
        ("json.date", "items[0]"),
        ("json.item.id", "items[1]"),  # repeats "a"
        ("json.item.content", "items[1]"),
        ("json.url", "items[1]"),
        ("json.attachment", "items[1].attachments[0]"),  # no mime_type
        ("json.item.id", "items[2]"),  # missing
        ("json.item.tags", "items[2]"),
        ("json.authors", "items[2]"),
    }


def test_our_json_feed_passes_and_breaks(our_json: dict[str, object]) -> None:
    assert check_json_feed(json.dumps(our_json).encode()) == []
    wrong_version = {**our_json, "version": "1.1"}
    assert rules(check_json_feed(json.dumps(wrong_version).encode())) == {"json.version"}
    assert rules(check_json_feed(b"[1, 2]")) == {"json.syntax"}
    assert rules(check_json_feed(b"{not json")) == {"json.syntax"}


def test_expected_podcast_guid_matches_the_namespace_example() -> None:
    expected = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert feedcheck.expected_podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml/") == expected


# --- command line ----------------------------------------------------------------------------


def test_command_line_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = DATA / "minimal-valid.xml"
    assert feedcheck.main([str(good)]) == 0
    assert capsys.readouterr().out == ""
    bad = DATA / "atom-not-rss.xml"
    assert feedcheck.main([str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: error: document: " in out
    assert "[rss.root]" in out
    assert feedcheck.main([str(tmp_path / "missing.xml")]) == 1
    assert "[io]" in capsys.readouterr().out


def test_strict_turns_warnings_into_failure(tmp_path: Path, our_rss: str) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(
        broken(
            our_rss,
            "<itunes:explicit>true</itunes:explicit>",
            "<itunes:explicit>clean</itunes:explicit>",
        )
    )
    assert feedcheck.main([str(feed)]) == 0
    assert feedcheck.main(["--strict", str(feed)]) == 1


# --- real-world feeds: never a crash, always findings as data --------------------------------


@pytest.mark.corpus
def test_every_corpus_feed_gives_findings_not_exceptions() -> None:
    feeds = CORPUS / "feeds"
    results = {path.name: check_feed(path.read_bytes()) for path in sorted(feeds.iterdir())}
    assert len(results) > 100
    assert all(isinstance(f, Finding) for findings in results.values() for f in findings)
    broken_xml = {name for name, findings in results.items() if "xml.wellformed" in rules(findings)}
    assert "argl_broken_empty-0-bytes.xml" in broken_xml
    assert "argl_broken_unescaped-ampersand.xml" in broken_xml
    assert any(not errors(findings) for findings in results.values())


# --- never a crash ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_findings_not_exceptions(data: bytes) -> None:
    findings = check_feed(data)
    assert all(isinstance(finding, Finding) for finding in findings)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_damaged_copies_of_our_feed_give_findings_not_exceptions(data: st.DataObject) -> None:
    original = our_feed().encode()
    start = data.draw(st.integers(0, len(original) - 1))
    end = data.draw(st.integers(start, min(len(original), start + 40)))
    replacement = data.draw(st.binary(max_size=20))
    damaged = original[:start] + replacement + original[end:]
    findings = check_feed(damaged)
    assert all(isinstance(finding, Finding) for finding in findings)
    if damaged != original and findings == []:
        ET.fromstring(damaged)  # a harmless change (inside text) must still be a feed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>!-/[]?&;#x a=\"'pCDATA")), max_size=40))
def test_any_markup_in_a_description_gives_findings_not_exceptions(markup: str) -> None:
    feed = our_feed()
    escaped = markup.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    data = broken(feed, "&lt;p&gt;Part 1&lt;/p&gt;", escaped)
    assert not errors(check_rss(data))
