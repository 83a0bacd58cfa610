"""Merging on the real feeds: every episode joined back to its source item, and the figures the
editorial rules promise (docs/editorial.md, "When two episodes are the same").

Every corpus feed is normalized as one show; the shows' episodes are merged as the catalog
merges them. Then: no merge without shared audio or strong evidence, every item a show published
is listed on its page (save the items the build rightly refuses, counted by reason), and each
merged episode keeps the best of its copies.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

import pytest
from conftest import CORPUS_NOW, corpus_feeds

from devcasts.catalog.dedupe import merge_across_feeds, same_episode_groups
from devcasts.ingest.normalize import normalize_feed
from devcasts.model import FeedSource
from devcasts.records import Episode, NormalizedFeed, ParsedFeed, ParsedItem
from devcasts.site.pages import episodes_published_by_podcast

pytestmark = pytest.mark.corpus

NOW = CORPUS_NOW
# Independent of dedupe's own rules: a title's words after an episode number, compared.
_PREFIX = re.compile(r"^(?:episode|ep|folge|no|nr)?\s*#?\s*0*(\d+)\s*[:.\-|]?\s*", re.IGNORECASE)
_STOCK = {"episode", "trailer", "weekly news", "untitled episode", "a", "hello world", "intro"}


@dataclass(frozen=True)
class Show:
    feed: NormalizedFeed
    items: tuple[ParsedItem, ...]


@cache
def shows() -> dict[str, Show]:
    return {c.source.slug: Show(c.feed, c.parsed.items) for c in corpus_feeds()}


@cache
def episodes() -> tuple[Episode, ...]:
    return tuple(e for show in shows().values() for e in show.feed.episodes)


@cache
def merged() -> tuple[Episode, ...]:
    images = {slug: show.feed.podcast.image for slug, show in shows().items()}
    return merge_across_feeds(episodes(), images)


def audio(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.strip())
    return parts.netloc.lower() + parts.path + ("?" + parts.query if "://" in parts.query else "")


def words(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", _PREFIX.sub(r"\1 ", plain.strip())).split())


def strongly_same(a: Episode, b: Episode) -> bool:
    if a.enclosure and b.enclosure and audio(a.enclosure.url) == audio(b.enclosure.url):
        return True
    title = words(a.title)
    specific = [w for w in title.split() if not w.isdigit()]
    if title != words(b.title) or title in _STOCK or len(specific) < 2:
        return False
    if a.date_estimated or b.date_estimated or a.published.year <= 1970:
        return False
    notes = [" ".join(e.text.casefold().split())[:200] for e in (a, b)]
    return (
        abs(a.published - b.published) < timedelta(days=1)
        or (
            a.duration is not None and b.duration is not None and abs(a.duration - b.duration) <= 10
        )
        or (len(notes[0]) >= 40 and notes[0] == notes[1])
    )


def source_items(episode: Episode, show: Show) -> list[ParsedItem]:
    """The feed items this episode came from: by guid (and audio, for a reused guid told
    apart); an item without a guid by the id the build gives it alone."""
    audio_url = episode.enclosure.url if episode.enclosure else ""
    found = [
        i
        for i in show.items
        if i.guid.strip()
        and (
            (episode.guid == i.guid.strip() and not told_apart(i, show))
            or (
                episode.guid == f"{i.guid.strip()} {audio_url}"
                and any(e.url.strip() == audio_url for e in i.enclosures)
            )
        )
    ]
    return found or without_guid(show.feed.podcast.slug).get(episode.id, [])


def told_apart(item: ParsedItem, show: Show) -> bool:
    """The item is an episode of its own under a guid that an earlier item has."""
    identities = {f"{item.guid.strip()} {e.url.strip()}" for e in item.enclosures}
    return any(episode.guid in identities for episode in show.feed.episodes)


@cache
def without_guid(slug: str) -> dict[str, list[ParsedItem]]:
    """The items without a guid by the id each gets when normalized on its own."""
    show = shows()[slug]
    source = FeedSource(url=show.feed.podcast.feed_url, slug=slug)
    by_id: dict[str, list[ParsedItem]] = defaultdict(list)
    for item in show.items:
        if not item.guid.strip():
            parsed = ParsedFeed(title=show.feed.podcast.title, items=(item,))
            for episode in normalize_feed(source, parsed, (), NOW, source.url).episodes:
                by_id[episode.id].append(item)
    return by_id


def test_every_episode_joins_back_to_its_items_and_no_item_is_lost() -> None:
    lost_reused_guids = 0
    refused: Counter[str] = Counter()
    for slug, show in shows().items():
        joined: set[int] = set()
        for episode in show.feed.episodes:
            items = source_items(episode, show)
            assert items, f"{slug}: {episode.title!r} joins no item"
            joined.update(map(id, items))
            for repeat in items[1:]:  # one guid, several items: repeats of one episode only
                refused["the same guid again"] += 1
                other_title = " ".join(repeat.title.split()) != episode.title
                audio_urls = {audio(e.url) for e in repeat.enclosures}
                if (
                    other_title
                    and episode.enclosure
                    and audio(episode.enclosure.url) not in audio_urls
                ):
                    lost_reused_guids += 1
        by_content = {
            (e.title, audio(e.enclosure.url) if e.enclosure else None) for e in show.feed.episodes
        }
        for item in show.items:
            if id(item) in joined:
                continue
            urls = [audio(e.url) for e in item.enclosures] or [None]
            if any((" ".join(item.title.split()), url) in by_content for url in urls):
                refused["the same content under another guid"] += 1
            else:
                assert not (item.title.strip() or item.enclosures), f"{slug}: {item.title!r} lost"
                refused["nothing to show"] += 1
    print(f"items refused: {dict(refused)}; reused-guid episodes lost: {lost_reused_guids}")
    assert lost_reused_guids == 0
    assert sum(refused.values()) == sum(s.feed.merged + s.feed.dropped for s in shows().values())


def test_no_false_merge_and_the_groups_real_feeds_need() -> None:
    all_episodes = episodes()
    groups = same_episode_groups(all_episodes)
    false = [
        [all_episodes[i].title for i in group]
        for group in groups
        if not all(
            any(strongly_same(all_episodes[i], all_episodes[j]) for j in group if j != i)
            for i in group
        )
    ]
    print(f"merged groups: {len(groups)}; false merges: {len(false)}")
    assert false == []
    titles = Counter(tuple(sorted(words(all_episodes[i].title) for i in g)) for g in groups)
    assert not any(set(key) & _STOCK for key in titles)
    by_podcasts = Counter(
        tuple(sorted({all_episodes[i].podcast for i in group})) for group in groups
    )
    coder = ("jb-coder-qa-2025-06-xml", "jb-coder-radio-2025-06-xml")
    assert by_podcasts[coder] >= 200  # the ad-free feed's "Episode N:" titles, same day


def test_every_show_lists_every_episode_it_published() -> None:
    listed = episodes_published_by_podcast(merged())
    fewer = {
        slug: (len(listed.get(slug, [])), len(show.feed.episodes))
        for slug, show in shows().items()
        if len(listed.get(slug, [])) < len(show.feed.episodes)
    }
    assert fewer == {}


def test_merged_episodes_keep_the_best_of_their_copies() -> None:
    all_episodes = episodes()
    by_id = {e.id: e for e in merged()}
    poorer = 0
    for group in same_episode_groups(all_episodes):
        copies = [all_episodes[i] for i in group]
        (shown,) = [by_id[c.id] for c in copies if c.id in by_id]
        if (
            len(shown.chapters) < max(len(c.chapters) for c in copies)
            or len(shown.text) < max(len(c.text) for c in copies)
            or {p.slug for c in copies for p in c.people} - {p.slug for p in shown.people}
            or (shown.duration is None and any(c.duration for c in copies))
            or (shown.number is None and any(c.number is not None for c in copies))
        ):
            poorer += 1
    assert poorer == 0
