"""The static site: jinja2 pages from the Catalog, and the hand-written content pages.

render_site reads only the Catalog, the content pages it is given and the templates, and
hands every file to the SiteWriter, at the paths site/urls.py decides. Output is
byte-deterministic: dates come from the data (catalog.built_at), every listing is sorted.
Each page carries a fingerprint of its inputs, kept in a manifest in the output folder; a
page whose fingerprint is unchanged is kept, not rendered again. Listings are paginated from
their oldest end (pages.paginate), so a new episode leaves older pages alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, cast

import jinja2
from markupsafe import Markup

from devcasts import model, records
from devcasts.errors import BuildError
from devcasts.model import Config, FetchStatus, SiteConfig, Topic
from devcasts.records import Catalog, Episode, Podcast
from devcasts.site import (
    artwork,
    chapters,
    content_pages,
    discovery,
    page_output,
    pages,
    templates,
    urls,
)
from devcasts.site import filters as template_filters
from devcasts.site.chapters import chapters_text
from devcasts.site.content_pages import ContentPage
from devcasts.site.filters import (
    clock,
    foreign_language,
    human_date,
    human_duration,
    media_label,
    printable,
    published_on,
)
from devcasts.site.page_output import (
    MANIFEST,
    Fingerprints,
    Manifest,
    PageOutput,
    RenderReport,
    digest,
    episode_digest,
)
from devcasts.site.writer import SiteWriter
from devcasts.util import addresses, episode_dates, links, text, timestamps
from devcasts.util.cache import fingerprint
from devcasts.util.text import is_long_notes, slugify

HOME_TOPIC_SAMPLES = 3  # latest episodes shown per topic on the home page
HOME_FEATURED = 5  # featured episodes (overrides) shown above the latest ones
POPULAR_PAGES = 5  # a topic's popular ordering lists its top pages only
# The renderer's own code is an input of every page, like the templates: with the modules
# that shape what pages show (chapters.json comes from chapters, every path from urls, the
# `slug` filter and the long-notes rule from text, the site's base path from the model).
_MODULES = (
    pages,
    discovery,
    template_filters,
    content_pages,
    page_output,
    chapters,
    urls,
    text,
    links,  # which URLs discovery and the `external` filter let out
    addresses,
    model,
    records,
    templates,
    episode_dates,
    timestamps,  # which stamps in show notes become seek links
    artwork,  # the covers' paths and sizes
)
_CODE = (__name__, *_MODULES)


@dataclass(frozen=True, slots=True)
class RenderHints:
    """What the caller knows about this build."""

    full: bool = False  # distrust the manifest and render every page again


def render_site(
    catalog: Catalog,
    config: Config,
    writer: SiteWriter,
    content: Sequence[ContentPage],
    changed: RenderHints | None = None,
    art: artwork.Artwork | None = None,
) -> RenderReport:
    """Write the whole site for `catalog` and the hand-written `content` pages (loaded by
    content_pages.load_content_pages) into `writer`; docs/site.md lists the pages. `art`:
    the covers the pipeline prepared (site/artwork.py); without it, every page shows the
    site's own cover."""
    site = _Site.build(catalog, config, content, art or NO_ARTWORK)
    # The code and the templates shape every page: a manifest they did not write is a miss.
    manifest = Manifest(
        writer,
        MANIFEST,
        fingerprint(code=_CODE, templates=config.templates_dir, theme=templates.THEME_DIR),
    )
    previous = Fingerprints() if changed is not None and changed.full else manifest.read()
    out = PageOutput(writer, manifest, previous)
    _write_static(templates.static_files(config.templates_dir), out)
    _render_episodes(site, out)
    cards = cast("_CardCache", site.env.globals["episode_card"])
    rows = cast("_RowCache", site.env.globals["episode_row"])
    _render_podcasts(site, out)
    cards.forget(show_podcast=False)  # only a podcast's own listing leaves its name out
    rows.forget(show_podcast=False)
    _render_topics(site, out)
    _render_people(site, out)
    cards.forget()  # the home page shows a few: rendered again
    _render_categories(site, out)
    _render_archive(site, out)
    rows.forget()
    _render_singletons(site, out)
    _write_discovery(site, out)
    return out.finish()


# --- what every page shares ----------------------------------------------------------------


