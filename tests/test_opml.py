"""OPML import: new feeds appended to feeds.yaml as text, duplicates and junk skipped."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.cli.opml import (
    OpmlError,
    OpmlFeed,
    append_feeds,
    feed_url_key,
    http_feed_url,
    import_opml,
    read_opml,
)
from devcasts.errors import ConfigError

DATA = Path(__file__).parent / "data" / "opml"


@pytest.fixture
def feeds_yaml(tmp_path: Path) -> Path:
    target = tmp_path / "feeds.yaml"
    shutil.copyfile(DATA / "feeds.yaml", target)
    return target


def _feeds(path: Path) -> list[dict[str, object]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["feeds"]


def test_import_appends_new_feeds_after_the_existing_ones(feeds_yaml: Path) -> None:
    report = import_opml((DATA / "subscriptions.opml").read_bytes(), feeds_yaml)

    assert [feed.url for feed in report.added] == [
        "https://feeds.example.org/deploy-friday.xml",
        "HTTPS://Feeds.Example.NET/queue-and-cache/",
        "https://ops.example.com/rss",
        "https://feeds.example.org/odd?id=7&fmt=mp3",
    ]
    feeds = _feeds(feeds_yaml)
    assert feeds[0]["title"] == "Listed Show"
    assert feeds[1]["url"] == "feeds/local.xml"
    assert feeds[2:] == [
        {
            "url": "https://feeds.example.org/deploy-friday.xml",
            "title": "Deploy Friday",
            "include": "all",
        },
        {
            "url": "HTTPS://Feeds.Example.NET/queue-and-cache/",
            "title": "Queue & Cache",
            "include": "all",
        },
        {"url": "https://ops.example.com/rss", "title": "Ops Ünder Pressure", "include": "all"},
        {
            "url": "https://feeds.example.org/odd?id=7&fmt=mp3",
            "title": 'Title: with # and "quotes"',
            "include": "all",
        },
    ]


def test_import_keeps_comments_and_layout(feeds_yaml: Path) -> None:
    before = feeds_yaml.read_text(encoding="utf-8").splitlines()
    import_opml((DATA / "subscriptions.opml").read_bytes(), feeds_yaml)
    after = feeds_yaml.read_text(encoding="utf-8").splitlines()

    inserted_at = before.index("    include: all") + 1  # end of the last existing entry
    assert after[:inserted_at] == before[:inserted_at]
    assert after[-len(before[inserted_at:]) :] == before[inserted_at:]
    assert after[inserted_at] == '  - url: "https://feeds.example.org/deploy-friday.xml"'
    assert after[-1] == "# A trailing comment at the end of the file."


def test_import_reports_duplicates_and_outlines_without_a_url(feeds_yaml: Path) -> None:
    report = import_opml((DATA / "subscriptions.opml").read_bytes(), feeds_yaml)

    assert report.skipped_duplicates == (
        "http://LISTED.example.com/podcast/feed/",
        "https://feeds.example.org/deploy-friday.xml#dup",
    )
    assert report.skipped_without_url == (
        "A show whose export lost its URL",
        "Empty URL attribute",
    )
    assert report.skipped_invalid == ("javascript:alert(1)", "file:///etc/passwd")
    assert report.describe(Path("feeds.yaml")) == (
        "Added 4 feeds to feeds.yaml; skipped 2 already listed, 2 without a feed URL,"
        " 2 with an unsupported URL"
    )


def test_second_import_adds_nothing_and_leaves_the_file_alone(feeds_yaml: Path) -> None:
    opml = (DATA / "subscriptions.opml").read_bytes()
    import_opml(opml, feeds_yaml)
    first = feeds_yaml.read_bytes()

    report = import_opml(opml, feeds_yaml)

    assert report.added == ()
    assert len(report.skipped_duplicates) == 6
    assert feeds_yaml.read_bytes() == first


@pytest.mark.parametrize("name", ["entities.opml", "external-entity.opml"])
def test_a_dtd_is_refused_before_anything_expands(feeds_yaml: Path, name: str) -> None:
    before = feeds_yaml.read_bytes()
    with pytest.raises(OpmlError, match="DOCTYPE"):
        import_opml((DATA / name).read_bytes(), feeds_yaml)
    assert feeds_yaml.read_bytes() == before


def test_broken_xml_inside_the_body_is_an_error() -> None:
    with pytest.raises(OpmlError, match="not well-formed"):
        read_opml((DATA / "broken-middle.opml").read_bytes())


def test_a_broken_tail_after_the_body_loses_nothing() -> None:
    feeds, _ = read_opml((DATA / "broken-tail.opml").read_bytes())
    assert feeds == [OpmlFeed("https://feeds.example.org/tail.xml", "Tail Show")]


@pytest.mark.parametrize("data", [(DATA / "not-opml.xml").read_bytes(), b"", b"\x00\xff junk"])
def test_what_is_not_opml_is_refused(data: bytes) -> None:
    with pytest.raises(OpmlError):
        read_opml(data)


def test_category_outlines_are_neither_feeds_nor_missing_urls() -> None:
    opml = b"""<opml version="2.0"><body>
      <outline text="Category"><outline text="Inner" xmlUrl="https://a.example/rss"/></outline>
      <outline text="Feed with its own children" xmlURL="https://b.example/rss">
        <outline text="episode note"/>
      </outline>
      <outline text="Link" type="rss" url="https://c.example/rss"/>
    </body></opml>"""
    feeds, without_url = read_opml(opml)
    assert [feed.url for feed in feeds] == [
        "https://a.example/rss",
        "https://b.example/rss",
        "https://c.example/rss",
    ]
    assert without_url == ["episode note"]


def test_an_empty_feeds_list_is_filled(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("site:\n  title: t\nfeeds: []  # none yet\ntopics: []\n", encoding="utf-8")
    import_opml(
        b'<opml><body><outline text="A" xmlUrl="https://a.example/rss"/></body></opml>', path
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["feeds"] == [{"url": "https://a.example/rss", "title": "A", "include": "all"}]
    assert data["topics"] == []


def test_a_missing_feeds_key_is_added_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("site:\n  title: t\n\n\n", encoding="utf-8")
    import_opml(b'<opml><body><outline xmlUrl="https://a.example/rss"/></body></opml>', path)
    assert path.read_text(encoding="utf-8") == (
        'site:\n  title: t\nfeeds:\n  - url: "https://a.example/rss"\n    include: all\n'
    )


def test_items_at_column_zero_and_crlf_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(b"feeds:\r\n- url: https://old.example/rss\r\n  include: all\r\nsite: {}\r\n")
    import_opml(b'<opml><body><outline xmlUrl="https://new.example/rss"/></body></opml>', path)
    assert path.read_bytes() == (
        b"feeds:\r\n- url: https://old.example/rss\r\n  include: all\r\n"
        b'- url: "https://new.example/rss"\r\n  include: all\r\nsite: {}\r\n'
    )


def test_a_flow_style_list_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text('feeds: [{url: "https://old.example/rss"}]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="feeds"):
        import_opml(b'<opml><body><outline xmlUrl="https://new.example/rss"/></body></opml>', path)
    assert path.read_text(encoding="utf-8") == 'feeds: [{url: "https://old.example/rss"}]\n'


def test_a_missing_feeds_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        import_opml(b"<opml><body/></opml>", tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/rss", "https://a.example/rss"),
        ("  http://a.example/rss ", "http://a.example/rss"),
        ("feed://a.example/rss", "https://a.example/rss"),
        ("feed:https://a.example/rss", "https://a.example/rss"),
        ("itpc://a.example/rss", "https://a.example/rss"),
        ("javascript:alert(1)", None),
        ("data:text/xml,<rss/>", None),
        ("https:///no-host", None),
        ("https://a.example:99999/rss", None),
        ("https://a.example/with space", None),
        ("relative/feed.xml", None),
    ],
)
def test_http_feed_url(url: str, expected: str | None) -> None:
    assert http_feed_url(url) == expected


def test_feed_url_key_ignores_scheme_host_case_port_and_trailing_slash() -> None:
    same = {
        feed_url_key(url)
        for url in (
            "https://Example.COM/feed/",
            "http://example.com/feed",
            "https://example.com:443/feed#top",
            "feed://example.com/feed/",
        )
    }
    assert len(same) == 1
    assert feed_url_key("https://example.com/feed?x=1") != feed_url_key("https://example.com/feed")
    assert feed_url_key("https://example.com:8443/feed") != feed_url_key("https://example.com/feed")


def test_a_byte_order_mark_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(b"\xef\xbb\xbffeeds:\n  - url: https://old.example/rss\n")
    import_opml(b'<opml><body><outline xmlUrl="https://new.example/rss"/></body></opml>', path)
    assert path.read_bytes() == (
        b"\xef\xbb\xbffeeds:\n  - url: https://old.example/rss\n"
        b'  - url: "https://new.example/rss"\n    include: all\n'
    )


@pytest.mark.parametrize("encoding", ["iso-8859-1", "utf-16"])
def test_the_declared_encoding_is_honoured(encoding: str) -> None:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        '<opml version="1.0"><body><outline text="Café Öl" xmlUrl="https://a.example/rss"/>'
        "</body></opml>"
    )
    feeds, _ = read_opml(text.encode(encoding))
    assert feeds == [OpmlFeed("https://a.example/rss", "Café Öl")]


def test_titles_become_one_bounded_line() -> None:
    long_title = "Tabs&#9;and&#10;new&#x2028;lines&#x85;" + "x" * 500  # kept by XML
    opml = f'<opml><body><outline text="{long_title}" xmlUrl="https://a.example/"/></body></opml>'
    ((feed,), _) = read_opml(opml.encode())
    assert feed.title.startswith("Tabs and new lines x")
    assert len(feed.title) == 200


_HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,2}", fullmatch=True)
_PATHS = st.from_regex(r"(/[a-zA-Z0-9._~-]{1,8}){0,3}", fullmatch=True)


@given(host=_HOSTS, path=_PATHS, secure=st.booleans(), slash=st.booleans())
def test_feed_url_key_sees_through_spelling_variants(
    host: str, path: str, secure: bool, slash: bool
) -> None:
    plain = f"http://{host}{path}"
    variant = f"{'https' if secure else 'HTTP'}://{host.upper()}{path}{'/' if slash else ''}"
    assert feed_url_key(variant) == feed_url_key(plain)
    assert feed_url_key(feed_url_key(plain)) == feed_url_key(plain)
    assert feed_url_key(plain + "x") != feed_url_key(plain) or path.endswith("/")


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=150, deadline=None)
@given(titles=st.lists(_TEXT, min_size=1, max_size=4), indent=st.sampled_from([0, 2, 4]))
def test_appended_entries_read_back_as_written(titles: list[str], indent: int) -> None:
    pad = " " * indent
    text = f"# header\nfeeds:\n{pad}- url: https://old.example/rss\n{pad}  include: topics\n"
    feeds = [
        OpmlFeed(url=f"https://n{number}.example/rss?t={number}", title=title)
        for number, title in enumerate(titles)
    ]
    new_text = append_feeds(text, feeds, Path("feeds.yaml"))
    loaded = yaml.safe_load(new_text)["feeds"]
    assert new_text.startswith(text)
    assert loaded[0] == {"url": "https://old.example/rss", "include": "topics"}
    assert [entry["url"] for entry in loaded[1:]] == [feed.url for feed in feeds]
    assert [entry.get("title", "") for entry in loaded[1:]] == [feed.title for feed in feeds]


@settings(max_examples=150, deadline=None)
@given(title=_TEXT, url=_TEXT)
def test_any_outline_attributes_import_safely(tmp_path_factory, title: str, url: str) -> None:
    from xml.sax.saxutils import quoteattr

    path = tmp_path_factory.mktemp("p") / "feeds.yaml"
    path.write_text("site:\n  title: t\nfeeds:\n", encoding="utf-8")
    try:
        body = f"<outline text={quoteattr(title)} xmlUrl={quoteattr(url)}/>"
        report = import_opml(f"<opml><body>{body}</body></opml>".encode(), path)
    except OpmlError:
        return  # characters XML itself forbids
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))["feeds"] or []
    assert [entry["url"] for entry in loaded] == [feed.url for feed in report.added]
    assert all(entry["url"].startswith(("http://", "https://")) for entry in loaded)


# --- the real-world OPML files of the corpus -----------------------------------------------


def _corpus_opml_files() -> list[str]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return sorted(row["file"] for row in rows if row["file"].endswith(".opml"))


# Expected counts: feeds added to an empty list, outlines reported without a URL.
_CORPUS_EXPECTED = {
    "opml_castero_broken-mismatched-end-tag.opml": (2, 0),
    "opml_janw_downcast-export.opml": (1, 0),
    "opml_janw_itunes-export-23-german-podcasts.opml": (23, 0),
    "opml_janw_pocketcasts-export.opml": (1, 2),
    "opml_nnw_subs-211-feeds.opml": (206, 0),  # one feed is listed twice
    "opml_nnw_subs-no-title-attributes.opml": (206, 0),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", _corpus_opml_files() or ["(corpus absent)"])
def test_corpus_opml_imports(tmp_path: Path, name: str) -> None:
    source = CORPUS / "feeds" / name
    path = tmp_path / "feeds.yaml"
    path.write_text("# mine\nsite:\n  title: t\nfeeds:\n", encoding="utf-8")
    opml = source.read_bytes()

    report = import_opml(opml, path)

    added, without_url = _CORPUS_EXPECTED.get(name, (len(report.added), None))
    assert len(report.added) == added > 0
    if without_url is not None:
        assert len(report.skipped_without_url) == without_url
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))["feeds"]
    assert [entry["url"] for entry in loaded] == [feed.url for feed in report.added]
    assert all(entry.get("title") for entry in loaded)  # text= stands in for a missing title
    again = import_opml(opml, path)
    assert again.added == ()
    assert len(again.skipped_duplicates) == added + len(report.skipped_duplicates)


# --- through the command line -------------------------------------------------------------


def test_import_opml_command(feeds_yaml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from devcasts.cli.main import main

    code = main(["import-opml", str(DATA / "subscriptions.opml"), "--feeds", str(feeds_yaml)])

    assert code == 0
    assert "Added 4 feeds" in capsys.readouterr().out
    assert len(_feeds(feeds_yaml)) == 6


def test_import_opml_command_refuses_a_dtd(
    feeds_yaml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devcasts.cli.main import main

    before = feeds_yaml.read_bytes()
    code = main(["import-opml", str(DATA / "entities.opml"), "--feeds", str(feeds_yaml)])

    assert code != 0
    assert "DOCTYPE" in capsys.readouterr().err
    assert feeds_yaml.read_bytes() == before
