"""ParsedFeed -> NormalizedFeed: pure, no I/O.

Every field is cleaned here or by the helpers it calls (sanitize, fields, dates, chapters,
topics, language). The same input and `now` always give the same output.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import unquote, urlsplit

from devcasts.ingest import details, fields
from devcasts.ingest.chapters import chapters_from_html, chapters_from_psc
from devcasts.ingest.dates import (
    WrittenDate,
    parse_duration,
    parse_explicit,
    parse_number,
    parse_written_date,
)
from devcasts.ingest.duplicates import distinct_episodes
from devcasts.ingest.inline_transcript import cut_transcript
from devcasts.ingest.language import detect_other_language, normalize_language, primary
from devcasts.ingest.sanitize import (
    clean_text,
    clean_url,
    html_to_text,
    notes_to_html,
    summarize,
)
from devcasts.ingest.summary import episode_summary
from devcasts.ingest.topics import TopicMatcher
from devcasts.model import FeedSource, Topic
from devcasts.records import Enclosure, Episode, NormalizedFeed, ParsedFeed, ParsedItem, Podcast
from devcasts.util.episode_dates import publisher_time
from devcasts.util.text import short_hash

__all__ = ["normalize_feed", "normalize_podcast"]

TITLE_CHARS = 300
SUMMARY_CHARS = 300
SUMMARY_SOURCE_CHARS = 1500  # only the start of the notes: a pasted transcript is no summary
SEARCH_TEXT_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class _FeedContext:
    podcast: Podcast
    feed: ParsedFeed
    base: str | None  # the document's URL (else the show's site): relative URLs resolve here
    now: datetime
    matcher: TopicMatcher


def normalize_feed(
    source: FeedSource,
    feed: ParsedFeed,
    topics: Sequence[Topic],
    now: datetime,
    feed_url: str,
) -> NormalizedFeed:
    """The podcast and its episodes; off-topic (with include: topics) and unusable items are
    counted in `dropped`, duplicates inside the feed in `merged`."""
    podcast = normalize_podcast(source, feed, feed_url)
    context = _FeedContext(
        podcast=podcast,
        feed=feed,
        base=_http_url(feed_url) or podcast.link,
        now=now,
        matcher=_topic_matcher(tuple(topics)),
    )
    kept: list[Episode] = []
    for item in feed.items:
        episode = _episode(item, context)
        if episode is not None and (source.include == "all" or episode.topics):
            kept.append(episode)
    kept = _finished(kept, podcast.language)
    unique = distinct_episodes(kept)
    return NormalizedFeed(
        podcast=replace(podcast, language=podcast.language or _main_language(kept)),
        episodes=tuple(unique),
        dropped=len(feed.items) - len(kept),
        merged=len(kept) - len(unique),
    )


@functools.lru_cache(maxsize=8)
def _topic_matcher(topics: tuple[Topic, ...]) -> TopicMatcher:
    """One matcher for every feed of a build: compiling the patterns costs milliseconds."""
    return TopicMatcher(topics)


def normalize_podcast(source: FeedSource, feed: ParsedFeed, feed_url: str) -> Podcast:
    feed_base = _http_url(feed_url)
    link = page_link(feed.link, feed_base)
    description_html = notes_to_html(feed.description, link or feed_base)
    return Podcast(
        slug=source.slug,
        title=details.title_text(source.title or feed.title, TITLE_CHARS, plain=feed.plain_titles)
        or source.slug,
        feed_url=source.url,
        link=link,
        description_html=description_html,
        summary=summarize(html_to_text(description_html)[:SUMMARY_SOURCE_CHARS], SUMMARY_CHARS),
        image=clean_url(feed.image, feed_base or link) if feed.image else None,
        language=normalize_language(feed.language),
        author=clean_text(feed.author, fields.NAME_LIMIT),
        categories=fields.categories(feed.categories),
        explicit=parse_explicit(feed.explicit),
        include=source.include,
        weight=source.weight,
    )


def page_link(raw: str, base: str | None) -> str | None:
    """A web page link, cleaned; text with spaces inside ("THIS LINK IS INVALID") is none."""
    text = raw.strip()
    if not text or len(text.split(maxsplit=1)) > 1:  # a space inside splits it in two
        return None
    return clean_url(text, base)


def _http_url(url: str) -> str | None:
    return url if url[:8].lower().startswith(("http://", "https://")) else None


# --- one item -------------------------------------------------------------------------------


def _episode(item: ParsedItem, context: _FeedContext) -> Episode | None:
    """The item as an episode, or None when it has nothing to show (no title, notes, audio)."""
    podcast = context.podcast
    base = context.base
    link = page_link(item.link, base)
    # Notes are often copied from the episode's page: their relative links point there.
    full_notes_html = notes_to_html(
        item.content or item.description, details.notes_base(item.base, link, base)
    )
    text = html_to_text(full_notes_html)  # search keeps a pasted transcript's words
    notes_html, transcript_turns = cut_transcript(full_notes_html, text)
    chosen = fields.choose_enclosure(item.enclosures, base)
    enclosure, enclosure_url = chosen if chosen else (None, "")
    title = details.title_text(item.title, TITLE_CHARS, plain=context.feed.plain_titles)
    if not (title or text or enclosure or link):
        return None
    written = _written_date(item)
    written_date = written.utc if written else None  # the identity keeps even a placeholder
    dated = written if written and not written.placeholder else None
    published = min(dated.utc, context.now) if dated else context.now
    duration = parse_duration(item.duration)
    number = parse_number(item.episode)
    title = title or _fallback_title(text, number, enclosure)
    identity = _identity(item, enclosure_url, link, title, written_date)
    return Episode(
        id=short_hash(podcast.slug + "\n" + identity),
        podcast=podcast.slug,
        guid=identity,
        title=title,
        published=published,
        utc_offset=dated.offset if dated else None,
        link=link,
        summary=episode_summary(notes_html, title, item.subtitle, SUMMARY_CHARS),
        notes_html=notes_html,
        text=text[:SEARCH_TEXT_CHARS],
        duration=duration,
        enclosure=enclosure,
        chapters=(
            chapters_from_psc(item.psc_chapters, link or base)
            or chapters_from_html(notes_html, duration)
        ),
        chapters_url=clean_url(item.chapters_url, base) if item.chapters_url else None,
        people=fields.episode_people(item.people or context.feed.people, item.author, base, text),
        transcripts=fields.transcripts(item.transcripts, base),
        language=normalize_language(item.language) if item.language else None,
        topics=context.matcher.match(title, text),
        categories=fields.categories(item.categories),
        image=(clean_url(item.image, base) if item.image else None) or podcast.image,
        number=number,
        season=parse_number(item.season),
        explicit=_explicit(item.explicit, podcast.explicit),
        episode_type=details.episode_type(item.episode_type),
        date_estimated=dated is None,
        date_clamped=dated is not None and dated.utc > context.now,
        transcript_turns=transcript_turns,
    )


def _written_date(item: ParsedItem) -> WrittenDate | None:
    """Our reading of the date as written (with its offset), else feedparser's (UTC)."""
    written = parse_written_date(item.published)
    if written is None and item.published_parsed is not None:
        return WrittenDate(item.published_parsed)
    return written