class _Kept(NamedTuple):
    """Which of a listing's pages are kept as the last build wrote them."""

    first: bool  # its first page (and the pages that show all of it)
    numbered: bool  # its numbered pages

    def changed_pages(
        self, episodes: Sequence[Episode], first: str, size: int
    ) -> list[pages.Page[Episode]]:
        """The listing's pages to render (or fingerprint) again; the numbered ones are not
        even paginated when they are kept."""
        if self.first and self.numbered:
            return []
        listing = pages.paginate_episodes(episodes, first, size, numbered=not self.numbered)
        return [page for page in listing if not (self.first if page.is_front else self.numbered)]


@dataclass(frozen=True, slots=True)
class _Site:
    catalog: Catalog
    env: jinja2.Environment
    podcasts: Mapping[str, Podcast]
    topics: Mapping[str, Topic]
    content: tuple[ContentPage, ...]
    shared_digest: str  # what every page depends on: site config, nav, names
    episode_digests: Mapping[str, str]
    by_podcast: Mapping[str, list[Episode]]  # all each show published, newest first, grouped once
    by_topic: Mapping[str, list[Episode]]

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        config: Config,
        given: Sequence[ContentPage],
        art: artwork.Artwork,
    ) -> _Site:
        site = catalog.site
        content = tuple(given)
        podcasts = {p.slug: p for p in catalog.podcasts}
        topics = {t.slug: t for t in catalog.topics}
        env = _environment(config.templates_dir, site, content, catalog, art)
        # Every card may show its show's cover: the covers are shared; an episode's own image
        # is part of its digest.
        shared = digest(
            site,
            catalog.topics,
            [(p.slug, p.title, p.language, art.for_podcast(p).key) for p in catalog.podcasts],
            [(c.slug, c.title) for c in content],
            art.fallback_key,
            art.touch_icon,
        )
        episode_digests = {
            e.id: episode_digest(e, art.by_url.get(e.image or "")) for e in catalog.episodes
        }
        by_podcast = pages.episodes_published_by_podcast(catalog.episodes)
        by_topic = pages.episodes_by_topic(catalog.topics, catalog.episodes)
        return cls(
            catalog, env, podcasts, topics, content, shared, episode_digests, by_podcast, by_topic
        )

    @property
    def config(self) -> SiteConfig:
        return self.catalog.site

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def later(self, template: str, page_path: str, **context: Any) -> Callable[[], str]:
        """The page's rendering, to run only if its fingerprint says it is needed."""
        return partial(self.render, template, page_path=page_path, **context)

    def listing_digest(self, *parts: object, episodes: Sequence[Episode] = ()) -> str:
        return digest(self.shared_digest, parts, [self.episode_digests[e.id] for e in episodes])

    def keep_listing(
        self,
        out: PageOutput,
        first: str,
        *parts: object,
        episodes: Sequence[Episode],
        more: Sequence[str] = (),
    ) -> _Kept:
        """Keep a listing's pages (`first` and its numbered pages, and `more` that show all
        its episodes) when nothing they show changed: `parts` and `episodes`, in order, are
        all its pages show. Kept pages are neither paginated nor fingerprinted one by one.

        Two groups: the numbered pages hold the oldest episodes and never move (pages.py),
        so a new episode changes the first page alone; the first page and `more` depend on
        the numbered pages too (their links name those pages' dates)."""
        size = self.config.page_size
        paths = pages.page_paths(first, len(episodes), size)
        older = episodes[len(episodes) - pages.numbered_count(len(episodes), size) :]
        older_print = self.listing_digest("numbered", *parts, episodes=older)
        numbered = [(path, None) for path in paths[1:]]
        kept_numbered = not numbered or out.keep_group(f"#numbered:{first}", older_print, numbered)
        front = episodes[: len(episodes) - len(older)]
        front_print = self.listing_digest("listing", *parts, older_print, episodes=front)
        front_pages = [(path, None) for path in (first, *more)]
        return _Kept(out.keep_group(f"#listing:{first}", front_print, front_pages), kept_numbered)


