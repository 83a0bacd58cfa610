"""A podcast's slug, the folder of its pages: chosen once, when its feed is first archived.

The slug is the feed's own title, read in Latin letters ("CRE: Technik, Kultur" gives
`cre-technik-kultur`), or the `slug:` that feeds.yaml gives. Its archive file records it, so
it never moves with a later title; a feed is found again by its key (FeedSource.slug).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from devcasts.records import Podcast
from devcasts.util.text import readable_slug, slugify

__all__ = ["RESERVED_PODCAST_SLUGS", "choose_podcast_slug", "location_slug"]

# `podcasts/page/2/` is the listing's second page.
RESERVED_PODCAST_SLUGS = frozenset({"page", "feed", "index"})
_FILE_SUFFIX = re.compile(r"\.(?:xml|rss|atom|json|php|aspx?|cgi|html?)$", re.IGNORECASE)
# Path segments that name no show ("/feed/podcast/rss.xml").
_GENERIC_SEGMENTS = frozenset({"feed", "feeds", "rss", "atom", "podcast", "podcasts", "itunes"})
_GENERIC_HOST_LABELS = ("www.", "feeds.", "feed.", "rss.")


def choose_podcast_slug(podcast: Podcast, *, from_title: bool, taken: Collection[str]) -> str:
    """The slug of a podcast archived for the first time: its title's when `from_title`, else
    its feed's key (podcast.slug: feeds.yaml's `slug:`); `-2`, `-3`... when another has it."""
    base = _title_slug(podcast) if from_title else podcast.slug
    candidates = itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2)))
    return next(c for c in candidates if c not in taken and c not in RESERVED_PODCAST_SLUGS)


def _title_slug(podcast: Podcast) -> str:
    # normalize names an untitled feed after its key, which is no title.
    title = "" if podcast.title == podcast.slug else podcast.title
    return readable_slug(title) or location_slug(podcast.feed_url) or slugify(podcast.slug)


def location_slug(location: str) -> str:
    """A feed's last telling path segment without its suffix, else its host without www.:
    `https://example.org/shows/deep-dive.rss` gives `deep-dive`, a local `talks.json` `talks`."""
    if location[:8].lower().startswith(("http://", "https://")):
        parts = urlsplit(location)
        segments = [s for s in parts.path.split("/") if s]
        host = (parts.hostname or "").lower()
    else:
        segments = [s for s in location.replace("\\", "/").split("/") if s]
        host = ""
    for segment in reversed(segments):
        stem = _FILE_SUFFIX.sub("", PurePosixPath(segment).name)
        slug = readable_slug(stem)
        if slug and slug not in _GENERIC_SEGMENTS:
            return slug
    for label in _GENERIC_HOST_LABELS:
        host = host.removeprefix(label)
    return readable_slug(host)
