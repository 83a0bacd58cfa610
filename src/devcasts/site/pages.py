"""What the listing pages show, decided from the Catalog alone: pure functions, no templates.

Pagination, the "popular" score, and the groupings behind the people, category and archive
pages live here so render.py only has to put them into templates.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from devcasts.model import Topic
from devcasts.records import Episode, Podcast
from devcasts.site import filters, urls
from devcasts.util.episode_dates import date_unknown, publisher_time, utc_timestamp
from devcasts.util.text import slugify

T = TypeVar("T")

POPULAR_HALF_LIFE_DAYS = 180.0  # an episode's recency weight halves every six months


@dataclass(frozen=True, slots=True)
class PageLink:
    """One entry of a listing's page navigation; `relpath` None stands for a gap (…)."""

    label: str
    relpath: str | None = None
    current: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated listing, with the navigation it shows.

    `nav` is everything besides the items that the page shows about the listing, so a page's
    fingerprint is `nav` plus its items: a page whose neighbors did not change is not rendered.
    """

    items: tuple[T, ...]
    relpath: str  # relative to the site root, ending with "/"
    label: str  # "" on the listing's first page, else "page 3" (for titles)
    newer: str | None  # the page before this one in reading order (rel="prev")
    older: str | None  # the page after it (rel="next")
    links: tuple[PageLink, ...]  # empty when the listing has a single page
    span: str = ""  # when its items came out, "Jan–Mar 2021" ("" when unknown or not dated)
    offset: int = 0  # how many items of the listing come before this page's first, in order

    @property
    def is_front(self) -> bool:
        return not self.label

    @property
    def nav(self) -> tuple[object, ...]:
        links = tuple((link.label, link.relpath, link.current) for link in self.links)
        return (self.relpath, self.label, self.newer, self.older, links, self.span)  # plain: cheap


def paginate(
    items: Sequence[T],
    base: str,
    size: int,
    span: Callable[[Sequence[T]], str] | None = None,
    numbered: bool = True,
) -> list[Page[T]]:
    """Stable pages of a newest-first listing, numbered from its oldest end (docs/site.md).

    Page N (`page/N/`) holds the N-th `size` items counted from the oldest, so its contents
    never change when a newer item arrives; the first page, at `base`, holds the rest: the
    newest `size` to `2 * size - 1` items (or all of them, when there are fewer). An empty
    listing still has its first page. Pages come in reading order, newest first; the first
    page alone when not `numbered`.

    `span` names what a page holds ("Jan–Mar 2021"); links to numbered pages read that rather
    than a number. It depends on the page's items alone, so old pages keep their links.
    """
    size = max(1, size)
    older_pages = _older_pages(len(items), size)
    front_count = len(items) - older_pages * size

    def path(number: int) -> str:
        return base if number == 0 else urls.listing_page(base, number)

    def chunk(number: int) -> Sequence[T]:
        end = len(items) - (number - 1) * size
        return items[end - size : end]

    @functools.cache  # every page's links name the same few neighbours
    def span_at(number: int) -> str:
        return span(items[:front_count] if number == 0 else chunk(number)) if span else ""

    def name(number: int) -> str:
        return span_at(number) or f"Page {number}"

    def nav(number: int) -> tuple[PageLink, ...]:
        if not older_pages:
            return ()
        top = older_pages + 1  # the first page's place, counted from the oldest end
        here = number or top
        window = [n for n in range(here + 2, here - 3, -1) if 1 <= n <= older_pages]
        return _links(
            [top, *window, 1],
            here,
            lambda n: "Newest" if n == top else name(n),
            lambda n: path(0 if n == top else n),
        )

    first_older = path(older_pages) if older_pages else None
    front = tuple(items[:front_count])
    pages = [Page(front, base, "", None, first_older, nav(0), span_at(0))]
    for number in range(older_pages if numbered else 0, 0, -1):
        newer = path(number + 1) if number < older_pages else base
        older = path(number - 1) if number > 1 else None
        shown = tuple(chunk(number))
        label = f"page {number}"
        start = len(items) - number * size
        page = Page(shown, path(number), label, newer, older, nav(number), span_at(number), start)
        pages.append(page)
    return pages


def _older_pages(count: int, size: int) -> int:
    return max(0, count // size - 1)


def page_paths(base: str, count: int, size: int) -> list[str]:
    """The paths of `paginate`'s pages for a listing of `count` items, in reading order."""
    older_pages = _older_pages(count, max(1, size))
    return [base, *(urls.listing_page(base, n) for n in range(older_pages, 0, -1))]


def numbered_count(count: int, size: int) -> int:
    """How many of a listing's `count` items its numbered pages hold (the oldest ones)."""
    size = max(1, size)
    return _older_pages(count, size) * size


def paginate_episodes(
    episodes: Sequence[Episode], base: str, size: int, numbered: bool = True
) -> list[Page[Episode]]:
    """`paginate` for a newest-first list of episodes, its pages named by their dates."""
    return paginate(episodes, base, size, date_span, numbered)