def _environment(
    templates_dir: Path,
    site: SiteConfig,
    content: Sequence[ContentPage],
    catalog: Catalog,
    art: artwork.Artwork,
) -> jinja2.Environment:
    if not any((folder / "base.html").is_file() for folder in templates.search_path(templates_dir)):
        raise BuildError(f"no base.html in {templates_dir} nor in {templates.THEME_DIR}")
    env = jinja2.Environment(
        loader=_loader(templates_dir),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=printable,
        auto_reload=False,  # templates do not change during a build: no stat per page
    )
    base = site.base_path
    env.globals.update(
        site=site,
        base=base,
        url_for=urls.link_maker(base),
        url=lambda path: urls.href(base, path),  # a path urls.py made: a page's, a listing's
        abs_url=lambda path: urls.absolute(site.base_url, path),
        nav_pages=[(page.title, urls.content_page(page.slug)) for page in content],
        podcasts_by_slug={p.slug: p for p in catalog.podcasts},
        topics_by_slug={t.slug: t for t in catalog.topics},
        jsonld=discovery.script_json,
        episode_card=_CardCache(env),
        episode_row=_RowCache(env),
        art=art,
        art_sizes=artwork.SIZES,
    )
    env.filters.update(
        human_date=human_date,
        published_on=published_on,
        iso_date=lambda moment: moment.date().isoformat(),
        duration=human_duration,
        clock=clock,
        external=discovery.external_url,
        slug=slugify,
        media_label=media_label,
        lang=partial(foreign_language, site_language=site.language),
        seek_links=chapters.seek_links,
        notes_show_chapters=chapters.notes_show_chapters,
    )
    return env


def _loader(templates_dir: Path) -> jinja2.BaseLoader:
    """The site's own templates over the theme's, file by file; "theme/<name>" is always the
    theme's, for a site template that extends it."""
    theme = jinja2.FileSystemLoader(templates.THEME_DIR)
    return jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(templates.search_path(templates_dir)),
            jinja2.PrefixLoader({templates.THEME_PREFIX: theme}),
        ]
    )


class _CardCache:
    """card.html for an episode, rendered once: an episode is listed on five pages or more.

    Kept only while listings still show them: 100,000 episodes' cards weigh hundreds of
    megabytes, so render_site forgets the kinds no later listing shows (`forget`)."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.cards: dict[tuple[str, str, bool], Markup] = {}

    def __call__(self, episode: Episode, heading: str = "h3", show_podcast: bool = True) -> Markup:
        key = (episode.id, heading, show_podcast)
        card = self.cards.get(key)
        if card is None:
            context = {"episode": episode, "heading": heading, "show_podcast": show_podcast}
            html = self.env.get_template("card.html").render(context)
            card = self.cards[key] = Markup(html)  # noqa: S704 -- an autoescaped template's output
        return card

    def forget(self, show_podcast: bool | None = None) -> None:
        """Drop the cards with (or without) their show's name; None: every card."""
        if show_podcast is None:
            self.cards.clear()
        else:
            self.cards = {k: v for k, v in self.cards.items() if k[2] is not show_podcast}


class _RowCache:
    """row.html for an episode, rendered once per variant: the compact listings repeat every
    episode."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.rows: dict[tuple[str, bool], Markup] = {}

    def __call__(self, episode: Episode, show_podcast: bool = True) -> Markup:
        key = (episode.id, show_podcast)
        row = self.rows.get(key)
        if row is None:
            context = {"episode": episode, "show_podcast": show_podcast}
            html = self.env.get_template("row.html").render(context)
            row = self.rows[key] = Markup(html)  # noqa: S704 -- an autoescaped template's output
        return row

    def forget(self, show_podcast: bool | None = None) -> None:
        """Drop the rows with (or without) their show's name; None: every row."""
        if show_podcast is None:
            self.rows.clear()
        else:
            self.rows = {k: v for k, v in self.rows.items() if k[1] is not show_podcast}


def _write_static(static: Mapping[str, Path], out: PageOutput) -> None:
    for name, path in static.items():
        out.data(urls.static(name), path.read_bytes())


# --- the pages ----------------------------------------------------------------------------


def _render_episodes(site: _Site, out: PageOutput) -> None:
    for slug, group in pages.episodes_by_podcast(site.catalog.episodes).items():
        podcast = site.podcasts.get(slug) or _unknown_podcast(slug)
        podcast_digest = digest(podcast)
        # A show's episode pages show its episodes (their neighbours' titles and paths
        # included) and the show: when none of that changed, its 1,000 pages are kept as
        # they are without a fingerprint each (a new episode changes only its own show's).
        show = digest(
            site.shared_digest, podcast_digest, [site.episode_digests[e.id] for e in group]
        )
        if not out.keep_group(f"#episodes:{slug}", show, list(_episode_files(group))):
            _render_show_episodes(site, out, podcast, podcast_digest, group)


def _episode_files(episodes: Sequence[Episode]) -> Iterator[tuple[str, datetime | None]]:
    """The files `_render_show_episodes` writes for `episodes`, with their sitemap dates."""
    for episode in episodes:
        yield urls.episode(episode), episode.published
        if episode.chapters:
            yield urls.chapters(episode), None
        if episode.transcript_turns:
            yield urls.transcript(episode), None


