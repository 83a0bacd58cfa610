"""What the listing pages show, decided from the Catalog alone: pure functions, no templates.

Pagination, the "popular" score, and the groupings behind the people, category and archive
pages live here so render.py only has to put them into templates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from devcasts.model import Episode, Podcast, Topic
from devcasts.text import slugify

T = TypeVar("T")

POPULAR_HALF_LIFE_DAYS = 180.0  # an episode's recency weight halves every six months


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated listing whose first page lives at `base`."""

    items: tuple[T, ...]
    number: int  # 1-based
    count: int  # pages in the listing
    base: str  # the listing's first page, relative to the site root, ending with "/"

    def path(self, number: int) -> str:
        return self.base if number == 1 else f"{self.base}page/{number}/"

    @property
    def relpath(self) -> str:
        return self.path(self.number)

    @property
    def numbers(self) -> tuple[int, ...]:
        """Page numbers worth a link: the ends and a window around this page."""
        window = {1, self.count, *range(self.number - 2, self.number + 3)}
        return tuple(n for n in sorted(window) if 1 <= n <= self.count)


def paginate(items: Sequence[T], base: str, size: int) -> list[Page[T]]:
    """Split `items` into pages of `size`; an empty listing still has its first page."""
    size = max(1, size)
    count = max(1, math.ceil(len(items) / size))
    return [Page(tuple(items[i * size : (i + 1) * size]), i + 1, count, base) for i in range(count)]


def popularity(episode: Episode, weight: float, built_at: datetime | None) -> float:
    """carriers x weight x recency, documented in docs/site.md ("Popular").

    carriers is how many shows published the episode (1 + also_in); weight is the podcast's
    `weight` from feeds.yaml; recency halves every POPULAR_HALF_LIFE_DAYS before `built_at`.
    """
    carriers = 1 + len(episode.also_in)
    age_days = 0.0
    if built_at is not None:
        age_days = max(0.0, (built_at - episode.published).total_seconds() / 86400)
    recency: float = 0.5 ** (age_days / POPULAR_HALF_LIFE_DAYS)
    return carriers * max(weight, 0.0) * recency


def popular_order(
    episodes: Iterable[Episode], weights: Mapping[str, float], built_at: datetime | None
) -> list[Episode]:
    """Featured first, then by score; ties go to the newer episode, then to the id."""

    def rank(episode: Episode) -> tuple[bool, float, float, str]:
        score = popularity(episode, weights.get(episode.podcast, 1.0), built_at)
        return (not episode.featured, -score, -episode.published.timestamp(), episode.id)

    return sorted(episodes, key=rank)


def newest_first(episodes: Iterable[Episode]) -> list[Episode]:
    return sorted(episodes, key=lambda e: (-e.published.timestamp(), e.id))


@dataclass(frozen=True, slots=True)
class Neighbors:
    older: Episode | None
    newer: Episode | None


def podcast_neighbors(episodes: Iterable[Episode]) -> dict[str, Neighbors]:
    """The previous (older) and next (newer) episode of the same podcast, by episode id."""
    by_podcast: dict[str, list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_podcast[episode.podcast].append(episode)
    result: dict[str, Neighbors] = {}
    for group in by_podcast.values():
        ordered = newest_first(group)
        for i, episode in enumerate(ordered):
            newer = ordered[i - 1] if i > 0 else None
            older = ordered[i + 1] if i + 1 < len(ordered) else None
            result[episode.id] = Neighbors(older=older, newer=newer)
    return result


def episodes_by_podcast(episodes: Iterable[Episode]) -> dict[str, list[Episode]]:
    grouped: dict[str, list[Episode]] = defaultdict(list)
    for episode in episodes:
        grouped[episode.podcast].append(episode)
    return {slug: newest_first(group) for slug, group in sorted(grouped.items())}


def episodes_by_topic(
    topics: Sequence[Topic], episodes: Iterable[Episode]
) -> dict[str, list[Episode]]:
    """Every configured topic, newest first; slugs episodes carry but config lacks are ignored."""
    grouped: dict[str, list[Episode]] = {topic.slug: [] for topic in topics}
    for episode in episodes:
        for slug in dict.fromkeys(episode.topics):
            if slug in grouped:
                grouped[slug].append(episode)
    return {slug: newest_first(group) for slug, group in grouped.items()}


def episodes_by_year(episodes: Iterable[Episode]) -> dict[int, list[Episode]]:
    grouped: dict[int, list[Episode]] = defaultdict(list)
    for episode in episodes:
        grouped[episode.published.year].append(episode)
    return {year: newest_first(grouped[year]) for year in sorted(grouped, reverse=True)}


@dataclass(frozen=True, slots=True)
class PersonEntry:
    slug: str
    name: str
    roles: tuple[str, ...]
    episodes: tuple[Episode, ...]  # newest first
    href: str | None = None  # their own web page, from the newest credit that names one


def people_index(episodes: Iterable[Episode]) -> list[PersonEntry]:
    """Everyone credited with podcast:person, across shows, sorted by name."""
    names: dict[str, str] = {}
    roles: dict[str, set[str]] = defaultdict(set)
    links: dict[str, str] = {}
    appearances: dict[str, dict[str, Episode]] = defaultdict(dict)
    for episode in newest_first(episodes):
        for person in episode.people:
            slug = slugify(person.slug or person.name)
            names.setdefault(slug, person.name)  # the newest spelling wins
            roles[slug].add(person.role or "host")
            if person.href:
                links.setdefault(slug, person.href)
            appearances[slug][episode.id] = episode
    entries = [
        PersonEntry(
            slug,
            names[slug],
            tuple(sorted(roles[slug])),
            tuple(appearances[slug].values()),
            links.get(slug),
        )
        for slug in names
    ]
    return sorted(entries, key=lambda p: (p.name.casefold(), p.slug))


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    slug: str
    name: str
    podcasts: tuple[Podcast, ...]  # by title


def category_index(podcasts: Iterable[Podcast]) -> list[CategoryEntry]:
    """The podcasts' itunes categories ("Technology", "Technology > Tech News"), by name."""
    names: dict[str, str] = {}
    members: dict[str, dict[str, Podcast]] = defaultdict(dict)
    for podcast in sorted(podcasts, key=lambda p: (p.title.casefold(), p.slug)):
        for category in podcast.categories:
            if not category.strip():
                continue
            slug = slugify(category)
            names.setdefault(slug, category.strip())
            members[slug][podcast.slug] = podcast
    entries = [CategoryEntry(slug, names[slug], tuple(members[slug].values())) for slug in names]
    return sorted(entries, key=lambda c: (c.name.casefold(), c.slug))
