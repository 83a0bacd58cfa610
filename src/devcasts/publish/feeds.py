"""The feeds devcasts publishes: RSS 2.0 podcast feeds and a JSON Feed 1.1.

Everything comes from the Catalog and nothing reads the clock, so an unchanged archive gives
byte-identical feeds; `write_feeds` keeps a fingerprint of each feed's inputs beside the site
and builds again only the feeds whose inputs changed (the manifest is a util.cache file under
the fingerprint of this code: another version builds every feed again). Every feed field is
treated as hostile: characters XML 1.0 forbids are stripped from every string, URLs are kept
only when they are absolute http(s), and HTML is re-sanitized with nh3 before it is written.
"""

from __future__ import annotations

import functools
import html
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import nh3

from devcasts import model, records
from devcasts.model import SiteConfig, Topic
from devcasts.records import Catalog, Episode, Podcast
from devcasts.site import filters, urls
from devcasts.site.page_output import (
    Fingerprints,
    Manifest,
    digest,
    episode_digest,
    read_manifest,
)
from devcasts.site.writer import SiteWriter
from devcasts.util import addresses, cache, episode_dates, links, text
from devcasts.util.episode_dates import date_unknown, publisher_time

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
NAMESPACES = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "atom": ATOM_NS, "content": CONTENT_NS}
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)

# The podcast namespace's own UUID, the namespace of every podcast:guid (UUIDv5).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Shipped by the renderer; used when feeds.yaml sets no site image.
DEFAULT_COVER_PATH = urls.static("cover.png")
CATEGORY = "Technology"  # Apple Podcasts category of every feed we publish
GENERATOR = "devcasts"
DESCRIPTION_LIMIT = 4000  # bytes of HTML: Apple's limit for <description>
CONTENT_LIMIT = 10_000  # bytes of HTML in content:encoded and content_html
GUID_PREFIX = "devcasts:"
FULL_NOTES_LABEL = "Full show notes"

DESCRIPTION_TAGS = frozenset({"p", "ol", "ul", "li", "a"})  # all Apple allows in descriptions
CONTENT_TAGS = DESCRIPTION_TAGS | {
    "br",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "h2",
    "h3",
    "h4",
}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_ABSOLUTE_LINK_PREFIXES = ("http://", "https://", "mailto:")
# Never shown as text either: their content is code or markup, not notes.
_DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "svg",
        "math",
        "noscript",
        "iframe",
        "object",
        "embed",
        "textarea",
        "template",
        "title",
        "select",
    }
)

# XML 1.0 Char production, minus C1 controls and DEL, which are legal but never meaningful.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLOCK_TAG = re.compile(
    r"<(/?)(?:h[1-6]|div|blockquote|pre|section|article|header|footer|figure|figcaption|dl|dt|dd)"
    r"\b[^>]*>",
    re.IGNORECASE,
)
_BREAK_TAG = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>")
# A tag as nh3 serializes it: attribute values always double-quoted, `"` escaped inside.
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s+[^\s=/>]+(?:=\"[^\"]*\")?)*\s*/?>")
_VOID_TAGS = frozenset({"br", "img", "hr", "wbr"})
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
_PARTIAL_ENTITY = re.compile(r"&[^;\s]*$")
_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8})*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", re.IGNORECASE)
# When a feed gave no usable type: a fixed table, since the system's mimetypes varies by host.
_MEDIA_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/x-m4a",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/opus",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}
DEFAULT_MEDIA_TYPE = "audio/mpeg"
_EMPTY: tuple[object, ...] = (None, "", [], {})


# --- public interface -----------------------------------------------------------------------


def feed_documents(catalog: Catalog) -> list[tuple[str, bytes]]:
    """Every feed the site publishes, as (path relative to the site root, bytes): the RSS
    feed of all episodes, one RSS feed per topic and the JSON Feed (paths from site/urls.py).
    """
    return [(feed.path, feed.build()) for feed in _feeds(catalog)]


