"""Folding a build's feeds into the archive: new episodes claim a slug for good, known ones
take the feed's latest content under their first identity. Nothing is ever dropped."""

from __future__ import annotations

import itertools
import types
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from devcasts.archive.podcast_slugs import choose_podcast_slug
from devcasts.archive.state import (
    ArchiveChanges,
    ArchiveState,
    PodcastArchive,
    archive_order,
    feed_key,
    utc,
)
from devcasts.records import Episode, NormalizedFeed
from devcasts.util.text import readable_slug, short_hash

__all__ = ["RESERVED_SLUGS", "merge_feeds"]

# Episode slugs that would clash with listing pages the renderer may put beside episodes.
RESERVED_SLUGS = frozenset({"page", "feed", "index"})


def merge_feeds(
    state: ArchiveState,
    feeds: Sequence[NormalizedFeed],
    now: datetime,
    *,
    titled: Collection[str] = frozenset(),
    given: Collection[str] = frozenset(),
) -> tuple[ArchiveState, ArchiveChanges]:
    """Fold this build's feeds into the archive. Feeds not given (failed, gone) stay as they were.

    A feed is found by its key (its NormalizedFeed's podcast.slug, FeedSource.slug). A feed
    archived for the first time gets its podcast's slug for good (podcast_slugs.py): from its
    title when its key is in `titled` (feeds.yaml gives it no `slug:`), else the key itself;
    a title's slug never takes a key of `given` (every `slug:` of feeds.yaml) or of `feeds`.
    ArchiveChanges are keyed by feed key. An archived episode a feed no longer lists gets
    `dropped` (see _marked_dropped); nothing is written for an episode that stays unchanged
    in its feed, so a rebuild with nothing new, on any day, rewrites no archive file.
    """
    now = utc(now).replace(microsecond=0)
    records = {feed_key(record.podcast): record for record in state.podcasts}
    taken = {record.podcast.slug for record in state.podcasts}
    keys = {feed.podcast.slug for feed in feeds if feed.podcast.slug not in titled} | set(given)
    new: dict[str, tuple[str, ...]] = {}
    updated: dict[str, tuple[str, ...]] = {}
    changed: set[str] = set()
    touched: set[str] = set()
    # In key order, so that two new shows of the same title always get the same slugs.
    for feed in sorted(feeds, key=lambda f: f.podcast.slug):
        key = feed.podcast.slug
        before = records.get(key)
        if before is not None:
            slug = before.podcast.slug
        else:
            from_title = key in titled
            reserved = taken | (keys - {key}) if from_title else taken
            slug = choose_podcast_slug(feed.podcast, from_title=from_title, taken=reserved)
            taken.add(slug)
        record, added, edited = _merge_podcast(before, feed, slug, now)
        records[key] = record
        if added:
            new[key] = added
        if edited:
            updated[key] = edited
        if added or edited or before is None or before.podcast != record.podcast:
            changed.add(key)
        if record != before:
            touched.add(key)
    merged = ArchiveState(tuple(sorted(records.values(), key=lambda r: r.podcast.slug)))
    changes = ArchiveChanges(
        new_episodes=types.MappingProxyType(dict(sorted(new.items()))),
        updated_episodes=types.MappingProxyType(dict(sorted(updated.items()))),
        changed_podcasts=frozenset(changed),
        touched_podcasts=frozenset(touched),
    )
    return merged, changes


def _merge_podcast(
    before: PodcastArchive | None, feed: NormalizedFeed, slug: str, now: datetime
) -> tuple[PodcastArchive, tuple[str, ...], tuple[str, ...]]:
    key = feed.podcast.slug
    podcast = replace(feed.podcast, slug=slug, feed_key="" if key == slug else key)
    by_id = {episode.id: episode for episode in before.episodes} if before else {}
    taken = {episode.slug for episode in by_id.values()}
    added: list[str] = []
    edited: list[str] = []
    # Sorted, so the slugs handed out never depend on the order of items in the feed.
    for incoming in _distinct_by_id(feed.episodes):
        if incoming.podcast != slug:
            incoming = replace(incoming, podcast=slug)
        prior = by_id.get(incoming.id)
        if prior is None:
            episode_slug = _claim_slug(incoming, taken)
            by_id[incoming.id] = _first_archived(incoming, episode_slug, now)
            added.append(incoming.id)
            continue
        merged = _seen_again(prior, incoming, now)
        if not _same_content(prior, merged):
            edited.append(incoming.id)
        by_id[incoming.id] = merged
    if feed.episodes:
        listed = {episode.id for episode in feed.episodes}
        for episode_id, episode in by_id.items():
            if episode_id not in listed:
                by_id[episode_id] = _marked_dropped(episode, now)
    episodes = tuple(sorted(by_id.values(), key=archive_order))
    return PodcastArchive(podcast, episodes), tuple(added), tuple(edited)


