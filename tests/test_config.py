"""feeds.yaml validation: good files load; every mistake names the file, the line and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devcasts.config.load import load_config
from devcasts.errors import ConfigError

GOOD = """\
site:
  title: devcasts
  base_url: https://example.github.io/devcasts
  description: Podcast episodes about developer platforms
  feed_limit: 50
  block: false
topics:
  - slug: heroku
    name: Heroku
    patterns: ["Heroku"]
feeds:
  - url: local.xml
    include: topics
    title: Local Show
  - url: https://feeds.example.com/ops/rss.xml
    weight: 2.5
  - url: https://example.org/other.xml
    slug: pinned
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "local.xml").write_text("<rss/>", encoding="utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.site.base_url == "https://example.github.io/devcasts/"
    assert config.site.base_path == "/devcasts/"
    assert config.site.feed_limit == 50 and config.site.block is False
    assert [t.slug for t in config.topics] == ["heroku"]
    local, remote, pinned = config.feeds
    assert local.url == str((tmp_path / "local.xml").resolve()) and local.is_local
    assert (local.slug, local.include, local.title, local.line) == (
        "local-show",
        "topics",
        "Local Show",
        12,
    )
    assert (remote.slug, remote.weight, remote.is_local) == ("example-com-ops", 2.5, False)
    assert pinned.slug == "pinned"
    assert config.content_dir == tmp_path / "content"


def test_base_url_override(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), base_url="https://o.example/x")
    assert config.site.base_url == "https://o.example/x/"
    assert config.site.base_path == "/x/"


