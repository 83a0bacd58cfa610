"""Where everything on the site lives: the one module that knows the site's layout.

Every path here is relative to the site root. A path ending in "/" (or the home page's "")
is a page: its file is `index.html` in that folder (`output_file`), and links show the
folder. Links inside the site are written under the site's base path (`href`); feeds,
sitemaps and JSON-LD use absolute URLs (`absolute`). Pure functions, no I/O.

The renderer, the templates (through `url_for`), the published feeds, the search index and
the browser index all take their paths from here, and tests/test_urls.py fails when another
module or a template spells a site path itself. Published URLs never change: a reader's
bookmark and a podcast app's episode link must keep working.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from devcasts.records import Episode
from devcasts.util.text import slugify

INDEX_FILE = "index.html"  # a folder's page, as every static host serves it
SEARCH_INDEX_DIR = "search-index"  # the in-browser search's files
STATIC_DIR = "static"
ART_DIR = "art"  # covers resized at build time (site/artwork.py)
# Top-level names the site uses, which a content page (content/<name>.md) may not take.
RESERVED_NAMES = frozenset(
    {"index", "podcasts", "topics", "people", "categories", "archive", "search", "health"}
    | {STATIC_DIR, SEARCH_INDEX_DIR, "404", "feed", "sitemap", "robots", "opml"}
    | {ART_DIR, "apple-touch-icon"}
)
_SAFE_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# --- pages ----------------------------------------------------------------------------------


def home() -> str:
    return ""


def podcasts() -> str:
    return "podcasts/"


def podcast(slug: str) -> str:
    """A podcast's page, and the first page of its episode listing."""
    return f"podcasts/{slug}/"


def episode(item: Episode) -> str:
    """An episode's page: under its podcast, at the slug the archive fixed at first sight."""
    return f"podcasts/{item.podcast}/{item.slug}/"


def topics() -> str:
    return "topics/"


def topic(slug: str) -> str:
    """A topic's newest-first listing."""
    return f"topics/{_segment(slug)}/"


def topic_popular(slug: str) -> str:
    return f"topics/{_segment(slug)}/popular/"


def people() -> str:
    return "people/"


def person(slug: str) -> str:
    return f"people/{slug}/"


def categories() -> str:
    return "categories/"


def category(slug: str) -> str:
    return f"categories/{slug}/"


def archive() -> str:
    return "archive/"


def year(number: int) -> str:
    return f"archive/{number}/"


def listing_page(first: str, number: int) -> str:
    """Page `number` of the listing whose first page is `first` (see pages.paginate)."""
    return f"{first}page/{number}/"


_LISTING_PAGE = re.compile(r"(?:^|/)page/\d+/$")


def is_listing_page(relpath: str) -> bool:
    """Whether `relpath` is a listing's numbered page (listing_page), not its first."""
    return "page/" in relpath and _LISTING_PAGE.search(relpath) is not None  # `in`: cheap


def search() -> str:
    return "search/"


def health() -> str:
    return "health/"


def content_page(slug: str) -> str:
    """The page made from content/<slug>.md."""
    return f"{slug}/"


def not_found() -> str:
    """The page GitHub Pages serves for an unknown address; a file, not a folder."""
    return "404.html"


# --- files ----------------------------------------------------------------------------------


def chapters(item: Episode) -> str:
    """The episode's Podcasting 2.0 JSON chapters, beside its page."""
    return episode(item) + "chapters.json"


def transcript(item: Episode) -> str:
    """The transcript cut out of the episode's notes, as an HTML file beside its page."""
    return episode(item) + "transcript.html"


def feed() -> str:
    """The RSS feed of all episodes."""
    return "feed.xml"


def json_feed() -> str:
    return "feed.json"


def topic_feed(slug: str) -> str:
    return topic(slug) + "feed.xml"


def health_json() -> str:
    return "health.json"


def sitemap() -> str:
    """The sitemap, or the sitemap index when the pages need several (sitemap_part)."""
    return "sitemap.xml"


def sitemap_part(number: int) -> str:
    return f"sitemap-{number}.xml"


def robots() -> str:
    return "robots.txt"


def opml() -> str:
    return "opml.xml"


def static(name: str) -> str:
    """A file shipped from templates/static/ ("style.css", "search.js")."""
    return f"{STATIC_DIR}/{name}"


def art(key: str, size: int, fmt: str) -> str:
    """A cover's copy: `key` names its source bytes, so a changed cover gets a new name."""
    return f"{ART_DIR}/{key}-{size}.{fmt}"


def apple_touch_icon() -> str:
    """The home-screen icon, where iOS looks for it when a page names none."""
    return "apple-touch-icon.png"


def search_index(name: str) -> str:
    """A file of the in-browser search index ("meta.json", "t/ku.bin")."""
    return f"{SEARCH_INDEX_DIR}/{name}"


# --- from paths to files and links ------------------------------------------------------------


def output_file(path: str) -> str:
    """The file under site/ that serves `path`: a page's is the folder's index.html."""
    return path + INDEX_FILE if path.endswith("/") or not path else path


def href(base_path: str, path: str) -> str:
    """A link from one page of the site to another: `path` under the site's base path."""
    return base_path + path


def absolute(base_url: str, path: str) -> str:
    """The absolute URL of `path`, for feeds, sitemaps, canonical links and JSON-LD."""
    return base_url + path


# --- by name, for templates -------------------------------------------------------------------

KINDS: Mapping[str, Callable[..., str]] = {
    make.__name__: make
    for make in (
        home,
        podcasts,
        podcast,
        episode,
        chapters,
        transcript,
        topics,
        topic,
        topic_popular,
        topic_feed,
        people,
        person,
        categories,
        category,
        archive,
        year,
        listing_page,
        search,
        health,
        health_json,
        content_page,
        not_found,
        feed,
        json_feed,
        sitemap,
        sitemap_part,
        robots,
        opml,
        static,
        art,
        apple_touch_icon,
        search_index,
    )
}


def path_for(kind: str, *args: Any) -> str:
    """The path of a `kind` of page or file, named after its function above ("episode",
    "topic_feed")."""
    return _maker(kind)(*args)


def link_maker(base_path: str) -> Callable[..., str]:
    """Templates' `url_for(kind, *args)`: `href(base_path, path_for(kind, *args))` in one
    call, since a page makes dozens of links."""

    def url_for(kind: str, *args: Any) -> str:
        return base_path + _maker(kind)(*args)

    return url_for


def _maker(kind: str) -> Callable[..., str]:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(KINDS)
        raise ValueError(f"no kind of page {kind!r} in site/urls.py; known: {known}") from None


def _segment(slug: str) -> str:
    """A topic's slug, unless that is unsafe in a path (feeds.yaml's slugs always are safe)."""
    return slug if _SAFE_SEGMENT.match(slug) else slugify(slug)
