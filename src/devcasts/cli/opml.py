"""Import an OPML list of subscriptions into feeds.yaml.

New feeds are appended to the `feeds:` list as text, so the file's comments, order and layout
stay as the user wrote them; nothing else in the file is rewritten. The OPML is untrusted: it is
read with expat and any DTD (and so any entity definition) is refused before it can expand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.parsers import expat

import yaml

from devcasts.errors import ConfigError, DevcastsError
from devcasts.util.atomic import replace_file

MAX_OPML_BYTES = 20_000_000
MAX_TITLE_CHARS = 200
_FEED_SCHEMES = {"feed", "itpc", "pcast", "podcast"}  # app-specific aliases for http(s)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_FEEDS_KEY = re.compile(r"^feeds:[ \t]*(?P<value>[^#\s][^#]*?)?[ \t]*(?:#.*)?$")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in
_EMPTY_VALUES = {"[]", "~", "null", "Null", "NULL"}


class OpmlError(DevcastsError):
    """The OPML file cannot be read (not XML, not OPML, or it declares a DTD)."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription found in the OPML file."""

    url: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class OpmlImportReport:
    added: tuple[OpmlFeed, ...] = ()
    skipped_duplicates: tuple[str, ...] = ()  # URLs already in feeds.yaml (or twice in the OPML)
    skipped_without_url: tuple[str, ...] = ()  # outline titles that carry no feed URL
    skipped_invalid: tuple[str, ...] = ()  # URLs that are not http(s)

    def describe(self, feeds_yaml: Path | str = "feeds.yaml") -> str:
        """One line for the CLI to print."""
        skipped = [
            f"{len(self.skipped_duplicates)} already listed",
            f"{len(self.skipped_without_url)} without a feed URL",
        ]
        if self.skipped_invalid:
            skipped.append(f"{len(self.skipped_invalid)} with an unsupported URL")
        noun = "feed" if len(self.added) == 1 else "feeds"
        return f"Added {len(self.added)} {noun} to {feeds_yaml}; skipped " + ", ".join(skipped)


@dataclass(slots=True)
class _Outlines:
    """What the expat handlers collect while reading."""

    root: str = ""
    feeds: list[OpmlFeed] = field(default_factory=list)
    without_url: list[str] = field(default_factory=list)
    body_closed: bool = False


# --- reading OPML ---------------------------------------------------------------------------


def read_opml(opml: bytes) -> tuple[list[OpmlFeed], list[str]]:
    """Every outline with a feed URL, in document order (categories flattened), and the titles
    of the outlines that have none. Category outlines (those with children) are not counted."""
    if len(opml) > MAX_OPML_BYTES:
        raise OpmlError(f"OPML file larger than {MAX_OPML_BYTES} bytes")
    found = _Outlines()
    parser = _expat_parser(found)
    try:
        parser.Parse(opml, True)
    except expat.ExpatError as exc:
        # A broken tail after </body> (a stray closing tag) loses nothing: keep what was read.
        if not found.body_closed:
            raise OpmlError(f"not well-formed OPML: {exc}") from None
    if found.root.lower() != "opml":
        raise OpmlError(f"not an OPML file: the root element is <{found.root or '?'}>")
    return found.feeds, found.without_url


def _expat_parser(found: _Outlines) -> Any:
    parser = expat.ParserCreate()
    # One entry per open <outline>: the title of one without a feed URL, None for the others;
    # an entry turns None once a child appears (it was a category, not a subscription).
    open_outlines: list[str | None] = []

    def refuse_dtd(*_: object) -> None:
        raise OpmlError("OPML files with a DOCTYPE are refused (entities could expand)")

    def start(name: str, attrs: dict[str, str]) -> None:
        found.root = found.root or name
        if name.lower() != "outline":
            return
        if open_outlines:
            open_outlines[-1] = None
        open_outlines.append(_read_outline(attrs, found))

    def end(name: str) -> None:
        if name.lower() == "body":
            found.body_closed = True
        if name.lower() == "outline" and open_outlines:
            title = open_outlines.pop()
            if title is not None:
                found.without_url.append(title)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    return parser


def _read_outline(attrs: dict[str, str], found: _Outlines) -> str | None:
    """Collect the outline's feed; return its title when it has no feed URL."""
    lowered = {key.lower(): value for key, value in attrs.items()}
    title = clean_title(lowered.get("title") or lowered.get("text") or "")
    url = lowered.get("xmlurl", "").strip()
    if not url and lowered.get("type", "").lower() in ("rss", "atom"):
        url = lowered.get("url", "").strip()
    if url:
        found.feeds.append(OpmlFeed(url=url, title=title))
        return None
    return title or "(untitled)"


def clean_title(text: str) -> str:
    """Plain one-line text: no control characters, collapsed spaces, bounded length."""
    one_line = " ".join(_CONTROL.sub(" ", text).split())
    return one_line[:MAX_TITLE_CHARS].rstrip()


# --- URLs -----------------------------------------------------------------------------------


def http_feed_url(url: str) -> str | None:
    """The http(s) URL to fetch, with `feed://`-style aliases resolved; None if unusable."""
    url = url.strip()
    if not url or _CONTROL.search(url) or any(ch.isspace() for ch in url):
        return None
    scheme, sep, rest = url.partition(":")
    if sep and scheme.lower() in _FEED_SCHEMES:
        url = rest if rest.lower().startswith(("http://", "https://")) else "https:" + rest
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return url


def feed_url_key(url: str) -> str:
    """The form two URLs are compared in: http and https alike, host lower-case, default port
    and fragment dropped, no trailing slash."""
    resolved = http_feed_url(url) or url.strip()
    try:
        parts = urlsplit(resolved)
        port = parts.port
    except ValueError:
        return resolved
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return resolved  # a local path in feeds.yaml: compared as written
    host = parts.hostname or ""
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return urlunsplit(("http", host, parts.path.rstrip("/"), parts.query, ""))