FEEDS_MANIFEST = ".feeds-manifest.json"  # dotfile, like the pages' manifest
# urls: every path; model and records: derived properties (the base URL); episode_dates:
# which episodes are dated, and in which offset; links: which URLs we republish.
_CODE = (__name__, text, addresses, links, filters, urls, model, records, episode_dates)


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What `plan_feeds` found: every feed's fingerprint, and the bytes of those to write."""

    fingerprints: dict[str, str]
    built: dict[str, bytes]
    previous: Fingerprints  # the manifest it started from


def plan_feeds(catalog: Catalog, site_dir: Path) -> FeedUpdate:
    """The feeds of `catalog` that differ from what the site in `site_dir` holds, built: a
    feed whose fingerprint is in the site's manifest, and whose file is there, is not. It
    reads the site and writes nothing, so it may run beside the render (in the indexing
    child); `write_feeds` writes what it found."""
    previous = read_manifest(site_dir, FEEDS_MANIFEST, _code_fingerprint())
    shared = digest(catalog.site, catalog.topics, catalog.podcasts, catalog.built_at)
    fingerprints: dict[str, str] = {}
    built: dict[str, bytes] = {}
    for feed in _feeds(catalog):
        fingerprint = digest(shared, feed.path, [episode_digest(e) for e in feed.episodes])
        fingerprints[feed.path] = fingerprint
        if previous.pages.get(feed.path) != fingerprint or not (site_dir / feed.path).is_file():
            built[feed.path] = feed.build()
    return FeedUpdate(fingerprints, built, previous)


def write_feeds(catalog: Catalog, writer: SiteWriter, update: FeedUpdate | None = None) -> None:
    """`feed_documents` into `writer`: what `update` (`plan_feeds` of the site `writer`
    stands in for; worked out now when None) built, and the other feeds kept as they are. A
    feed to keep that is not there after all is built now."""
    update = update or plan_feeds(catalog, writer.out_dir)
    for path, data in update.built.items():
        writer.write(path, data)
    kept = [path for path in update.fingerprints if path not in update.built]
    missing = [path for path in kept if not writer.keep_existing(path)]
    if missing:
        feeds = {feed.path: feed for feed in _feeds(catalog)}
        for path in missing:
            writer.write(path, feeds[path].build())
    manifest = Manifest(writer, FEEDS_MANIFEST, _code_fingerprint())
    manifest.save(Fingerprints(update.fingerprints), update.previous)


def _code_fingerprint() -> str | None:
    return cache.fingerprint(code=_CODE, nh3=getattr(nh3, "__version__", ""))  # nh3 cleans items


@dataclass(frozen=True, slots=True)
class _Feed:
    path: str
    episodes: Sequence[Episode]  # what it lists, in order
    build: Callable[[], bytes]