def date_span(episodes: Sequence[Episode]) -> str:
    """When the episodes came out, on their publishers' clocks: "Jan–Mar 2021"; "" if undated."""
    days = [publisher_time(e).date() for e in episodes if not date_unknown(e)]  # as cards show
    return filters.date_span(min(days), max(days)) if days else ""


def paginate_ranked(items: Sequence[T], base: str, size: int, max_pages: int) -> list[Page[T]]:
    """The top `max_pages` pages of a ranked listing (popular), numbered from the top."""
    size = max(1, size)
    count = _ranked_pages(len(items), size, max_pages)

    def path(number: int) -> str:
        return base if number == 1 else urls.listing_page(base, number)

    def nav(number: int) -> tuple[PageLink, ...]:
        if count == 1:
            return ()
        window = [n for n in range(number - 2, number + 3) if 1 <= n <= count]
        return _links([1, *window, count], number, str, path)

    return [
        Page(
            tuple(items[(n - 1) * size : n * size]),
            path(n),
            f"page {n} of {count}" if n > 1 else "",
            path(n - 1) if n > 1 else None,
            path(n + 1) if n < count else None,
            nav(n),
            offset=(n - 1) * size,
        )
        for n in range(1, count + 1)
    ]


def _ranked_pages(count: int, size: int, max_pages: int) -> int:
    return max(1, min(max_pages, math.ceil(count / size)))


def ranked_page_paths(base: str, count: int, size: int, max_pages: int) -> list[str]:
    """The paths of `paginate_ranked`'s pages for `count` items, top first."""
    pages = _ranked_pages(count, max(1, size), max_pages)
    return [base, *(urls.listing_page(base, n) for n in range(2, pages + 1))]


def _links(
    order: Sequence[int], here: int, label: Callable[[int], str], path: Callable[[int], str]
) -> tuple[PageLink, ...]:
    """Links to the page numbers in `order` (repeats dropped), a gap where numbers skip."""
    links: list[PageLink] = []
    previous: int | None = None
    for n in dict.fromkeys(order):
        if previous is not None and abs(previous - n) > 1:
            links.append(PageLink("…"))
        links.append(PageLink(label(n), path(n), n == here))
        previous = n
    return tuple(links)


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
    episodes: Iterable[Episode],
    weights: Mapping[str, float],
    built_at: datetime | None,
    ranks: dict[str, PopularRank] | None = None,
) -> list[Episode]:
    """Featured first, then by score; ties go to the newer episode, then to the id.

    `ranks` keeps each episode's sort key by id, for a caller that orders many listings
    of the same episodes (every topic's).
    """
    known = {} if ranks is None else ranks

    def rank(episode: Episode) -> PopularRank:
        key = known.get(episode.id)
        if key is None:
            weight = weights.get(episode.podcast, 1.0)
            score = _popular_score_key(episode, weight, built_at)
            key = (not episode.featured, -score, -episode.published.timestamp(), episode.id)
            known[episode.id] = key
        return key

    return sorted(episodes, key=rank)


def popular_cap(newest: Sequence[Episode], built_at: datetime | None) -> datetime | None:
    """The `built_at` that popular_order's order of `newest` (newest first) depends on: None
    when no episode came out after it, as the catalog's own built_at (its newest date) makes
    sure; it then only caps a date that no episode has."""
    if built_at is None or not newest:
        return None
    return built_at if utc_timestamp(newest[0].published) > utc_timestamp(built_at) else None


def _popular_score_key(episode: Episode, weight: float, built_at: datetime | None) -> float:
    """log2 of `popularity` plus log2 of a factor common to the whole build: the same order,
    computed without `built_at` (which only caps a future date). Scores equal on paper
    (carried twice and one half-life older) came out of `popularity` a last bit apart, one
    way or the other depending on the build date; counted here in whole billionths of a
    half-life (about 16 ms of age), they tie, and the tie-break decides at every build alike."""
    product = (1 + len(episode.also_in)) * max(weight, 0.0)
    if product == 0 or date_unknown(episode):  # no date, no recency: after every dated one
        return -math.inf
    half_lives = 0.0
    if built_at is not None:  # a date after built_at has age 0 there, so counts as built_at
        half_lives = min(episode.published, built_at).timestamp() / _HALF_LIFE_SECONDS
    return math.floor((math.log2(product) + half_lives) * 1e9)  # floor: round(x, 9) is slow


_HALF_LIFE_SECONDS = POPULAR_HALF_LIFE_DAYS * 86400


PopularRank = tuple[bool, float, float, str]


@dataclass(frozen=True, slots=True)
class Neighbors:
    older: Episode | None
    newer: Episode | None


def neighbors_in(groups: Iterable[Sequence[Episode]]) -> dict[str, Neighbors]:
    """Each episode's older and newer neighbor in its group (a podcast's episodes, newest
    first), by episode id."""
    result: dict[str, Neighbors] = {}
    for ordered in groups:
        for i, episode in enumerate(ordered):
            newer = ordered[i - 1] if i > 0 else None
            older = ordered[i + 1] if i + 1 < len(ordered) else None
            result[episode.id] = Neighbors(older=older, newer=newer)
    return result


