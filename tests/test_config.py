"""feeds.yaml validation: good files load; every mistake names the file, the line and the key."""

from __future__ import annotations

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