def _feeds(catalog: Catalog) -> Iterator[_Feed]:
    """Each feed, its newest episodes first: in the catalog's order, which is that."""
    specs = [main_feed_spec(catalog.site)]
    specs += [topic_feed_spec(catalog.site, topic) for topic in catalog.topics]
    for spec in specs:
        episodes = select_episodes(catalog, spec.topic, need_enclosure=True)
        yield _Feed(spec.path, episodes, functools.partial(rss_feed, catalog, spec, episodes))
    episodes = select_episodes(catalog, None, need_enclosure=False)
    yield _Feed(urls.json_feed(), episodes, functools.partial(json_feed, catalog, episodes))


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What distinguishes one published feed from another."""

    path: str  # relative to the site root
    title: str
    description: str
    home_page: str  # absolute URL of the page the feed belongs to
    topic: str | None = None  # only episodes with this topic slug

    def url(self, site: SiteConfig) -> str:
        return urls.absolute(site.base_url, self.path)


def main_feed_spec(site: SiteConfig) -> FeedSpec:
    home = urls.absolute(site.base_url, urls.home())
    return FeedSpec(urls.feed(), site.title, site.description or site.title, home)


def topic_feed_spec(site: SiteConfig, topic: Topic) -> FeedSpec:
    description = topic.description or f"{site.title}: episodes about {topic.name}."
    return FeedSpec(
        path=urls.topic_feed(topic.slug),
        title=f"{site.title}: {topic.name}",
        description=description,
        home_page=urls.absolute(site.base_url, urls.topic(topic.slug)),
        topic=topic.slug,
    )


def podcast_guid(feed_url: str) -> str:
    """podcast:guid as the podcast namespace specifies: UUIDv5 of the URL without scheme
    and trailing slashes."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def rss_feed(catalog: Catalog, spec: FeedSpec, episodes: Sequence[Episode] | None = None) -> bytes:
    """One RSS 2.0 podcast feed; episodes without an enclosure are left out (Apple needs one).
    `episodes` is the feed's select_episodes, when the caller has it already."""
    if episodes is None:
        episodes = select_episodes(catalog, spec.topic, need_enclosure=True)
    podcasts = {podcast.slug: podcast for podcast in catalog.podcasts}
    topics = {topic.slug: topic.name for topic in catalog.topics}
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _channel_elements(channel, catalog, spec, episodes, podcasts)
    for episode in episodes:
        podcast = podcasts.get(episode.podcast) or _unknown_podcast(episode.podcast)
        _item(channel, catalog.site, episode, podcast, topics)
    ET.indent(rss, space="  ")
    body = ET.tostring(rss, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8") + b"\n"


def json_feed(catalog: Catalog, episodes: Sequence[Episode] | None = None) -> bytes:
    """The JSON Feed 1.1 of the latest episodes, with their audio as attachments.
    `episodes` is the feed's select_episodes, when the caller has it already."""
    if episodes is None:
        episodes = select_episodes(catalog, None, need_enclosure=False)
    site = catalog.site
    podcasts = {podcast.slug: podcast for podcast in catalog.podcasts}
    topics = {topic.slug: topic.name for topic in catalog.topics}
    home = urls.absolute(site.base_url, urls.home())
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": clean(site.title),
        "home_page_url": home,
        "feed_url": urls.absolute(site.base_url, urls.json_feed()),
        "description": clean(site.description),
        "icon": site_image(site),
        "authors": [{"name": clean(site.author or site.title), "url": home}],
        "language": language_tag(site.language),
    }
    items = [_drop_empty(_json_item(site, episode, podcasts, topics)) for episode in episodes]
    document = {**_drop_empty_fields(feed), "items": items}  # items is required, even empty
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def select_episodes(catalog: Catalog, topic: str | None, *, need_enclosure: bool) -> list[Episode]:
    """The latest site.feed_limit episodes of a feed, in catalog order (newest first).

    An episode without a date stays out: a podcast app orders by date, and would show the one
    we gave it (or its own clock) as the newest episode.
    """
    limit = max(catalog.site.feed_limit, 0)
    chosen: list[Episode] = []
    ids: set[str] = set()
    for episode in catalog.episodes:
        if len(chosen) >= limit:
            break
        if (topic is not None and topic not in episode.topics) or date_unknown(episode):
            continue
        if episode.id in ids or (need_enclosure and enclosure_url(episode) is None):
            continue  # a repeated id would repeat a guid
        chosen.append(episode)
        ids.add(episode.id)
    return chosen