def _identity(
    item: ParsedItem, enclosure_url: str, link: str | None, title: str, date: datetime | None
) -> str:
    """What makes the episode itself: guid, else enclosure URL, else link, else title + date."""
    guid = item.guid.strip()
    if guid:
        return guid
    if enclosure_url:
        return enclosure_url
    if link:
        return link
    return title + "\n" + (date.isoformat() if date else "")


def _fallback_title(text: str, number: int | None, enclosure: Enclosure | None) -> str:
    if text:
        return summarize(text, 80)
    if number is not None:
        return f"Episode {number}"
    if enclosure is not None:
        name = clean_text(unquote(urlsplit(enclosure.url).path.rsplit("/", 1)[-1]), 80)
        if name:
            return name
    return "Untitled episode"


def _explicit(raw: str, podcast_explicit: bool | None) -> bool | None:
    """itunes:explicit of the item; an item that says nothing inherits the show's."""
    explicit = parse_explicit(raw)
    return podcast_explicit if explicit is None else explicit


# --- across the feed's episodes -------------------------------------------------------------


def _finished(episodes: list[Episode], feed_language: str | None) -> list[Episode]:
    """The episodes with their language and content hash (one copy each: they are frozen)."""
    finished: list[Episode] = []
    for episode in episodes:
        language = _language(episode, feed_language)
        digest = _content_hash(episode, language)
        finished.append(replace(episode, language=language, content_hash=digest))
    return finished


def _language(episode: Episode, feed_language: str | None) -> str | None:
    """The episode's own tag, else the feed's, unless the text is confidently in another
    language (feeds that mix languages declare only one)."""
    if episode.language is not None:
        return episode.language
    text = episode.title + "\n" + episode.text
    return detect_other_language(text, primary(feed_language)) or feed_language


def _main_language(episodes: Sequence[Episode]) -> str | None:
    """For a feed that declares no language: the language of at least half its episodes."""
    counts = Counter(episode.language for episode in episodes if episode.language)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    if ranked and ranked[0][1] * 2 >= len(episodes):
        return ranked[0][0]
    return None


def content_hash(episode: Episode) -> str:
    """A hash of what readers see: tells an edit from no change.

    Identity, archive fields and a date that stands in for a missing or future one are left
    out, so the hash stays the same from one build to the next.
    """
    return _content_hash(episode, episode.language)


def _content_hash(episode: Episode, language: str | None) -> str:
    if episode.date_estimated:
        date = "estimated"
    elif episode.date_clamped:
        date = "clamped"
    else:  # on the publisher's clock: a newly read offset is an edit
        date = publisher_time(episode).isoformat()
    content = (
        episode.title, date, episode.link, episode.summary, episode.notes_html,
        episode.duration, episode.enclosure, episode.chapters, episode.chapters_url,
        episode.people, episode.transcripts, language, episode.topics,
        episode.categories, episode.image, episode.number, episode.season, episode.explicit,
        *((episode.episode_type,) if episode.episode_type else ()),  # old hashes hold
        *((episode.transcript_turns,) if episode.transcript_turns else ()),
    )  # fmt: skip
    return hashlib.sha256(repr(content).encode("utf-8", "surrogatepass")).hexdigest()[:32]
