"""A rules check for podcast feeds: RSS 2.0, Apple Podcasts, the podcast namespace, JSON Feed.

`check_feed(data)` returns findings instead of raising, so tests and the CLI can show every
problem at once. Errors break a rule that apps or directories enforce; warnings are advice.
Usable as `python -m devcasts.tools.feedcheck FILE...` (exit 1 when any file has errors).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Severity = Literal["error", "warning"]

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1.1", "https://jsonfeed.org/version/1")
# What Apple Podcasts plays: MP3, M4A (AAC or ALAC), MP4, M4V, MOV, and PDF. Ogg, Opus, FLAC
# and WAV play in other apps, so they are warnings, not errors.
APPLE_MEDIA_TYPES = frozenset({
    "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/m4a", "audio/aac", "video/mp4",
    "video/x-m4v", "video/quicktime", "application/pdf",
})  # fmt: skip
DESCRIPTION_LIMIT = 4000  # bytes; Apple's limit for channel and episode descriptions
PERSON_NAME_LIMIT = 128  # characters; the podcast namespace's limit for podcast:person
APPLE_DESCRIPTION_TAGS = frozenset({"p", "ol", "ul", "li", "a"})
# Apple Podcasts categories: top level -> subcategories.
APPLE_CATEGORIES: dict[str, frozenset[str]] = {
    "Arts": frozenset(
        {"Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"}
    ),
    "Business": frozenset(
        {"Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"}
    ),
    "Comedy": frozenset({"Comedy Interviews", "Improv", "Stand-Up"}),
    "Education": frozenset({"Courses", "How To", "Language Learning", "Self-Improvement"}),
    "Fiction": frozenset({"Comedy Fiction", "Drama", "Science Fiction"}),
    "Government": frozenset(),
    "History": frozenset(),
    "Health & Fitness": frozenset(
        {"Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"}
    ),
    "Kids & Family": frozenset(
        {"Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"}
    ),
    "Leisure": frozenset(
        {
            "Animation & Manga",
            "Automotive",
            "Aviation",
            "Crafts",
            "Games",
            "Hobbies",
            "Home & Garden",
            "Video Games",
        }
    ),
    "Music": frozenset({"Music Commentary", "Music History", "Music Interviews"}),
    "News": frozenset(
        {
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        }
    ),
    "Religion & Spirituality": frozenset(
        {"Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"}
    ),
    "Science": frozenset(
        {
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        }
    ),
    "Society & Culture": frozenset(
        {"Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"}
    ),
    "Sports": frozenset(
        {
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        }
    ),
    "Technology": frozenset(),
    "True Crime": frozenset(),
    "TV & Film": frozenset(
        {"After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"}
    ),
}

_RFC2822 = re.compile(
    r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|GMT|UT|UTC|[ECMP][SD]T|Z)$"
)
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
_DURATION = re.compile(r"^(?:\d+|\d{1,2}:[0-5]?\d|\d+:[0-5]\d:[0-5]\d)(?:\.\d+)?$")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(?:\s*;.*)?$", re.I)
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8})*$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_POSITIVE_INT = re.compile(r"^[1-9]\d*$")
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_YES_NO = frozenset({"yes", "no"})
_SHOW_TYPES = frozenset({"episodic", "serial"})
_EPISODE_TYPES = frozenset({"full", "trailer", "bonus"})
_TRUE_FALSE = frozenset({"true", "false"})
_OLD_EXPLICIT = frozenset({"yes", "no", "clean"})


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    rule: str  # stable id, e.g. "apple.category"
    where: str  # "channel", "item 3", "items[2]"
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.rule}]"


@dataclass(slots=True)
class _Report:
    findings: list[Finding] = field(default_factory=list)

    def error(self, rule: str, where: str, message: str) -> None:
        self.findings.append(Finding("error", rule, where, message))

    def warning(self, rule: str, where: str, message: str) -> None:
        self.findings.append(Finding("warning", rule, where, message))


# --- public interface -----------------------------------------------------------------------


def check_feed(data: bytes) -> list[Finding]:
    """Check RSS or JSON Feed bytes, whichever they are."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return check_json_feed(data)
    return check_rss(data)