def _distinct_by_id(episodes: Iterable[Episode]) -> list[Episode]:
    """One episode per id (the first in a fixed order), sorted by (published, id)."""
    chosen: dict[str, Episode] = {}
    for episode in sorted(episodes, key=lambda e: (*archive_order(e), e.content_hash)):
        chosen.setdefault(episode.id, episode)
    return list(chosen.values())


def _claim_slug(episode: Episode, taken: set[str]) -> str:
    """The title's slug (`episode-<date>` for a title without words); on a clash add the
    date, then a short hash of the id, then a counter."""
    words = readable_slug(episode.title)
    base = words or f"episode-{episode.published:%Y-%m-%d}"
    dated = f"{words}-{episode.published:%Y-%m-%d}" if words else base
    hashed = f"{dated}-{short_hash(episode.id, 6)}"
    counted = (f"{hashed}-{n}" for n in itertools.count(2))
    candidates = itertools.chain((base, dated, hashed), counted)
    slug = next(c for c in candidates if c not in taken and c not in RESERVED_SLUGS)
    taken.add(slug)
    return slug


def _first_archived(episode: Episode, slug: str, now: datetime) -> Episode:
    return replace(episode, slug=slug, first_seen=now, last_seen=now, also_in=(), featured=False)


def _marked_dropped(episode: Episode, now: datetime) -> Episode:
    """An archived episode missing from its feed's latest read (an empty read marks none:
    more likely a broken feed than an emptied show). The first build that misses it records
    when; later ones leave it, so that the file changes once."""
    return episode if episode.dropped is not None else replace(episode, dropped=now)


def _seen_again(prior: Episode, incoming: Episode, now: datetime) -> Episode:
    """The incoming content under the prior identity; an estimated date never drifts.

    `last_seen` moves only with another change (an edit, a return after being dropped), so
    that an episode that stays in its feed unchanged never rewrites its file."""
    if incoming.content_hash and incoming.content_hash == prior.content_hash:
        # Same content (the hash covers every content field): nothing but a return to note.
        return _back_in_feed(prior, now)
    published, estimated, clamped = incoming.published, incoming.date_estimated, False
    if incoming.date_estimated or incoming.date_clamped:
        # The feed gives no usable date: keep the one the episode got when first archived.
        published, estimated, clamped = prior.published, prior.date_estimated, prior.date_clamped
    candidate = replace(
        incoming,
        slug=prior.slug,
        first_seen=prior.first_seen,
        last_seen=now,
        dropped=None,
        published=published,
        date_estimated=estimated,
        date_clamped=clamped,
        also_in=(),
        featured=False,
        linked_chapters=prior.linked_chapters,  # read from the link; kept until read again
        linked_chapters_url=prior.linked_chapters_url,
        linked_transcript=prior.linked_transcript,  # as the chapters: kept until read again
        linked_transcript_url=prior.linked_transcript_url,
    )
    if _same_content(prior, candidate):
        return _back_in_feed(prior, now)
    return candidate


def _back_in_feed(prior: Episode, now: datetime) -> Episode:
    """`prior`, listed by its feed again: a dropped episode that comes back is seen now."""
    return prior if prior.dropped is None else replace(prior, dropped=None, last_seen=now)


def _same_content(a: Episode, b: Episode) -> bool:
    """Equal apart from bookkeeping (content_hash may cover a drifting date; last_seen and
    dropped)."""
    return replace(b, last_seen=a.last_seen, content_hash=a.content_hash, dropped=a.dropped) == a