def _render_show_episodes(
    site: _Site, out: PageOutput, podcast: Podcast, podcast_digest: str, group: list[Episode]
) -> None:
    neighbors = pages.neighbors_in([group])
    for episode in group:
        around = neighbors[episode.id]
        fingerprint = digest(
            site.shared_digest,
            site.episode_digests[episode.id],
            podcast_digest,
            [(e.title, urls.episode(e)) if e else None for e in (around.older, around.newer)],
        )
        render = partial(_episode_html, site, episode, podcast, around)
        out.page(urls.episode(episode), render, fingerprint, lastmod=episode.published)
        if episode.chapters:
            chapters_page = partial(chapters_text, episode.chapters, episode.title)
            out.page(urls.chapters(episode), chapters_page, fingerprint)  # same inputs
        if episode.transcript_turns:
            transcript = site.later("transcript.html", urls.transcript(episode), episode=episode)
            out.page(urls.transcript(episode), transcript, fingerprint)  # same inputs


def _episode_html(site: _Site, episode: Episode, podcast: Podcast, around: pages.Neighbors) -> str:
    notes = Markup(episode.notes_html)  # noqa: S704 -- sanitized by normalize (nh3)
    return site.render(
        "episode.html",
        page_path=urls.episode(episode),
        episode=episode,
        podcast=podcast,
        older=around.older,
        newer=around.newer,
        notes=notes,
        fold_notes=not episode.transcript_turns and is_long_notes(episode.text),
        topics=[site.topics[s] for s in dict.fromkeys(episode.topics) if s in site.topics],
    )


NO_ARTWORK = artwork.Artwork({}, fallback_key="", touch_icon=False)  # static/cover.png only


def _unknown_podcast(slug: str) -> Podcast:
    """An episode whose podcast left the catalog still renders, under its slug."""
    return Podcast(slug=slug, title=slug, feed_url="")


def _render_podcasts(site: _Site, out: PageOutput) -> None:
    grouped = site.by_podcast
    listing = [(p, len(grouped.get(p.slug, []))) for p in site.catalog.podcasts]
    index = site.later("podcasts.html", urls.podcasts(), podcasts=listing)
    out.page(urls.podcasts(), index, site.listing_digest("podcasts", listing))
    size = site.config.page_size
    for podcast in site.catalog.podcasts:
        episodes = grouped.get(podcast.slug, [])
        first = urls.podcast(podcast.slug)
        kept = site.keep_listing(out, first, podcast, episodes=episodes)
        changed = kept.changed_pages(episodes, first, size)
        if not changed:
            continue
        description = Markup(podcast.description_html)  # noqa: S704 -- sanitized by normalize
        series = discovery.podcast_series_ld(podcast, site.config)
        for page in changed:
            render = site.later(
                "podcast.html",
                page.relpath,
                podcast=podcast,
                page=page,
                total=len(episodes),
                podcast_description=description,
                jsonld_data=series,
            )
            shown = (podcast, page.nav, len(episodes) if page.is_front else None)
            out.page(page.relpath, render, site.listing_digest(*shown, episodes=page.items))