def check_rss(data: bytes) -> list[Finding]:
    """RSS 2.0 with the itunes and podcast namespaces, as Apple Podcasts and apps expect it."""
    report = _Report()
    root = _parse_xml(data, report)
    if root is None:
        return report.findings
    if root.tag != "rss" or root.get("version") != "2.0":
        report.error("rss.root", "document", 'the root element must be <rss version="2.0">')
    channels = root.findall("channel")
    if len(channels) != 1:
        report.error("rss.channel", "document", f"expected one <channel>, found {len(channels)}")
        return report.findings
    _check_channel(channels[0], report)
    _check_items(channels[0].findall("item"), report)
    return report.findings


def check_json_feed(data: bytes) -> list[Finding]:
    """JSON Feed 1.1: required fields, absolute URLs, RFC 3339 dates, unique item ids."""
    report = _Report()
    try:
        feed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        report.error("json.syntax", "document", f"not JSON: {error}")
        return report.findings
    if not isinstance(feed, dict):
        report.error("json.syntax", "document", "the top level must be an object")
        return report.findings
    _check_json_top(feed, report)
    items = feed.get("items")
    if isinstance(items, list):
        _check_json_items(items, report)
    return report.findings


def errors(findings: Sequence[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == "error"]


def expected_podcast_guid(feed_url: str) -> str:
    """UUIDv5 of the feed URL without scheme and trailing slashes (podcast namespace)."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def main(argv: Sequence[str] | None = None) -> int:
    """Check feed files; print one line per finding; exit 1 on errors (or warnings, --strict)."""
    parser = argparse.ArgumentParser(
        prog="python -m devcasts.tools.feedcheck",
        description="Check podcast feeds (RSS 2.0 or JSON Feed) for problems.",
        epilog="Exit code 1 when any file has an error (or, with --strict, a warning).",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a feed file")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    options = parser.parse_args(argv)
    failed = False
    for path in options.files:
        try:
            findings = check_feed(path.read_bytes())
        except OSError as error:
            findings = [Finding("error", "io", str(path), error.strerror or str(error))]
        for finding in findings:
            print(f"{path}: {finding}")
        failed |= any(f.severity == "error" or options.strict for f in findings)
    return 1 if failed else 0


# --- XML ------------------------------------------------------------------------------------


class _DoctypeRefusedError(Exception):
    pass


def _parse_xml(data: bytes, report: _Report) -> ET.Element | None:
    """Parse with a DOCTYPE refused first, so entity tricks never reach the tree builder."""
    expat = xml.parsers.expat.ParserCreate()

    def refuse(*_: object) -> None:
        raise _DoctypeRefusedError

    expat.StartDoctypeDeclHandler = refuse
    try:
        expat.Parse(data, True)
    except _DoctypeRefusedError:
        report.error("xml.doctype", "document", "a DOCTYPE is not allowed in a feed")
        return None
    except xml.parsers.expat.ExpatError as error:
        report.error("xml.wellformed", "document", f"not well-formed XML: {error}")
        return None
    except (ValueError, LookupError) as error:  # an encoding expat cannot read
        report.error("xml.encoding", "document", f"unreadable encoding: {error}")
        return None
    try:
        return ET.fromstring(data)  # noqa: S314 -- without a DOCTYPE (checked above)
    except ET.ParseError as error:  # e.g. an unbound namespace prefix
        report.error("xml.wellformed", "document", f"not namespace-well-formed XML: {error}")
        return None


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


# --- channel --------------------------------------------------------------------------------


def _check_channel(channel: ET.Element, report: _Report) -> None:
    where = "channel"
    for name in ("title", "link", "description"):
        if not _text(channel.find(name)):
            report.error("rss.channel.required", where, f"<{name}> is required and non-empty")
    if _text(channel.find("link")):
        _check_url(_text(channel.find("link")), "rss.url", where, "<link>", report)
    _check_description(_text(channel.find("description")), where, report, html=False)
    _check_language(channel, report)
    for name in ("pubDate", "lastBuildDate"):
        _check_rfc2822(channel.find(name), where, report)
    _check_image(channel, report)
    self_url = _check_self_link(channel, report)
    _check_apple_channel(channel, report)
    _check_podcast_channel(channel, self_url, report)


def _check_language(channel: ET.Element, report: _Report) -> None:
    language = _text(channel.find("language"))
    if not language:
        report.error("apple.language", "channel", "<language> is required by Apple Podcasts")
    elif not _LANGUAGE.match(language):
        report.error("rss.language", "channel", f"<language> {language!r} is not a language tag")


def _check_image(channel: ET.Element, report: _Report) -> None:
    image = channel.find("image")
    if image is None:
        return
    for name in ("url", "title", "link"):
        if not _text(image.find(name)):
            report.error("rss.image", "channel", f"<image> needs a <{name}>")
    _check_url(_text(image.find("url")), "rss.url", "channel", "<image><url>", report)


def _check_self_link(channel: ET.Element, report: _Report) -> str | None:
    links = [link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    if not links:
        report.error("atom.self", "channel", '<atom:link rel="self"> is required')
        return None
    href = links[0].get("href", "")
    _check_url(href, "atom.self", "channel", '<atom:link rel="self"> href', report)
    if links[0].get("type") != "application/rss+xml":
        report.warning(
            "atom.self", "channel", 'the self link should have type="application/rss+xml"'
        )
    return href or None


def _check_apple_channel(channel: ET.Element, report: _Report) -> None:
    _check_artwork(channel.find(f"{ITUNES}image"), report)
    _check_categories(channel, report)
    explicit = channel.find(f"{ITUNES}explicit")
    if explicit is None:
        report.error("apple.explicit", "channel", "<itunes:explicit> is required")
    else:
        _check_explicit(explicit, "channel", report)
    if not _text(channel.find(f"{ITUNES}author")):
        report.warning("apple.author", "channel", "<itunes:author> is recommended")
    email = channel.find(f"{ITUNES}owner/{ITUNES}email")
    if email is not None and not _EMAIL.match(_text(email)):
        report.error("apple.owner", "channel", f"owner email {_text(email)!r} is not an address")
    _check_choice(channel.find(f"{ITUNES}block"), _YES_NO, "apple.block", "channel", report)
    _check_choice(channel.find(f"{ITUNES}type"), _SHOW_TYPES, "apple.type", "channel", report)


def _check_artwork(image: ET.Element | None, report: _Report) -> None:
    if image is None:
        report.error("apple.image", "channel", "<itunes:image> is required by Apple Podcasts")
        return
    href = image.get("href", "")
    _check_url(href, "apple.image", "channel", "<itunes:image> href", report)
    if not re.search(r"\.(?:jpe?g|png)$", urlsplit(href).path, re.IGNORECASE):
        report.warning("apple.image", "channel", "artwork should be a .jpg or .png file")


def _check_categories(channel: ET.Element, report: _Report) -> None:
    categories = channel.findall(f"{ITUNES}category")
    if not categories:
        report.error("apple.category", "channel", "<itunes:category> is required")
    for category in categories:
        name = category.get("text", "")
        if name not in APPLE_CATEGORIES:
            report.error("apple.category", "channel", f"{name!r} is not an Apple category")
            continue
        for sub in category.findall(f"{ITUNES}category"):
            if sub.get("text", "") not in APPLE_CATEGORIES[name]:
                message = f"{sub.get('text', '')!r} is not a subcategory of {name!r}"
                report.error("apple.category", "channel", message)


def _check_podcast_channel(channel: ET.Element, self_url: str | None, report: _Report) -> None:
    _check_choice(channel.find(f"{PODCAST}block"), _YES_NO, "podcast.block", "channel", report)
    _check_choice(channel.find(f"{PODCAST}locked"), _YES_NO, "podcast.locked", "channel", report)
    guid = channel.find(f"{PODCAST}guid")
    if guid is None:
        return
    value = _text(guid)
    if not _UUID.match(value):
        report.error("podcast.guid", "channel", f"podcast:guid {value!r} is not a lower-case UUID")
        return
    if uuid.UUID(value).version != 5:
        report.warning("podcast.guid", "channel", "podcast:guid should be a UUIDv5")
    elif self_url and value != expected_podcast_guid(self_url):
        report.warning("podcast.guid", "channel", "podcast:guid is not derived from the self URL")


# --- items ----------------------------------------------------------------------------------


def _check_items(items: Sequence[ET.Element], report: _Report) -> None:
    if not items:
        report.warning("rss.items", "channel", "the feed has no items")
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        where = f"item {number}"
        _check_item(item, where, report)
        guid = _text(item.find("guid"))
        if guid and guid in seen:
            report.error("rss.guid.unique", where, f"guid {guid!r} repeats item {seen[guid]}")
        seen.setdefault(guid, number)


def _check_item(item: ET.Element, where: str, report: _Report) -> None:
    if not _text(item.find("title")):
        report.error("apple.item.title", where, "<title> is required by Apple Podcasts")
    if item.find("link") is not None:
        _check_url(_text(item.find("link")), "rss.url", where, "<link>", report)
    _check_guid(item.find("guid"), where, report)
    if item.find("pubDate") is None:
        report.warning("rss.item.date", where, "<pubDate> is recommended")
    _check_rfc2822(item.find("pubDate"), where, report)
    _check_description(_text(item.find("description")), where, report, html=True)
    _check_enclosure(item.findall("enclosure"), where, report)
    source = item.find("source")
    if source is not None:
        _check_url(source.get("url", ""), "rss.source", where, "<source> url", report)
    _check_itunes_item(item, where, report)
    _check_podcast_item(item, where, report)


def _check_guid(guid: ET.Element | None, where: str, report: _Report) -> None:
    if guid is None or not _text(guid):
        report.error("rss.guid", where, "<guid> is missing: apps cannot track the episode")
        return
    if guid.get("isPermaLink", "true").lower() == "true" and not is_absolute_url(_text(guid)):
        message = 'a <guid> that is not a URL needs isPermaLink="false"'
        report.warning("rss.guid.permalink", where, message)


def _check_enclosure(enclosures: Sequence[ET.Element], where: str, report: _Report) -> None:
    if not enclosures:
        report.error("apple.enclosure", where, "<enclosure> is required by Apple Podcasts")
        return
    if len(enclosures) > 1:
        report.warning("rss.enclosure", where, "more than one <enclosure>: apps use the first")
    enclosure = enclosures[0]
    _check_url(enclosure.get("url", ""), "rss.enclosure", where, "<enclosure> url", report)
    length = enclosure.get("length")
    if length is None or not length.isdigit():
        report.error("rss.enclosure", where, "<enclosure> length must be a whole number of bytes")
    mime = enclosure.get("type", "")
    if not _MIME.match(mime):
        report.error("rss.enclosure", where, f"<enclosure> type {mime!r} is not a MIME type")
    elif mime.lower() not in APPLE_MEDIA_TYPES:
        report.warning("apple.enclosure", where, f"Apple Podcasts does not play {mime!r}")


def _check_itunes_item(item: ET.Element, where: str, report: _Report) -> None:
    duration = item.find(f"{ITUNES}duration")
    if duration is not None and not _DURATION.match(_text(duration)):
        report.error("apple.duration", where, f"itunes:duration {_text(duration)!r} is not a time")
    for name in ("episode", "season"):
        element = item.find(f"{ITUNES}{name}")
        if element is not None and not _POSITIVE_INT.match(_text(element)):
            message = f"itunes:{name} must be a positive whole number"
            report.error(f"apple.{name}", where, message)
    explicit = item.find(f"{ITUNES}explicit")
    if explicit is not None:
        _check_explicit(explicit, where, report)
    episode_type = item.find(f"{ITUNES}episodeType")
    _check_choice(episode_type, _EPISODE_TYPES, "apple.episode_type", where, report)
    image = item.find(f"{ITUNES}image")
    if image is not None:
        _check_url(image.get("href", ""), "apple.image", where, "<itunes:image> href", report)


def _check_podcast_item(item: ET.Element, where: str, report: _Report) -> None:
    for chapters in item.findall(f"{PODCAST}chapters"):
        _check_url(chapters.get("url", ""), "podcast.chapters", where, "chapters url", report)
        if not chapters.get("type"):
            report.error("podcast.chapters", where, "podcast:chapters needs a type")
    for transcript in item.findall(f"{PODCAST}transcript"):
        url = transcript.get("url", "")
        _check_url(url, "podcast.transcript", where, "transcript url", report)
        if not _MIME.match(transcript.get("type", "")):
            report.error("podcast.transcript", where, "podcast:transcript needs a MIME type")
    for person in item.findall(f"{PODCAST}person"):
        _check_person(person, where, report)


def _check_person(person: ET.Element, where: str, report: _Report) -> None:
    name = _text(person)
    if not name:
        report.error("podcast.person", where, "podcast:person needs a name")
    elif len(name) > PERSON_NAME_LIMIT:
        report.error("podcast.person", where, f"podcast:person name over {PERSON_NAME_LIMIT}")
    for key in ("href", "img"):
        if person.get(key) is not None:
            _check_url(person.get(key, ""), "podcast.person", where, f"person {key}", report)


# --- shared value checks --------------------------------------------------------------------


def _check_url(url: str, rule: str, where: str, what: str, report: _Report) -> None:
    if not is_absolute_url(url):
        report.error(rule, where, f"{what} {url!r} is not an absolute http(s) URL")


def is_absolute_url(url: str) -> bool:
    if not url or any(char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_rfc2822(element: ET.Element | None, where: str, report: _Report) -> None:
    if element is None:
        return
    value = _text(element)
    valid = bool(_RFC2822.match(value))
    if valid:
        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError):
            valid = False
    if not valid:
        tag = element.tag
        report.error("rss.date", where, f"<{tag}> {value!r} is not an RFC 2822 date")


def _check_description(text: str, where: str, report: _Report, *, html: bool) -> None:
    size = len(text.encode("utf-8"))
    if size > DESCRIPTION_LIMIT:
        message = f"description is {size} bytes, over Apple's {DESCRIPTION_LIMIT}"
        report.error("apple.description.length", where, message)
    if html:
        other = sorted(_tags_in(text) - APPLE_DESCRIPTION_TAGS)
        if other:
            message = f"description uses tags Apple does not allow: {', '.join(other)}"
            report.warning("apple.description.tags", where, message)


def _check_explicit(element: ET.Element, where: str, report: _Report) -> None:
    value = _text(element).lower()
    if value in _OLD_EXPLICIT:
        report.warning("apple.explicit", where, f"itunes:explicit {value!r}: use true or false")
    elif value not in _TRUE_FALSE:
        report.error("apple.explicit", where, f"itunes:explicit {value!r} is not true or false")


def _check_choice(
    element: ET.Element | None, allowed: frozenset[str], rule: str, where: str, report: _Report
) -> None:
    if element is not None and _text(element).lower() not in allowed:
        choices = " or ".join(sorted(allowed))
        report.error(rule, where, f"<{_local(element.tag)}> must be {choices}")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _tags_in(fragment: str) -> set[str]:
    # A scan, not a parser: html.parser raises on some malformed markup.
    return {name.lower() for name in _START_TAG.findall(fragment)}


# --- JSON Feed ------------------------------------------------------------------------------


def _check_json_top(feed: dict[str, object], report: _Report) -> None:
    if feed.get("version") not in JSON_FEED_VERSIONS:
        report.error("json.version", "feed", "version must be https://jsonfeed.org/version/1.1")
    if not _nonempty_string(feed.get("title")):
        report.error("json.required", "feed", "title is required")
    if not isinstance(feed.get("items"), list):
        report.error("json.required", "feed", "items must be an array")
    for key in ("home_page_url", "feed_url", "icon", "favicon"):
        _check_json_url(feed, key, "feed", report)
    authors = feed.get("authors")
    if authors is not None and not _valid_authors(authors):
        report.error("json.authors", "feed", "authors must be objects with a name, url or avatar")


def _check_json_items(items: list[object], report: _Report) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            report.error("json.item", where, "an item must be an object")
            continue
        item_id = item.get("id")
        if not _nonempty_string(item_id):
            report.error("json.item.id", where, "id is required (a string)")
        elif str(item_id) in seen:
            report.error("json.item.id", where, f"id {item_id!r} repeats an earlier item")
        seen.add(str(item_id))
        _check_json_item(item, where, report)


def _check_json_item(item: dict[str, object], where: str, report: _Report) -> None:
    if not (
        _nonempty_string(item.get("content_html")) or _nonempty_string(item.get("content_text"))
    ):
        report.error("json.item.content", where, "content_html or content_text is required")
    for key in ("url", "external_url", "image", "banner_image"):
        _check_json_url(item, key, where, report)
    for key in ("date_published", "date_modified"):
        value = item.get(key)
        if value is not None and not (isinstance(value, str) and _RFC3339.match(value)):
            report.error("json.date", where, f"{key} {value!r} is not an RFC 3339 date")
    tags = item.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        report.error("json.item.tags", where, "tags must be an array of strings")
    authors = item.get("authors")
    if authors is not None and not _valid_authors(authors):
        report.error("json.authors", where, "authors must be objects with a name, url or avatar")
    attachments = item.get("attachments", [])
    if not isinstance(attachments, list):
        report.error("json.attachment", where, "attachments must be an array")
        return
    for number, attachment in enumerate(attachments):
        _check_attachment(attachment, f"{where}.attachments[{number}]", report)


def _check_attachment(attachment: object, where: str, report: _Report) -> None:
    if not isinstance(attachment, dict):
        report.error("json.attachment", where, "an attachment must be an object")
        return
    if not is_absolute_url(str(attachment.get("url", ""))):
        report.error("json.attachment", where, "url must be an absolute http(s) URL")
    if not _MIME.match(str(attachment.get("mime_type", ""))):
        report.error("json.attachment", where, "mime_type is required")
    for key in ("size_in_bytes", "duration_in_seconds"):
        value = attachment.get(key)
        if value is not None and not _non_negative_number(value):
            report.error("json.attachment", where, f"{key} must be a non-negative number")


def _check_json_url(holder: dict[str, object], key: str, where: str, report: _Report) -> None:
    value = holder.get(key)
    if value is not None and not (isinstance(value, str) and is_absolute_url(value)):
        report.error("json.url", where, f"{key} {value!r} is not an absolute http(s) URL")


def _valid_authors(authors: object) -> bool:
    if not isinstance(authors, list):
        return False
    keys = ("name", "url", "avatar")
    return all(
        isinstance(a, dict) and any(_nonempty_string(a.get(k)) for k in keys) for a in authors
    )


def _nonempty_string(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _non_negative_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


if __name__ == "__main__":
    sys.exit(main())