def item_description(episode: Episode, page_url: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """The episode's notes as Apple accepts them: only p, ol, ul, li and a, at most `limit`
    bytes, cut after a whole top-level element, with a link to the full notes when cut."""
    notes = description_html(episode.notes_html)
    if not notes:
        notes = _paragraph(clean(episode.summary) or clean(episode.title))
    return fit_html(notes, limit, page_url)


@functools.lru_cache(maxsize=4096)  # an episode appears in the main feed and its topic feeds
def description_html(notes_html: str) -> str:
    """Notes reduced to Apple's description tags: headings and blocks become paragraphs."""
    text = _BREAK_TAG.sub(" ", clean(notes_html))
    text = _BLOCK_TAG.sub(lambda tag: f"<{tag.group(1)}p>", text)
    cleaned = _sanitize(text, DESCRIPTION_TAGS)
    return _EMPTY_PARAGRAPH.sub("", cleaned).strip()


@functools.lru_cache(maxsize=4096)
def content_html(notes_html: str) -> str:
    """Full notes for content:encoded and JSON Feed: a small, safe allowlist."""
    cleaned = _sanitize(clean(notes_html), CONTENT_TAGS)
    return _EMPTY_PARAGRAPH.sub("", cleaned).strip()


def _sanitize(fragment: str, tags: frozenset[str]) -> str:
    return nh3.clean(
        fragment,
        tags=set(tags),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={"a": {"href"}},
        attribute_filter=_absolute_links_only,
        url_schemes=set(_URL_SCHEMES),
        link_rel=None,
    )


def _absolute_links_only(_tag: str, _attribute: str, value: str) -> str | None:
    """A relative link means nothing in a podcast app: drop it, keep the text."""
    link = value.strip()
    return link if link.lower().startswith(_ABSOLUTE_LINK_PREFIXES) else None


def fit_html(fragment: str, limit: int, more_url: str) -> str:
    """`fragment` if it fits in `limit` UTF-8 bytes, else whole top-level elements that fit
    plus a link to `more_url`; a single oversized element becomes its cut plain text."""
    if _size(fragment) <= limit:
        return fragment
    more = f'<p><a href="{html.escape(more_url)}">{FULL_NOTES_LABEL}</a></p>'
    budget = limit - _size(more)
    kept: list[str] = []
    used = 0
    for piece in top_level_pieces(fragment):
        if used + _size(piece) > budget:
            break
        kept.append(piece)
        used += _size(piece)
    if not kept:
        kept = [_cut_text_paragraph(fragment, budget)]
    return "".join(kept) + more


def top_level_pieces(fragment: str) -> list[str]:
    """Split serialized HTML into its top-level elements and text runs, in order."""
    pieces: list[str] = []
    depth = 0
    start = 0
    for tag in _TAG.finditer(fragment):
        if depth == 0 and tag.start() > start:
            pieces.append(fragment[start : tag.start()])
            start = tag.start()
        depth = max(depth + _depth_change(tag.group(0)), 0)
        if depth == 0:
            pieces.append(fragment[start : tag.end()])
            start = tag.end()
    if start < len(fragment):
        pieces.append(fragment[start:])
    return [piece for piece in pieces if piece.strip()]


def _depth_change(tag: str) -> int:
    name = _TAG_NAME.match(tag)
    if (name and name.group(1).lower() in _VOID_TAGS) or tag.endswith("/>"):
        return 0
    return -1 if tag.startswith("</") else 1


def clean(value: str | None) -> str:
    """Text safe in XML 1.0 and UTF-8: forbidden characters and lone surrogates removed."""
    return _NOT_XML_CHAR.sub("", value or "")


def absolute_url(url: str | None) -> str | None:
    """A URL from a feed we read, if it is an absolute http(s) URL without whitespace whose
    host is not written as a private or local address (169.254.169.254, 10.0.0.1, localhost):
    our feeds never send listeners' apps into their own network. Else None."""
    return links.public_url(clean(url))


def _http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without whitespace, else None."""
    return links.http_url(clean(url))


def site_image(site: SiteConfig) -> str:
    """The site's cover: site.image (absolute, or relative to the site root), else the
    cover the renderer ships at DEFAULT_COVER_PATH."""
    image = clean(site.image).strip()
    if _http_url(image):  # the site's own choice, as its base_url is
        return image
    if image and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", image):
        own = _http_url(urls.absolute(site.base_url, image.lstrip("/")))
        return own or urls.absolute(site.base_url, DEFAULT_COVER_PATH)
    return urls.absolute(site.base_url, DEFAULT_COVER_PATH)


def enclosure_url(episode: Episode) -> str | None:
    return absolute_url(episode.enclosure.url) if episode.enclosure else None


def media_type(episode: Episode) -> str:
    """The enclosure's MIME type; when the feed's is unusable, one from the file extension."""
    given = clean(episode.enclosure.type if episode.enclosure else "").strip()
    if _MIME_TYPE.match(given):
        return given
    path = urlsplit(enclosure_url(episode) or "").path.lower()
    extension = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    return _MEDIA_TYPES.get(extension, DEFAULT_MEDIA_TYPE)


def language_tag(language: str | None) -> str:
    """The site's language when it is a language tag ("en", "de-CH"), else "en"."""
    value = clean(language).strip()
    return value if _LANGUAGE_TAG.match(value) else "en"


def rfc2822(moment: datetime) -> str:
    """In the moment's own offset ("+0100"), or GMT for UTC and naive moments."""
    if moment.tzinfo is not None and moment.utcoffset():
        return format_datetime(moment)
    return format_datetime(_utc(moment), usegmt=True)


def rfc3339(moment: datetime) -> str:
    """In the moment's own offset ("+01:00"), or Z for UTC and naive moments."""
    if moment.tzinfo is not None and moment.utcoffset():
        return moment.isoformat(timespec="seconds")
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- RSS ------------------------------------------------------------------------------------


def _channel_elements(
    channel: ET.Element,
    catalog: Catalog,
    spec: FeedSpec,
    episodes: Sequence[Episode],
    podcasts: dict[str, Podcast],
) -> None:
    site = catalog.site
    title = clean(spec.title).strip() or GENERATOR
    description = clean(spec.description).strip() or title
    _text(channel, "title", title)
    _text(channel, "link", spec.home_page)
    _text(channel, "description", _cut_plain(description, DESCRIPTION_LIMIT))
    _text(channel, "language", language_tag(site.language))
    _text(channel, "generator", GENERATOR)
    newest = episodes[0].published if episodes else catalog.built_at
    built = catalog.built_at or newest
    if built is not None and newest is not None:
        _text(channel, "lastBuildDate", rfc2822(built))
        _text(channel, "pubDate", rfc2822(newest))
    _element(channel, _atom("link"), href=spec.url(site), rel="self", type="application/rss+xml")
    cover = ET.SubElement(channel, "image")
    _text(cover, "url", site_image(site))
    _text(cover, "title", title)
    _text(cover, "link", spec.home_page)
    explicit = any(_is_explicit(episode, podcasts.get(episode.podcast)) for episode in episodes)
    _channel_apple(channel, site, explicit)
    _text(channel, _podcast("block"), _yes_no(site.block))
    _text(channel, _podcast("guid"), podcast_guid(spec.url(site)))


def _channel_apple(channel: ET.Element, site: SiteConfig, explicit: bool) -> None:
    _element(channel, _itunes("image"), href=site_image(site))
    _text(channel, _itunes("author"), clean(site.author or site.title))
    _owner(channel, site)
    _element(channel, _itunes("category"), text=CATEGORY)
    _text(channel, _itunes("explicit"), _true_false(explicit))
    _text(channel, _itunes("type"), "episodic")
    _text(channel, _itunes("block"), _yes_no(site.block))


def _owner(channel: ET.Element, site: SiteConfig) -> None:
    email = clean(site.email).strip()
    if not _EMAIL.match(email):
        return  # Apple uses the owner email to verify ownership: none beats a wrong one
    owner = ET.SubElement(channel, _itunes("owner"))
    _text(owner, _itunes("name"), clean(site.author or site.title))
    _text(owner, _itunes("email"), email)


def _item(
    channel: ET.Element,
    site: SiteConfig,
    episode: Episode,
    podcast: Podcast,
    topics: dict[str, str],
) -> None:
    item = ET.SubElement(channel, "item")
    page = episode_url(site, episode)
    _text(item, "title", episode_title(episode, podcast))
    _text(item, "link", page)
    _text(item, "guid", item_guid(episode), isPermaLink="false")
    _text(item, "pubDate", rfc2822(publisher_time(episode)))  # the offset the show wrote
    description = item_description(episode, page)
    _text(item, "description", description)
    full = fit_html(content_html(episode.notes_html), CONTENT_LIMIT, page)
    if full and full != description:
        _text(item, _content("encoded"), full)
    _enclosure(item, episode)
    for name in _topic_names(episode, topics):
        _text(item, "category", name)
    source = absolute_url(podcast.feed_url)
    if source:
        _text(item, "source", clean(podcast.title) or podcast.slug, url=source)
    _itunes_item_elements(item, episode, podcast)
    _podcast_item_elements(item, site, episode)


def _enclosure(item: ET.Element, episode: Episode) -> None:
    assert episode.enclosure is not None  # select_episodes keeps only episodes with one
    url = enclosure_url(episode) or ""
    # RSS 2.0 requires a length; the RSS Best Practices Profile says 0 when it is unknown.
    length = episode.enclosure.length if (episode.enclosure.length or 0) > 0 else 0
    _element(item, "enclosure", url=url, length=str(length), type=media_type(episode))


def _itunes_item_elements(item: ET.Element, episode: Episode, podcast: Podcast) -> None:
    if episode.duration is not None and episode.duration >= 0:
        _text(item, _itunes("duration"), str(int(episode.duration)))
    image = absolute_url(episode.image) or absolute_url(podcast.image)
    if image:
        _element(item, _itunes("image"), href=image)
    if episode.number is not None and episode.number > 0:
        _text(item, _itunes("episode"), str(episode.number))
    if episode.season is not None and episode.season > 0:
        _text(item, _itunes("season"), str(episode.season))
    _text(item, _itunes("episodeType"), episode.episode_type or "full")
    explicit = episode.explicit if episode.explicit is not None else podcast.explicit
    if explicit is not None:
        _text(item, _itunes("explicit"), _true_false(explicit))
    _text(item, _itunes("author"), clean(podcast.author or podcast.title) or podcast.slug)


def _podcast_item_elements(item: ET.Element, site: SiteConfig, episode: Episode) -> None:
    chapters = chapters_url(site, episode)
    if chapters:
        _element(item, _podcast("chapters"), url=chapters, type="application/json+chapters")
    for transcript in episode.transcripts:
        url = absolute_url(transcript.url)
        mime = clean(transcript.type).strip()
        if url and _MIME_TYPE.match(mime):
            attributes = {"url": url, "type": mime}
            if transcript.language:
                attributes["language"] = clean(transcript.language).strip()
            if transcript.rel == "captions":
                attributes["rel"] = "captions"
            _element(item, _podcast("transcript"), **attributes)
    if episode.transcript_turns:  # the one cut out of the notes, as the site writes it
        url = urls.absolute(site.base_url, urls.transcript(episode))
        _element(item, _podcast("transcript"), url=url, type="text/html")
    for person in episode.people:
        name = clean(person.name).strip()[:128]
        if not name:
            continue
        attributes = {"role": clean(person.role).strip().lower() or "host"}
        group = clean(person.group).strip().lower()[:64]
        if group:
            attributes["group"] = group
        for key, value in (("href", person.href), ("img", person.img)):
            url = absolute_url(value)
            if url:
                attributes[key] = url
        _text(item, _podcast("person"), name, **attributes)


def chapters_url(site: SiteConfig, episode: Episode) -> str | None:
    """Our chapters file beside the episode page, else the feed's own chapters link."""
    if episode.chapters:
        return urls.absolute(site.base_url, urls.chapters(episode))
    return absolute_url(episode.chapters_url)


def episode_url(site: SiteConfig, episode: Episode) -> str:
    return urls.absolute(site.base_url, urls.episode(episode))


def item_guid(episode: Episode) -> str:
    """Stable forever: the archive's episode id never changes."""
    return GUID_PREFIX + clean(episode.id)


def episode_title(episode: Episode, podcast: Podcast) -> str:
    title = clean(episode.title).strip()
    if title:
        return title
    return f"{clean(podcast.title) or podcast.slug}, {publisher_time(episode):%Y-%m-%d}"


# --- JSON Feed ------------------------------------------------------------------------------


def _json_item(
    site: SiteConfig, episode: Episode, podcasts: dict[str, Podcast], topics: dict[str, str]
) -> dict[str, object]:
    podcast = podcasts.get(episode.podcast) or _unknown_podcast(episode.podcast)
    page = episode_url(site, episode)
    body = fit_html(content_html(episode.notes_html), CONTENT_LIMIT, page)
    item: dict[str, object] = {
        "id": item_guid(episode),
        "url": page,
        "external_url": absolute_url(episode.link),
        "title": episode_title(episode, podcast),
        "content_html": body or item_description(episode, page),
        "summary": clean(episode.summary),
        "image": absolute_url(episode.image) or absolute_url(podcast.image),
        "date_published": rfc3339(publisher_time(episode)),
        "authors": [_json_author(podcast)],
        "tags": _topic_names(episode, topics),
        "language": _valid_language(episode.language or podcast.language),
        "attachments": _json_attachments(episode),
    }
    return item


def _json_author(podcast: Podcast) -> dict[str, object]:
    return {
        "name": clean(podcast.title) or podcast.slug,
        "url": absolute_url(podcast.link),
        "avatar": absolute_url(podcast.image),
    }


def _json_attachments(episode: Episode) -> list[dict[str, object]]:
    url = enclosure_url(episode)
    if episode.enclosure is None or url is None:
        return []
    attachment: dict[str, object] = {
        "url": url,
        "mime_type": media_type(episode),
        "size_in_bytes": episode.enclosure.length if (episode.enclosure.length or 0) > 0 else None,
        "duration_in_seconds": episode.duration if (episode.duration or 0) > 0 else None,
    }
    return [attachment]


def _drop_empty_fields(fields: dict[str, object]) -> dict[str, object]:
    return {key: _drop_empty(value) for key, value in fields.items() if value not in _EMPTY}


def _drop_empty(value: object) -> object:
    """JSON Feed leaves unknown fields out rather than writing null or empty strings."""
    if isinstance(value, dict):
        pairs = ((key, _drop_empty(item)) for key, item in value.items())
        return {key: item for key, item in pairs if item not in _EMPTY}
    if isinstance(value, list):
        return [_drop_empty(item) for item in value]
    return value


# --- small helpers --------------------------------------------------------------------------


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = _element(parent, tag, **attributes)
    element.text = clean(text)
    return element


def _element(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, {key: clean(value) for key, value in attributes.items()})


def _itunes(name: str) -> str:
    return f"{{{ITUNES_NS}}}{name}"


def _podcast(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


def _atom(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def _content(name: str) -> str:
    return f"{{{CONTENT_NS}}}{name}"


def _topic_names(episode: Episode, topics: dict[str, str]) -> list[str]:
    return [clean(topics[slug]) for slug in episode.topics if slug in topics]


def _valid_language(language: str | None) -> str | None:
    value = clean(language).strip()
    return value if _LANGUAGE_TAG.match(value) else None


def _is_explicit(episode: Episode, podcast: Podcast | None) -> bool:
    if episode.explicit is not None:
        return episode.explicit
    return bool(podcast and podcast.explicit)


def _unknown_podcast(slug: str) -> Podcast:
    return Podcast(slug=slug, title=slug, feed_url="")


def _true_false(flag: bool) -> str:
    return "true" if flag else "false"


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text, quote=False)}</p>" if text.strip() else ""


def _cut_plain(text: str, limit: int) -> str:
    """Plain text cut to `limit` UTF-8 bytes at a word boundary, with an ellipsis."""
    if _size(text) <= limit:
        return text
    head = text.encode("utf-8")[: limit - len("…".encode())].decode("utf-8", "ignore")
    cut = head.rsplit(None, 1)[0] if " " in head.strip() else head
    return cut.rstrip() + "…"


def _cut_text_paragraph(fragment: str, budget: int) -> str:
    """The fragment's text (still HTML-escaped) as one paragraph within `budget` bytes."""
    text = " ".join(nh3.clean(fragment, tags=set()).split())
    limit = budget - len("<p></p>")
    if _size(text) > limit:
        # Cutting at a space never splits an entity; a single huge word might, so trim it.
        text = _PARTIAL_ENTITY.sub("", _cut_plain(text, limit).removesuffix("…")) + "…"
    return f"<p>{text}</p>"