def _render_topics(site: _Site, out: PageOutput) -> None:
    grouped = site.by_topic
    counts = [(t, len(grouped[t.slug])) for t in site.catalog.topics]
    index = site.later("topics.html", urls.topics(), topics=counts)
    out.page(urls.topics(), index, site.listing_digest("topics", counts))
    weights = {p.slug: p.weight for p in site.catalog.podcasts}
    size, top = site.config.page_size, POPULAR_PAGES
    ranks: dict[str, pages.PopularRank] = {}  # an episode with two topics is ranked once
    ranking = sorted(weights.items())  # with the episodes, what orders "popular"
    for topic in site.catalog.topics:
        newest = grouped[topic.slug]
        cap = pages.popular_cap(newest, site.catalog.built_at)
        first, first_popular = urls.topic(topic.slug), urls.topic_popular(topic.slug)
        popular_paths = pages.ranked_page_paths(first_popular, len(newest), size, top)
        kept = site.keep_listing(
            out, first, topic, ranking, cap, episodes=newest, more=popular_paths
        )
        listings = [("newest", kept.changed_pages(newest, first, size))]
        if not kept.first:
            popular = pages.popular_order(newest, weights, site.catalog.built_at, ranks)
            listings.append(("popular", pages.paginate_ranked(popular, first_popular, size, top)))
        for order, listing in listings:
            for page in listing:
                render = site.later(
                    "topic.html",
                    page.relpath,
                    topic=topic,
                    page=page,
                    order=order,
                    total=len(newest),
                )
                parts = (topic, order, page.nav, len(newest) if page.is_front else None)
                out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_people(site: _Site, out: PageOutput) -> None:
    people = pages.people_index(site.catalog.episodes)
    summary = [(p.slug, p.name, len(p.episodes)) for p in people]
    index = site.later("people.html", urls.people(), people=people)
    out.page(urls.people(), index, site.listing_digest("people", summary))
    size = site.config.page_size
    for person in people:
        first = urls.person(person.slug)
        shown = (person.slug, person.name, person.href, person.img, person.roles)
        kept = site.keep_listing(out, first, *shown, episodes=person.episodes)
        for page in kept.changed_pages(person.episodes, first, size):
            render = site.later("person.html", page.relpath, person=person, page=page)
            total = len(person.episodes) if page.is_front else None
            parts = (person.name, person.href, person.roles, total, page.nav)
            out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_categories(site: _Site, out: PageOutput) -> None:
    categories = pages.category_index(site.catalog.podcasts)
    grouped = pages.episodes_by_category(categories, site.catalog.episodes)
    index = site.later("categories.html", urls.categories(), categories=categories)
    out.page(urls.categories(), index, site.listing_digest("categories", categories))
    size = site.config.page_size
    for category in categories:
        category_digest = digest(category)  # once: it holds every member podcast
        episodes = grouped[category.slug]
        first = urls.category(category.slug)
        kept = site.keep_listing(out, first, category_digest, episodes=episodes)
        for page in kept.changed_pages(episodes, first, size):
            if not page.is_front and page.links:
                # A category is a group of podcasts: its older episodes are on their pages and
                # in the archive. The older pages' addresses stay, each sending to the newest.
                moved = site.later("moved.html", page.relpath, title=category.name, target=first)
                out.page(page.relpath, moved, digest(site.shared_digest, "moved", category.name))
                continue
            render = site.later("category.html", page.relpath, category=category, page=page)
            parts = (category_digest, page.nav)
            out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_archive(site: _Site, out: PageOutput) -> None:
    years = pages.episodes_by_year(site.catalog.episodes)
    counts = [(year, len(episodes)) for year, episodes in years.items()]
    out.page(urls.archive(), site.later("archive.html", urls.archive(), years=counts))
    size = site.config.page_size
    for year, episodes in years.items():
        first = urls.year(year)
        kept = site.keep_listing(out, first, year, episodes=episodes)
        for page in kept.changed_pages(episodes, first, size):
            render = site.later("archive_year.html", page.relpath, year=year, page=page)
            parts = ("year", year, page.nav)
            out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_singletons(site: _Site, out: PageOutput) -> None:
    """Pages cheap enough to render on every build."""
    catalog = site.catalog
    grouped = site.by_topic
    overview = [
        (t, len(grouped[t.slug]), grouped[t.slug][:HOME_TOPIC_SAMPLES]) for t in catalog.topics
    ]
    latest = list(catalog.episodes[: site.config.page_size])
    featured = [e for e in catalog.episodes if e.featured][:HOME_FEATURED]
    home = site.later(
        "home.html",
        urls.home(),
        latest=latest,
        topics=overview,
        featured=featured,
        jsonld_data=discovery.website_ld(site.config),
    )
    out.page(urls.home(), home)
    out.page(urls.search(), site.later("search.html", urls.search()))
    out.page(urls.not_found(), site.later("404.html", urls.not_found()))
    healthy = {FetchStatus.OK, FetchStatus.UNCHANGED}
    health = sorted(catalog.health, key=lambda h: (h.status in healthy, h.title.casefold(), h.slug))
    out.page(urls.health(), site.later("health.html", urls.health(), feeds=health))
    for content in site.content:
        body = Markup(content.html)  # noqa: S704 -- markdown-it with raw HTML disabled
        path = urls.content_page(content.slug)
        out.page(path, site.later("content.html", path, content=content, body=body))


def _write_discovery(site: _Site, out: PageOutput) -> None:
    catalog = site.catalog
    out.data(urls.robots(), discovery.robots_txt(site.config).encode())
    opml = discovery.opml_xml(site.config, catalog.podcasts, catalog.built_at)
    out.data(urls.opml(), opml.encode())
    out.data(urls.health_json(), discovery.health_json(catalog).encode())
    # A listing's numbered pages only repeat links to pages the sitemap names already.
    pages = {p: when for p, when in out.html_pages.items() if not urls.is_listing_page(p)}
    for relpath, sitemap in discovery.sitemap_files(site.config, pages):
        out.data(relpath, sitemap.encode())