# The groupings below take episodes newest first, as Catalog.episodes holds them, and keep
# that order in every group: one order for all, instead of a sort per group (at 100,000
# episodes, 400 sorts of 1.5 million entries in all).


def episodes_by_podcast(newest: Iterable[Episode]) -> dict[str, list[Episode]]:
    """Each show's own episodes, by show slug; `newest`: newest first (as in the Catalog)."""
    grouped: dict[str, list[Episode]] = defaultdict(list)
    for episode in newest:
        grouped[episode.podcast].append(episode)
    return dict(sorted(grouped.items()))


def episodes_published_by_podcast(newest: Iterable[Episode]) -> dict[str, list[Episode]]:
    """Every episode a show published, newest first: its own and those merged into another
    show's copy (named in also_in), which its listing links to on their one page. `newest`:
    newest first (as in the Catalog)."""
    grouped: dict[str, list[Episode]] = defaultdict(list)
    for episode in newest:
        if not episode.also_in:  # most episodes: one show
            grouped[episode.podcast].append(episode)
            continue
        for slug in dict.fromkeys((episode.podcast, *(ref.podcast for ref in episode.also_in))):
            grouped[slug].append(episode)
    return dict(sorted(grouped.items()))


def episodes_by_topic(
    topics: Sequence[Topic], newest: Iterable[Episode]
) -> dict[str, list[Episode]]:
    """Every configured topic's episodes; slugs episodes carry but config lacks are ignored.
    `newest`: newest first (as in the Catalog)."""
    grouped: dict[str, list[Episode]] = {topic.slug: [] for topic in topics}
    for episode in newest:
        own = episode.topics  # the catalog's are distinct; a single one needs no check
        for slug in own if len(own) < 2 else dict.fromkeys(own):
            if slug in grouped:
                grouped[slug].append(episode)
    return grouped


def episodes_by_year(newest: Iterable[Episode]) -> dict[int, list[Episode]]:
    """Each year's episodes, newest year first; `newest`: newest first (as in the Catalog)."""
    grouped: dict[int, list[Episode]] = defaultdict(list)
    for episode in newest:
        grouped[publisher_time(episode).year].append(episode)  # the year its page shows
    return {year: grouped[year] for year in sorted(grouped, reverse=True)}


@dataclass(frozen=True, slots=True)
class PersonEntry:
    slug: str
    name: str
    roles: tuple[str, ...]
    episodes: tuple[Episode, ...]  # newest first
    href: str | None = None  # their own web page, from the newest credit that names one
    img: str | None = None  # their picture, from the newest credit that has one


def people_index(newest: Iterable[Episode]) -> list[PersonEntry]:
    """Everyone credited (podcast:person, authors with a personal name, guests named in the
    notes), one entry per person slug across shows, sorted by name. `newest`: newest first
    (as in the Catalog)."""
    names: dict[str, str] = {}
    roles: dict[str, set[str]] = defaultdict(set)
    links: dict[str, str] = {}
    images: dict[str, str] = {}
    appearances: dict[str, dict[str, Episode]] = defaultdict(dict)
    slugs: dict[str, str] = {}  # the same few people are credited on many episodes
    for episode in newest:
        for person in episode.people:
            key = person.slug or person.name
            slug = slugs.get(key)
            if slug is None:
                slug = slugs[key] = slugify(key)
            names.setdefault(slug, person.name)  # the newest spelling wins
            roles[slug].add(person.role or "host")
            if person.href:
                links.setdefault(slug, person.href)
            if person.img:
                images.setdefault(slug, person.img)
            appearances[slug][episode.id] = episode
    entries = [
        PersonEntry(
            slug,
            names[slug],
            tuple(sorted(roles[slug])),
            tuple(appearances[slug].values()),
            links.get(slug),
            images.get(slug),
        )
        for slug in names
    ]
    return sorted(entries, key=lambda p: (p.name.casefold(), p.slug))


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    slug: str
    name: str
    podcasts: tuple[Podcast, ...]  # by title


def episodes_by_category(
    categories: Sequence[CategoryEntry], newest: Iterable[Episode]
) -> dict[str, list[Episode]]:
    """Each category's episodes: every one its podcasts published (as
    episodes_published_by_podcast), listed once. `newest`: newest first (as in the Catalog)."""
    listed_in: dict[str, dict[str, None]] = defaultdict(dict)  # show -> its categories, once
    for category in categories:
        for podcast in category.podcasts:
            listed_in[podcast.slug][category.slug] = None
    grouped: dict[str, list[Episode]] = {category.slug: [] for category in categories}
    for episode in newest:
        if not episode.also_in:  # most episodes: one show's categories
            for slug in listed_in.get(episode.podcast, ()):
                grouped[slug].append(episode)
            continue
        shows = (episode.podcast, *(ref.podcast for ref in episode.also_in))
        for slug in dict.fromkeys(c for show in shows for c in listed_in.get(show, ())):
            grouped[slug].append(episode)
    return grouped


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
