"""parse.parse_feed on small fixture feeds, one quirk each (tests/data/parse/)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devcasts.ingest import parse
from devcasts.ingest.limits import NOTES_LIMIT, TITLE_LIMIT
from devcasts.ingest.parse import parse_feed, strip_doctype
from devcasts.ingest.podcast_ns import ItemExtras, _merge_item
from devcasts.records import NotAFeedError, ParsedFeed, ParsedItem, RawPerson

DATA = Path(__file__).parent / "data" / "parse"
XML_HEADERS = {"Content-Type": "application/rss+xml"}
ITUNES = b"http://www.itunes.com/dtds/podcast-1.0.dtd"


def load(name: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    body = (DATA / name).read_bytes()
    return parse_feed(body, headers or XML_HEADERS, "https://example.com/feed.xml")


def rss(items: str, channel_extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Fixture Show</title>{channel_extra}{items}</channel></rss>"
    ).encode()


# --- encodings ------------------------------------------------------------------------------


def test_iso_8859_1_is_decoded() -> None:
    feed = load("iso-8859-1.xml", {})
    assert feed.title == "Café Déploiement"
    assert feed.items[0].title == "Épisode 1 : à la découverte des conteneurs"


def test_windows_1252_quotes_and_euro_sign() -> None:
    feed = load("windows-1252.xml", {})
    assert feed.title == "Budget “Cloud” Talk"
    assert feed.items[0].title == "Why your “free tier” costs 40 €"


def test_utf16_document_is_read() -> None:
    body = rss("<item><title>Wide</title><guid>w-1</guid></item>").decode()
    body = body.replace('encoding="utf-8"', 'encoding="utf-16"')
    feed = parse_feed(b"\xff\xfe" + body.encode("utf-16-le"), {}, "https://example.com/f")
    assert [item.title for item in feed.items] == ["Wide"]


# --- items and fields -----------------------------------------------------------------------


def test_items_without_guid_keep_an_empty_guid() -> None:
    feed = load("no-guid.xml")
    assert [item.guid for item in feed.items] == ["", "", ""]
    assert feed.items[0].enclosures[0].url == "https://media.example.com/guidless/one.mp3?src=feed"
    assert feed.items[1].link == "https://example.com/guidless/two"


def test_duplicate_guids_are_all_returned_by_the_parser() -> None:
    feed = load("duplicate-guids.xml")
    assert [item.guid for item in feed.items] == [
        "echo-12",
        "echo-12",
        "echo-11-a",
        "echo-11-b",
        "echo-10",
    ]


def test_every_repeated_podcast_person_and_transcript_survives() -> None:
    feed = load("podcast-namespace.xml")
    item = feed.items[0]
    assert [(p.name, p.role) for p in item.people] == [
        ("Ada Example", "host"),
        ("Bo Sample", "guest"),
        ("Cy Placeholder", "guest"),
    ]
    assert item.people[1].href == "https://example.org/bo"
    assert item.people[1].img == "https://example.org/bo.jpg"
    assert [t.url for t in item.transcripts] == [
        "https://example.com/people/3.vtt",
        "https://example.com/people/3.srt",
    ]
    assert item.transcripts[0].language == "en"
    assert item.chapters_url == "https://example.com/people/3.chapters.json"
    assert feed.items[1].people == ()


def test_the_second_pass_changes_only_the_items_it_adds_to() -> None:
    ns = 'xmlns:podcast="https://podcastindex.org/namespace/1.0"'
    body = (
        f'<?xml version="1.0"?><rss version="2.0" {ns}><channel><title>Show</title>'
        "<item><title>Plain</title><guid>a</guid></item>"
        '<item><title>Extras</title><guid>b</guid><podcast:person role="guest">Ada</podcast:person>'
        "<podcast:person>Bo</podcast:person></item>"
        "</channel></rss>"
    ).encode()
    result = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    plain, extras = parse._convert(result).items
    merged = parse_feed(body, XML_HEADERS, "https://example.com/feed.xml").items
    assert merged[0] == plain
    assert [p.name for p in merged[1].people] == ["Ada", "Bo"]
    assert merged[1] == replace(extras, people=merged[1].people)


def test_channel_level_podcast_elements_and_raw_explicit() -> None:
    feed = load("podcast-namespace.xml")
    assert feed.podcast_guid == "5f0c2a47-0000-4000-8000-00000000abcd"
    assert [p.name for p in feed.people] == ["Ada Example"]
    assert feed.explicit == "true"  # feedparser alone would have lost it
    assert feed.items[0].explicit == "no"


def test_merging_copies_an_item_only_when_the_second_pass_changes_it() -> None:
    item = ParsedItem(guid="a", title="Plain", explicit="clean", people=(RawPerson(name="Ada"),))
    assert _merge_item(item, ItemExtras()) is item
    same = ItemExtras(guid="a", people=[RawPerson(name="Ada")], explicit="clean")
    assert _merge_item(item, same) is item
    unread = ParsedItem(guid="a", explicit="")  # feedparser's reading of "false"
    assert _merge_item(unread, ItemExtras(guid="a", explicit="false")) == replace(
        unread, explicit="false"
    )
    body = rss(
        "<item><title>A</title><guid>a</guid><itunes:explicit>false</itunes:explicit></item>"
    )
    body = body.replace(b'version="2.0"', b'version="2.0" xmlns:itunes="' + ITUNES + b'"')
    feed = parse_feed(body, XML_HEADERS, "https://example.com/feed.xml")
    assert feed.items[0].explicit == "false"


def test_psc_chapters_are_read_in_order() -> None:
    chapters = load("psc-chapters.xml").items[0].psc_chapters
    assert [(c.start, c.title) for c in chapters] == [
        ("0", "Welcome"),
        ("00:02:30", "Browser cache"),
        ("00:15:00.500", "CDN edge"),
        ("1:02:03", "Wrap-up"),
    ]
    assert chapters[2].href == "https://example.com/cdn"


def test_atom_entry_fields() -> None:
    feed = load("atom.xml", {"Content-Type": "application/atom+xml"})
    item = feed.items[0]
    assert feed.title == "Atomic Deploys"
    assert feed.link == "https://example.com/atomic/"
    assert item.guid == "urn:example:atomic:4"
    assert item.link == "https://example.com/atomic/4"
    assert item.enclosures[0].url == "https://media.example.com/atomic/4.ogg"
    assert item.enclosures[0].type == "audio/ogg"
    assert item.enclosures[0].length == "4242"
    assert item.published_parsed == datetime(2024, 9, 12, 8, 0, tzinfo=UTC)
    assert "Expand, migrate, contract." in item.content


def test_missing_dates_stay_empty() -> None:
    items = load("missing-dates.xml").items
    assert items[0].published == ""
    assert items[0].published_parsed is None
    assert items[1].published == "sometime last spring"


def test_json_feed() -> None:
    feed = load("feed.json", {"Content-Type": "application/feed+json"})
    item = feed.items[0]
    assert feed.title == "JSON Jams"
    assert feed.author == "Dee Fictional"
    assert item.guid == "jams-2"
    assert item.enclosures[0].length == "31337"
    assert item.duration == "1830"
    assert item.categories == ("serverless",)
    assert item.published == "2024-09-15T09:30:00-04:00"


def test_not_well_formed_document_still_parses_without_the_second_pass() -> None:
    feed = load("not-well-formed-persons.xml")
    assert feed.bozo
    assert feed.items[0].title == "Still readable"
    assert feed.items[0].enclosures[0].url == "https://media.example.com/broken/1.mp3"
    # feedparser's single transcript stands in for the second pass
    assert [t.url for t in feed.items[0].transcripts] == ["https://example.com/broken/1.vtt"]


def test_relative_urls_are_left_for_normalize_to_resolve() -> None:
    body = rss('<item><title>R</title><enclosure url="/audio/r.mp3" type="audio/mpeg"/></item>')
    feed = parse_feed(body, XML_HEADERS, "https://example.com/feed.xml")
    assert feed.items[0].enclosures[0].url == "/audio/r.mp3"


def test_media_content_stands_in_for_a_missing_enclosure() -> None:
    body = rss(
        '<item><title>M</title><media:content xmlns:media="http://search.yahoo.com/mrss/" '
        'url="https://media.example.com/m.mp4" medium="video"/></item>'
    )
    item = parse_feed(body, XML_HEADERS, "https://example.com/f").items[0]
    assert [e.url for e in item.enclosures] == ["https://media.example.com/m.mp4"]


# --- bounds and hostile input ---------------------------------------------------------------


def test_huge_fields_are_cut_to_their_bounds() -> None:
    huge_title = "T" * (TITLE_LIMIT * 50)
    huge_notes = "n" * (NOTES_LIMIT * 3)
    body = rss(f"<item><title>{huge_title}</title><description>{huge_notes}</description></item>")
    item = parse_feed(body, XML_HEADERS, "https://example.com/f").items[0]
    assert len(item.title) == TITLE_LIMIT
    assert len(item.description) == NOTES_LIMIT


def test_entity_bomb_in_the_doctype_is_defused() -> None:
    big = "x" * 10_000  # no "&" inside: feedparser keeps such an entity and expands it
    refs = "&big;" * 2_000  # 20 MB per field once expanded
    body = (  # the bare "&" makes it ill-formed: feedparser's loose parser takes over
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{big}">\n]>\n'
        f"<rss version='2.0'><channel><title>Bomb & co</title><item><title>{refs}</title>"
        f"<description>{refs}</description></item></channel></rss>"
    ).encode()
    started = time.process_time()  # CPU time: other processes on a busy machine do not count
    feed = parse_feed(body, XML_HEADERS, "https://example.com/f")
    assert time.process_time() - started < 5
    assert feed.title == "Bomb & co"
    assert "x" * 100 not in feed.items[0].title + feed.items[0].description


def test_doctype_is_stripped_in_utf16_too() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY e "boom">]><rss/>'
    stripped = strip_doctype(text.encode("utf-16-le"))
    assert stripped.decode("utf-16-le") == '<?xml version="1.0" encoding="utf-16"?><rss/>'


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("<?xml version='1.0'?><rss/>", "<?xml version='1.0'?><rss/>"),
        ('<!DOCTYPE rss PUBLIC "-//x//EN" "http://x.invalid/">\n<rss/>', "\n<rss/>"),
        ("<!doctype rss [<!ENTITY a 'x]y'>]><rss/>", "<rss/>"),
        ("<!DOCTYPE rss [<!ENTITY a 'unterminated'", ""),
        (
            "<!--" + "c" * 100_000 + "--><!DOCTYPE r [<!ENTITY a 'x'>]><r/>",
            "<!--" + "c" * 100_000 + "--><r/>",
        ),
        (
            "<rss><![CDATA[<!DOCTYPE html [x]>]]></rss>",
            "<rss><![CDATA[<!DOCTYPE html [x]>]]></rss>",
        ),
    ],
)
def test_strip_doctype(document: str, expected: str) -> None:
    assert strip_doctype(document.encode()) == expected.encode()


def strip_doctype_the_long_way(body: bytes) -> bytes:
    """strip_doctype without its quick look for "<!doctype" first."""
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        root = parse._element_start(codec).search(body)
        prolog_end = root.start() if root else len(body)
        match = parse._doctype_start(codec).search(body, 0, prolog_end)
        if match:
            return body[: match.start()] + body[parse._doctype_end(body, match.end(), codec) :]
    return body


@given(
    st.lists(st.sampled_from(["<!DOCTYPE x [", "<!dOcTyPe r>", "]>", "<rss>", "<", "!", "d", " "]))
    .map("".join)
    .flatmap(
        lambda text: st.sampled_from([text.encode(c) for c in ("utf-8", "utf-16-le", "utf-32-be")])
    )
)
def test_strip_doctype_looks_only_where_a_doctype_is(body: bytes) -> None:
    assert strip_doctype(body) == strip_doctype_the_long_way(body)


def test_doctype_with_a_subset_still_yields_the_items() -> None:
    feed = load("doctype-subset.xml")
    assert feed.title.startswith("Declared")
    assert [item.guid for item in feed.items] == ["entity-1"]


# --- not feeds ------------------------------------------------------------------------------


def test_html_error_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError, match="HTML"):
        load("html-error-page.html", {"Content-Type": "text/html"})


@pytest.mark.parametrize("body", [b"", b"   \n\t ", b"\xef\xbb\xbf"])
def test_empty_body_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(NotAFeedError, match="empty"):
        parse_feed(body, {}, "https://example.com/f")


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        b"ID3\x04\x00\x00" + b"\xff\xfb\x90" * 300,
        bytes(range(256)) * 4,
    ],
)
def test_binary_body_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(NotAFeedError, match="binary"):
        parse_feed(body, {"Content-Type": "application/octet-stream"}, "https://example.com/f")


def test_utf16_without_bom_is_not_mistaken_for_binary() -> None:
    text = rss("<item><title>Wide</title></item>").decode().replace("utf-8", "utf-16")
    feed = parse_feed(text.encode("utf-16-be"), {}, "https://example.com/f")
    assert [item.title for item in feed.items] == ["Wide"]


def test_rss_without_channel_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(b"<rss version='2.0'><nochannel/></rss>", XML_HEADERS, "https://e.com/f")


def test_json_that_is_not_a_json_feed() -> None:
    with pytest.raises(NotAFeedError, match="JSON"):
        parse_feed(b'{"hello": "world"}', {}, "https://example.com/f")


# --- how feedparser is called ---------------------------------------------------------------


def test_feedparser_gets_bytes_headers_and_no_sanitizing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    real_parse = feedparser.parse

    def spy(document: Any, **kwargs: Any) -> Any:
        calls.append((document, kwargs))
        return real_parse(document, **kwargs)

    monkeypatch.setattr(parse.feedparser, "parse", spy)
    load("atom.xml", {"Content-Type": "application/atom+xml", "ETag": "abc"})
    (document, kwargs), *_ = calls
    assert isinstance(document, bytes)
    assert kwargs["sanitize_html"] is False
    assert kwargs["resolve_relative_uris"] is False
    assert kwargs["response_headers"]["content-type"] == "application/atom+xml"


# --- properties -----------------------------------------------------------------------------

_FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_not_a_feed(body: bytes) -> None:
    try:
        feed = parse_feed(body, {}, "https://example.com/f")
    except NotAFeedError:
        return
    assert feed.items or feed.title


@_FAST
@given(st.text(max_size=200), st.text(max_size=200))
def test_arbitrary_text_in_fields_is_bounded_and_never_crashes(title: str, notes: str) -> None:
    from xml.sax.saxutils import escape

    body = rss(
        f"<item><title>{escape(title)}</title><guid>g</guid>"
        f"<description>{escape(notes)}</description></item>"
    )
    feed = parse_feed(body, XML_HEADERS, "https://example.com/f")
    assert len(feed.items) <= 1
    for item in feed.items:
        assert len(item.title) <= TITLE_LIMIT
        assert len(item.description) <= NOTES_LIMIT


_NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)


@_FAST
@given(st.lists(_NAMES.filter(str.strip), max_size=8))
def test_every_repeated_person_survives_in_order(names: list[str]) -> None:
    from xml.sax.saxutils import escape

    persons = "".join(f"<podcast:person>{escape(name)}</podcast:person>" for name in names)
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>P</title>'
        f"<item><title>I</title><guid>g</guid>{persons}</item></channel></rss>"
    ).encode()
    (item,) = parse_feed(body, XML_HEADERS, "https://example.com/f").items
    assert [person.name for person in item.people] == [name.strip() for name in names]


# --- the item cap -----------------------------------------------------------------------------


def _items(count: int) -> str:
    return "".join(
        f"<item><title>Episode {n}</title><guid>g{n}</guid></item>" for n in range(count)
    )


def test_items_past_the_cap_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_ITEMS", 3)
    feed = parse_feed(rss(_items(5)), XML_HEADERS, "https://example.com/feed.xml")
    assert [item.guid for item in feed.items] == ["g0", "g1", "g2"]
    assert feed.items_left_out == 2
    at_cap = parse_feed(rss(_items(3)), XML_HEADERS, "https://example.com/feed.xml")
    assert (len(at_cap.items), at_cap.items_left_out) == (3, 0)


def test_json_feed_items_past_the_cap_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from devcasts.ingest import jsonfeed

    monkeypatch.setattr(jsonfeed, "MAX_ITEMS", 2)
    items = [{"id": str(n), "title": f"Episode {n}"} for n in range(7)]
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    feed = parse_feed(json.dumps(document).encode(), {}, "https://example.com/feed.json")
    assert (len(feed.items), feed.items_left_out) == (2, 5)


def test_the_build_summary_says_how_many_items_were_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devcasts.health import feed_health
    from devcasts.ingest import read
    from devcasts.model import FeedSource, FetchResult, FetchStatus

    monkeypatch.setattr(parse, "MAX_ITEMS", 3)
    monkeypatch.setattr(read, "MAX_ITEMS", 3)
    body = rss(_items(5))
    source = FeedSource(url="https://example.com/feed.xml", slug="show")
    fetched = FetchResult(source, FetchStatus.OK, body, "hash", url=source.url)
    whole = FetchResult(source, FetchStatus.OK, rss(_items(2)), "hash2", url=source.url)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    reads = read.read_feeds([(fetched, body), (whole, rss(_items(2)))], (), now)
    health = feed_health([r.outcome for r in reads], {}, {})
    assert [(h.status, h.reason) for h in health] == [
        (FetchStatus.OK, "2 items past the 3 cap were left out"),
        (FetchStatus.OK, None),
    ]
    assert read.items_left_out_note(12_345) == "12,345 items past the 3 cap were left out"
    assert read.items_left_out_note(1) == "1 item past the 3 cap was left out"