@pytest.mark.parametrize(
    ("change", "line", "key", "words"),
    [
        (("  feed_limit: 50", "  feed_limit: many"), 5, "site.feed_limit", "whole number"),
        (("  block: false", "  block: maybe"), 6, "site.block", "true or false"),
        (
            ("base_url: https://example.github.io/devcasts", "base_url: ftp://x"),
            3,
            "site.base_url",
            "http",
        ),
        (("    include: topics", "    include: some"), 13, "feeds[0].include", "`all` or `topics`"),
        (("    weight: 2.5", "    wieght: 2.5"), 16, "wieght", "unknown key"),
        (("  - slug: heroku", "  - slug: Her oku"), 8, "topics[0].slug", "lower-case"),
        (
            ('    patterns: ["Heroku"]', "    patterns: []"),
            10,
            "topics[0].patterns",
            "at least one",
        ),
        (
            ('    patterns: ["Heroku"]', '    patterns: ["re:(unclosed"]'),
            10,
            "topics[0].patterns",
            "invalid topic pattern",
        ),
        (("  - url: local.xml", "  - url: missing.xml"), 12, "feeds[0].url", "no such file"),
        (("  - url: local.xml", "  - url: file:///etc/passwd"), 12, "feeds[0].url", "only http"),
        (
            ("    slug: pinned", "    slug: local-show"),
            18,
            "feeds[2].slug",
            "already used on line 12",
        ),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], line: int, key: str, words: str
) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.line, error.key) == (line, key)
    assert str(error).startswith(f"{path}:{line}: {key}: ")
    assert words in str(error)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  title: devcasts", "  title: [devcasts"))
    with pytest.raises(ConfigError, match=r"feeds\.yaml:\d+: not valid YAML"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("feeds: []\n", "site"),
        ("site: {title: t, base_url: 'https://x.example/'}\nfeeds: []\n", "no feeds"),
        ("site: {title: t}\nfeeds: [{url: 'https://x.example/f'}]\n", "site.base_url: missing"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_structural_errors(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_project_configs_are_valid() -> None:
    root = Path(__file__).resolve().parents[1]
    for name in ("feeds.yaml", "examples/feeds.yaml"):
        if (root / name).is_file():
            config = load_config(root / name)
            assert config.feeds


# --- the memo of the validated file ------------------------------------------------------------


def test_an_unchanged_file_is_answered_from_the_memo(tmp_path: Path, monkeypatch) -> None:
    path, cache = write(tmp_path, GOOD), tmp_path / "cache"
    first = load_config(path, cache_dir=cache)
    assert (cache / "config.json").is_file()
    from devcasts.config import schema as config_yaml

    monkeypatch.setattr(config_yaml, "parse_config", None)  # any call would fail
    assert load_config(path, cache_dir=cache) == first


def test_any_change_to_the_file_is_validated_again(tmp_path: Path) -> None:
    path, cache = write(tmp_path, GOOD), tmp_path / "cache"
    load_config(path, cache_dir=cache)
    path.write_text(GOOD.replace("weight: 2.5", "weight: 3"), encoding="utf-8")
    assert load_config(path, cache_dir=cache).feeds[1].weight == 3.0
    path.write_text(GOOD.replace("weight: 2.5", "weight: -1"), encoding="utf-8")
    for _ in range(2):  # a file with an error is never memoized: reported every time
        with pytest.raises(ConfigError, match=r"feeds.yaml:16: feeds\[1\]\.weight"):
            load_config(path, cache_dir=cache)


def test_the_arguments_are_part_of_the_key(tmp_path: Path) -> None:
    path, cache = write(tmp_path, GOOD), tmp_path / "cache"
    load_config(path, cache_dir=cache)
    other = load_config(path, base_url="https://other.example/casts", cache_dir=cache)
    assert other.site.base_url == "https://other.example/casts/"
    assert load_config(path, cache_dir=cache).site.base_url.startswith("https://example.github")


def test_a_vanished_local_feed_is_reported_despite_the_memo(tmp_path: Path) -> None:
    path, cache = write(tmp_path, GOOD), tmp_path / "cache"
    load_config(path, cache_dir=cache)
    (tmp_path / "local.xml").unlink()
    with pytest.raises(ConfigError, match=r"feeds.yaml:12: feeds\[0\]\.url: no such file"):
        load_config(path, cache_dir=cache)


def _damaged(memo: bytes, damage: str) -> bytes:
    header, _, body = memo.partition(b"\n")
    bodies = {"not JSON": b"not json", "a list": b"[]", "another shape": b'{"site": 1}'}
    if damage in bodies:
        return header + b"\n" + bodies[damage]
    if damage == "truncated":
        return memo[: len(memo) // 2]
    if damage == "another fingerprint":
        return header[:-1] + b"0\n" + body
    return b""


@pytest.mark.parametrize(
    "damage", ["empty", "truncated", "not JSON", "a list", "another shape", "another fingerprint"]
)
def test_a_damaged_memo_is_a_miss_and_is_rewritten(tmp_path: Path, damage: str) -> None:
    path, cache = write(tmp_path, GOOD), tmp_path / "cache"
    expected = load_config(path, cache_dir=cache)
    memo = (cache / "config.json").read_bytes()
    (cache / "config.json").write_bytes(_damaged(memo, damage))
    assert load_config(path, cache_dir=cache) == expected
    assert (cache / "config.json").read_bytes() == memo


def test_a_memo_of_another_working_folder_is_not_used(tmp_path: Path, monkeypatch) -> None:
    """Two folders, each with the same feeds.yaml beside its own local.xml: a relative path
    names a different file in each, so the working folder is part of the key."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write(tmp_path / name, GOOD)
    cache = tmp_path / "cache"
    monkeypatch.chdir(tmp_path / "a")
    first = load_config(Path("feeds.yaml"), cache_dir=cache)
    monkeypatch.chdir(tmp_path / "b")
    second = load_config(Path("feeds.yaml"), cache_dir=cache)
    assert first.feeds[0].url == str((tmp_path / "a" / "local.xml").resolve())
    assert second.feeds[0].url == str((tmp_path / "b" / "local.xml").resolve())


# --- hostile and careless configurations: exit 2 with FILE:LINE: KEY:, never a traceback -----

SITE = "site:\n  title: T\n  base_url: https://example.org/\n  email: crew@example.org\n"


def feeds_yaml(tmp_path: Path, *urls: str, site: str = SITE) -> Path:
    listed = "".join(f"  - url: {url!r}\n" for url in urls)
    path = tmp_path / "feeds.yaml"
    path.write_text(f"{site}feeds:\n{listed}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://xn--/f", "not a valid host name"),
        ("https://xn--zz-zz.example/f", "not a valid host name"),
        ("http://[::1", "not a valid URL"),
        ("http://[zz]/f", "not a valid URL"),
        ("https://example.org:99999/f", "not a valid URL"),
        ("https://example.org:port/f", "not a valid URL"),
        ("https:///f", "no host"),
        ("https://exa mple.org/f", "spaces or control characters"),
    ],
)
def test_a_url_that_cannot_be_fetched_is_refused(tmp_path: Path, url: str, words: str) -> None:
    path = feeds_yaml(tmp_path, "https://example.org/good.xml", url)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:7: feeds[1].url: ")
    assert words in str(caught.value)


def test_an_internationalized_host_is_accepted(tmp_path: Path) -> None:
    path = feeds_yaml(tmp_path, "https://bücher.example/f", "https://xn--bcher-kva.example/g")
    assert len(load_config(path).feeds) == 2


@pytest.mark.parametrize("base_url", ["http://[::1", "https://xn--/", "ftp://example.org/"])
def test_a_bad_base_url_is_refused(tmp_path: Path, base_url: str) -> None:
    site = f"site:\n  title: T\n  base_url: {base_url!r}\n"
    path = feeds_yaml(tmp_path, "https://example.org/f", site=site)
    with pytest.raises(ConfigError, match=rf"^{path}:3: site\.base_url: "):
        load_config(path)
    with pytest.raises(ConfigError, match=r": --base-url: "):
        load_config(feeds_yaml(tmp_path, "https://example.org/f"), base_url=base_url)


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("!!python/object:os.system T", "unsupported YAML tag"),
        ("!!python/object/apply:os.system ['touch pwned']", "expected a single value"),
        ("!!binary aGk=", "expected text"),
    ],
)
def test_a_python_tag_is_refused_and_never_run(tmp_path: Path, title: str, words: str) -> None:
    site = f"site:\n  title: {title}\n  base_url: https://e.org/\n"
    path = feeds_yaml(tmp_path, "https://example.org/f", site=site)
    with pytest.raises(ConfigError, match=rf"^{path}:2: site\.title: {re.escape(words)}"):
        load_config(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("weight", [".nan", ".inf", "-.inf", ".NaN"])
def test_weight_must_be_finite(tmp_path: Path, weight: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"{SITE}feeds:\n  - url: https://e.org/f\n    weight: {weight}\n", "utf-8")
    with pytest.raises(ConfigError, match=r":7: feeds\[0\]\.weight: expected a number >= 0"):
        load_config(path)


@pytest.mark.parametrize(
    "twin",
    [
        "HTTPS://Example.ORG/feed.xml",
        "https://example.org:443/feed.xml",
        "https://EXAMPLE.org:443/feed.xml",
    ],
)
def test_the_same_feed_in_other_case_or_with_its_default_port_is_a_duplicate(
    tmp_path: Path, twin: str
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"{SITE}feeds:\n  - url: https://example.org/feed.xml\n  - url: {twin}\n    slug: twin\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r":7: feeds\[1\]\.url: same feed as on line 6"):
        load_config(path)


def test_other_ports_paths_and_schemes_are_other_feeds(tmp_path: Path) -> None:
    urls = ["https://e.org/f", "https://e.org:8443/f", "https://e.org/F", "http://e.org/f"]
    path = tmp_path / "feeds.yaml"
    listed = "".join(f"  - url: {u}\n    slug: s{i}\n" for i, u in enumerate(urls))
    path.write_text(f"{SITE}feeds:\n{listed}", "utf-8")
    assert len(load_config(path).feeds) == 4


def test_an_upper_case_scheme_is_a_url_never_a_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file whose path reads like the URL must not be what the build publishes.
    (tmp_path / "HTTP:" / "example.org").mkdir(parents=True)
    (tmp_path / "HTTP:" / "example.org" / "feed").write_text("<rss/>", "utf-8")
    monkeypatch.chdir(tmp_path)
    (feed,) = load_config(feeds_yaml(tmp_path, "HTTP://example.org/feed")).feeds
    assert feed.url == "http://example.org/feed" and not feed.is_local


def test_is_local_ignores_the_case_of_the_scheme() -> None:
    from devcasts.model import FeedSource

    assert not FeedSource(url="HTTP://example.org/feed", slug="s").is_local
    assert not FeedSource(url="hTtPs://example.org/feed", slug="s").is_local
    assert FeedSource(url="/srv/feeds/http.xml", slug="s").is_local


@pytest.mark.parametrize("where", ["../outside.xml", "{outside}", "link.xml"])
def test_a_local_feed_outside_the_folder_of_feeds_yaml_is_refused(
    tmp_path: Path, where: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    outside = tmp_path / "outside.xml"
    outside.write_text("<rss/>", "utf-8")
    (project / "link.xml").symlink_to(outside)
    path = feeds_yaml(project, where.format(outside=outside))
    with pytest.raises(ConfigError, match=r":6: feeds\[0\]\.url: .* is outside .*feeds.yaml"):
        load_config(path)


def test_a_local_feed_in_a_subfolder_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.xml").write_text("<rss/>", "utf-8")
    (feed,) = load_config(feeds_yaml(tmp_path, "feeds/a.xml")).feeds
    assert feed.is_local


@pytest.mark.parametrize(
    ("key", "limit"),
    [
        ("title", 255),
        ("description", 4000),
        ("language", 35),
        ("author", 255),
        ("image", 2048),
    ],
)
def test_text_fields_of_site_have_length_limits(tmp_path: Path, key: str, limit: int) -> None:
    def site(length: int) -> str:
        text = SITE if key != "title" else SITE.replace("  title: T\n", "")
        return f"{text}  {key}: {'a' * length}\n"

    assert load_config(feeds_yaml(tmp_path, "https://e.org/f", site=site(limit)))
    path = feeds_yaml(tmp_path, "https://e.org/f", site=site(limit + 1))
    with pytest.raises(ConfigError, match=rf"site\.{key}: too long: {limit + 1} characters"):
        load_config(path)


def test_a_malformed_email_is_refused(tmp_path: Path) -> None:
    path = feeds_yaml(tmp_path, "https://e.org/f", site=SITE.replace("crew@", "crew at "))
    with pytest.raises(ConfigError, match=r":4: site\.email: expected an address"):
        load_config(path)


# --- the same through the command line -------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from devcasts.cli.main import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["check", "build"])
@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("https://xn--/f", "feeds.yaml:7: feeds[1].url: "),
        ("http://[::1", "feeds.yaml:7: feeds[1].url: "),
    ],
)
def test_check_and_build_exit_2_naming_the_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    url: str,
    where: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    feeds_yaml(tmp_path, "https://example.org/good.xml", url)
    code, _, err = run_cli([command, "--offline"] if command == "build" else [command], capsys)
    assert code == 2
    assert err.startswith(f"devcasts: error: {where}")
    assert "Traceback" not in err
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_bad_base_url_flag_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    feeds_yaml(tmp_path, "https://example.org/good.xml")
    code, _, err = run_cli([command, "--base-url", "http://[::1"], capsys)
    assert code == 2
    assert err.startswith("devcasts: error: feeds.yaml: --base-url: not a valid URL")


def test_check_warns_that_feeds_have_no_owner_without_an_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    feeds_yaml(
        tmp_path, "https://example.org/f", site=SITE.replace("  email: crew@example.org\n", "")
    )
    code, out, err = run_cli(["check"], capsys)
    assert code == 0 and ": ok: 1 feeds" in out
    assert "warning: feeds.yaml: site.email: not set" in err and "itunes:owner" in err
    feeds_yaml(tmp_path, "https://example.org/f")
    assert run_cli(["check"], capsys)[2] == ""


# --- a URL that fails only when fetched fails that feed only --------------------------------


def test_a_url_that_fails_at_fetch_time_fails_only_its_feed(tmp_path: Path) -> None:
    import http.server
    import threading

    from devcasts.fetch.http import FetchOptions, fetch_all
    from devcasts.model import FeedSource, FetchStatus

    class Feed(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sources = [
            FeedSource(url="https://xn--/f", slug="idna"),
            FeedSource(url="http://[::1/f", slug="bracket"),
            FeedSource(url=f"http://127.0.0.1:{server.server_port}/f", slug="good"),
        ]
        options = FetchOptions(
            cache_dir=tmp_path / "http", allow_private_network=True, deadline=10, progress=False
        )
        idna, bracket, good = fetch_all(sources, options)
    finally:
        server.shutdown()
        server.server_close()
    assert good.status is FetchStatus.OK
    assert (idna.status, bracket.status) == (FetchStatus.FAILED, FetchStatus.FAILED)
    assert idna.error and idna.error.startswith("invalid URL")
    assert bracket.error and bracket.error.startswith("invalid URL")