# --- writing feeds.yaml ---------------------------------------------------------------------


def import_opml(opml: bytes, feeds_yaml: Path) -> OpmlImportReport:
    """Append the OPML's new feeds to feeds.yaml (as `include: all`) and say what was skipped.

    The file is left untouched when nothing is new. Raises OpmlError for an unreadable OPML
    and ConfigError when feeds.yaml cannot be read or its `feeds:` cannot be appended to.
    """
    outlines, without_url = read_opml(opml)
    bom, text = _read_text(feeds_yaml)
    listed = {feed_url_key(url) for url in _listed_urls(text, feeds_yaml)}
    report = _sort_outlines(outlines, listed)
    if report.added:
        new_text = append_feeds(text, list(report.added), feeds_yaml)
        _check_appended(text, new_text, list(report.added), feeds_yaml)
        replace_file(feeds_yaml, (bom + new_text).encode("utf-8"))
    return replace(report, skipped_without_url=tuple(without_url))


def _sort_outlines(outlines: list[OpmlFeed], listed: set[str]) -> OpmlImportReport:
    """New feeds in OPML order; the rest, sorted by why they are skipped."""
    seen = set(listed)
    added: list[OpmlFeed] = []
    duplicates: list[str] = []
    invalid: list[str] = []
    for outline in outlines:
        url = http_feed_url(outline.url)
        if url is None:
            invalid.append(clean_title(outline.url))
        elif feed_url_key(url) in seen:
            duplicates.append(url)
        else:
            seen.add(feed_url_key(url))
            added.append(OpmlFeed(url=url, title=outline.title))
    return OpmlImportReport(
        added=tuple(added), skipped_duplicates=tuple(duplicates), skipped_invalid=tuple(invalid)
    )


def append_feeds(text: str, feeds: list[OpmlFeed], path: Path) -> str:
    """feeds.yaml's text with `feeds` appended at the end of its `feeds:` list."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    start = _feeds_key_line(lines, path)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines.append("feeds:")
        start = len(lines) - 1
    end = _end_of_block(lines, start)
    dash = _item_indent(lines[start + 1 : end])
    entries = [line for feed in feeds for line in _entry_lines(feed, dash)]
    lines[end:end] = entries
    return newline.join(lines) + newline


def _feeds_key_line(lines: list[str], path: Path) -> int | None:
    for number, line in enumerate(lines):
        match = _FEEDS_KEY.match(line)
        if not match:
            continue
        value = (match.group("value") or "").strip()
        if value in _EMPTY_VALUES:
            lines[number] = "feeds:"
        elif value:
            raise ConfigError(
                path,
                "written on one line; write it as a block list (`- url: ...`) to import OPML",
                line=number + 1,
                key="feeds",
            )
        return number
    return None


def _end_of_block(lines: list[str], start: int) -> int:
    """Index just after the last line that belongs to the list under lines[start]."""
    end = start + 1
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if not line.strip() or line.startswith("#"):
            continue  # blank lines and column-0 comments may belong to what follows
        if line[0] in " \t" or line.startswith("- ") or line == "-":
            end = number + 1
        else:
            break
    return end


def _item_indent(block: list[str]) -> int:
    for line in block:
        stripped = line.lstrip(" ")
        if stripped.startswith("- ") or stripped == "-":
            return len(line) - len(stripped)
    return 2


def _entry_lines(feed: OpmlFeed, dash: int) -> list[str]:
    pad = " " * dash
    lines = [f"{pad}- url: {_yaml_string(feed.url)}"]
    if feed.title:
        lines.append(f"{pad}  title: {_yaml_string(feed.title)}")
    lines.append(f"{pad}  include: all")
    return lines


def _yaml_string(value: str) -> str:
    """A double-quoted YAML scalar: safe for any text (colons, #, quotes, unicode)."""
    dumped = yaml.safe_dump(value, allow_unicode=True, default_style='"', width=1_000_000)
    return dumped.strip().removesuffix("...").strip()


# --- file handling --------------------------------------------------------------------------


def _read_text(path: Path) -> tuple[str, str]:
    """(byte-order mark or "", text); read as bytes so CRLF line ends are kept."""
    try:
        text = path.read_bytes().decode("utf-8")
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        return bom, text.removeprefix(bom)
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read: {exc}") from None


def _load_yaml(text: str, path: Path) -> object:
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(path, f"not valid YAML: {exc}", line=line) from None


def _listed_feeds(text: str, path: Path) -> list[object]:
    data = _load_yaml(text, path)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(path, "the top level must be a mapping (site:, topics:, feeds:)")
    feeds = data.get("feeds")
    if feeds is None:
        return []
    if not isinstance(feeds, list):
        raise ConfigError(path, "must be a list", key="feeds")
    return feeds


def _listed_urls(text: str, path: Path) -> list[str]:
    return [
        str(entry["url"])
        for entry in _listed_feeds(text, path)
        if isinstance(entry, dict) and entry.get("url")
    ]


def _check_appended(old_text: str, new_text: str, added: list[OpmlFeed], path: Path) -> None:
    """Refuse to write unless the new text reads as the old list followed by the new entries."""
    expected = [*_listed_feeds(old_text, path), *(_as_entry(feed) for feed in added)]
    if _listed_feeds(new_text, path) != expected:
        raise ConfigError(path, "could not append to this list without rewriting it", key="feeds")


def _as_entry(feed: OpmlFeed) -> dict[str, str]:
    entry = {"url": feed.url, "title": feed.title, "include": "all"}
    return {key: value for key, value in entry.items() if value}
