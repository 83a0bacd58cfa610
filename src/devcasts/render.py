"""The static site: jinja2 pages from the Catalog, Markdown pages from content/.

render_site reads only the Catalog, the templates and content/*.md, and hands every file to
the SiteWriter. Output is byte-deterministic: dates come from the data (catalog.built_at),
every listing is sorted. Each page carries a fingerprint of its inputs, kept in a manifest in
the output folder; a page whose fingerprint is unchanged is kept, not rendered again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from devcasts import discovery, pages
from devcasts.content_pages import ContentPage, load_content_pages
from devcasts.errors import BuildError
from devcasts.model import Catalog, Config, Episode, Podcast, SiteConfig, Topic
from devcasts.output import SiteWriter
from devcasts.text import slugify

MANIFEST = ".render-manifest.json"  # dotfile: left out of the GitHub Pages upload
NOTES_FOLD_CHARS = 6000  # show notes longer than this are folded into <details>
HOME_TOPIC_SAMPLES = 3  # latest episodes shown per topic on the home page
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Code points HTML forbids even as text (C0 and C1 controls, noncharacters): feeds do carry them.
_FORBIDDEN_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_CODE = (Path(__file__), Path(pages.__file__), Path(discovery.__file__))


@dataclass(frozen=True, slots=True)
class RenderHints:
    """What the caller knows about this build."""

    full: bool = False  # distrust the manifest and render every page again


@dataclass(slots=True)
class RenderReport:
    pages_written: int = 0  # files whose bytes changed (or that are new)
    pages_unchanged: int = 0  # files kept as they were (fingerprint or bytes unchanged)
    changed_pages: list[str] = field(default_factory=list)  # relpaths written, sorted


def render_site(
    catalog: Catalog, config: Config, writer: SiteWriter, changed: RenderHints | None = None
) -> RenderReport:
    """Write the whole site for `catalog` into `writer`; see docs/site.md for the page list."""
    site = _Site.build(catalog, config)
    previous = {} if changed is not None and changed.full else _read_manifest(writer)
    out = _Output(writer, previous)
    _write_static(config.templates_dir / "static", out)
    _render_episodes(site, out)
    _render_podcasts(site, out)
    _render_topics(site, out)
    _render_people(site, out)
    _render_categories(site, out)
    _render_archive(site, out)
    _render_singletons(site, out)
    _write_discovery(site, out)
    return out.finish()


# --- what every page shares ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Site:
    catalog: Catalog
    env: jinja2.Environment
    podcasts: Mapping[str, Podcast]
    topics: Mapping[str, Topic]
    content: tuple[ContentPage, ...]
    digest: str  # everything every page depends on: templates, code, site config, nav, names
    episode_digests: Mapping[str, str]

    @classmethod
    def build(cls, catalog: Catalog, config: Config) -> _Site:
        site = catalog.site
        content = tuple(load_content_pages(config.content_dir, site.base_path))
        podcasts = {p.slug: p for p in catalog.podcasts}
        topics = {t.slug: t for t in catalog.topics}
        env = _environment(config.templates_dir, site, content, catalog)
        digest = _digest(
            _files_digest(config.templates_dir),
            _files_digest(*_CODE),
            site,
            catalog.topics,
            [(p.slug, p.title) for p in catalog.podcasts],
            [(c.slug, c.title) for c in content],
        )
        episode_digests = {e.id: _digest(e) for e in catalog.episodes}
        return cls(catalog, env, podcasts, topics, content, digest, episode_digests)

    @property
    def config(self) -> SiteConfig:
        return self.catalog.site

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def later(self, template: str, page_path: str, **context: Any) -> Callable[[], str]:
        """The page's rendering, to run only if its fingerprint says it is needed."""
        return partial(self.render, template, page_path=page_path, **context)

    def listing_digest(self, *parts: object, episodes: Sequence[Episode] = ()) -> str:
        return _digest(self.digest, parts, [self.episode_digests[e.id] for e in episodes])


def _environment(
    templates_dir: Path, site: SiteConfig, content: Sequence[ContentPage], catalog: Catalog
) -> jinja2.Environment:
    if not (templates_dir / "base.html").is_file():
        raise BuildError(f"{templates_dir}: no base.html: is templates_dir set correctly?")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=printable,
    )
    base = site.base_path
    env.globals.update(
        site=site,
        base=base,
        url=lambda relpath="": base + relpath,
        abs_url=lambda relpath="": site.base_url + relpath,
        nav_pages=[(page.title, f"{page.slug}/") for page in content],
        podcasts_by_slug={p.slug: p for p in catalog.podcasts},
        topics_by_slug={t.slug: t for t in catalog.topics},
        jsonld=discovery.script_json,
    )
    env.filters.update(
        human_date=human_date,
        iso_date=lambda moment: moment.date().isoformat(),
        duration=human_duration,
        clock=clock,
        external=discovery.external_url,
        slug=slugify,
        lang=partial(foreign_language, site_language=site.language),
    )
    return env


def printable(value: object) -> object:
    """Every {{ value }} without the code points HTML forbids; markup stays markup."""
    if isinstance(value, str) and _FORBIDDEN_IN_HTML.search(value):
        cleaned = _FORBIDDEN_IN_HTML.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned  # noqa: S704 -- was markup
    return value


def foreign_language(value: str | None, site_language: str) -> str | None:
    """A valid lang attribute ("pt-BR") when the text is not in the site's language, else None."""
    tag = (value or "").strip()
    if not _LANGUAGE_TAG.fullmatch(tag):
        return None
    primary = tag.split("-")[0].lower()
    return None if primary == site_language.split("-")[0].lower() else tag


def human_date(moment: datetime) -> str:
    """ "3 Feb 2025": English month names whatever the machine's locale."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def human_duration(seconds: int | None) -> str:
    if not seconds or seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{max(minutes, 1)} min"


def clock(seconds: float) -> str:
    """Chapter start times: 4:05, 1:02:03."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# --- writing, with fingerprints -----------------------------------------------------------


class _Output:
    """Writes pages, skips those whose fingerprint is unchanged, and keeps the manifest."""

    def __init__(self, writer: SiteWriter, previous: Mapping[str, str]) -> None:
        self.writer = writer
        self.previous = previous
        self.fingerprints: dict[str, str] = {}
        self.html_pages: dict[str, datetime | None] = {}  # for sitemap.xml
        self.report = RenderReport()

    def page(
        self,
        relpath: str,
        render: Callable[[], str],
        fingerprint: str | None = None,
        lastmod: datetime | None = None,
    ) -> None:
        """Write `relpath` ("x/" means "x/index.html") unless its fingerprint says it is current."""
        filename = relpath + "index.html" if relpath.endswith("/") or not relpath else relpath
        if filename.endswith(".html") and filename != "404.html":
            self.html_pages[relpath] = lastmod
        if fingerprint is not None:
            self.fingerprints[filename] = fingerprint
            if self.previous.get(filename) == fingerprint and self.writer.exists(filename):
                self.writer.keep(filename)
                self.report.pages_unchanged += 1
                return
        self.data(filename, render().encode("utf-8"))

    def data(self, relpath: str, data: bytes) -> None:
        if self.writer.write(relpath, data):
            self.report.pages_written += 1
            self.report.changed_pages.append(relpath)
        else:
            self.report.pages_unchanged += 1

    def finish(self) -> RenderReport:
        manifest = {"version": 1, "pages": dict(sorted(self.fingerprints.items()))}
        self.writer.write_text(MANIFEST, json.dumps(manifest, indent=0, sort_keys=True) + "\n")
        self.report.changed_pages.sort()
        return self.report


def _read_manifest(writer: SiteWriter) -> dict[str, str]:
    """The previous build's fingerprints; a missing or corrupt manifest means "render all"."""
    path = writer.out_dir / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = document.get("pages") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {str(k): str(v) for k, v in entries.items()}


def _digest(*parts: object) -> str:
    """A fingerprint of frozen dataclasses, tuples and strings (their repr is stable)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _files_digest(*roots: Path) -> str:
    hasher = hashlib.sha256()
    for root in roots:
        for path in sorted(_files(root)):
            hasher.update(path.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return hasher.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _write_static(static_dir: Path, out: _Output) -> None:
    for path in sorted(_files(static_dir)):
        out.data("static/" + path.relative_to(static_dir).as_posix(), path.read_bytes())


# --- the pages ----------------------------------------------------------------------------


def _render_episodes(site: _Site, out: _Output) -> None:
    neighbors = pages.podcast_neighbors(site.catalog.episodes)
    for episode in site.catalog.episodes:
        podcast = site.podcasts.get(episode.podcast) or _unknown_podcast(episode.podcast)
        around = neighbors[episode.id]
        fingerprint = _digest(
            site.digest,
            site.episode_digests[episode.id],
            podcast,
            [(e.title, e.path) if e else None for e in (around.older, around.newer)],
        )
        render = partial(_episode_html, site, episode, podcast, around)
        out.page(episode.path, render, fingerprint, lastmod=episode.published)
        if episode.chapters:
            chapters = partial(_chapters_text, episode)
            out.page(episode.path + "chapters.json", chapters, _digest(fingerprint, "chapters"))


def _episode_html(site: _Site, episode: Episode, podcast: Podcast, around: pages.Neighbors) -> str:
    notes = Markup(episode.notes_html)  # noqa: S704 -- sanitized by normalize (nh3)
    return site.render(
        "episode.html",
        page_path=episode.path,
        episode=episode,
        podcast=podcast,
        older=around.older,
        newer=around.newer,
        notes=notes,
        fold_notes=len(episode.notes_html) > NOTES_FOLD_CHARS,
        topics=[site.topics[s] for s in dict.fromkeys(episode.topics) if s in site.topics],
        jsonld_data=discovery.podcast_episode_ld(episode, podcast, site.config),
    )


def _chapters_text(episode: Episode) -> str:
    document = _chapters_document(episode)
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _chapters_document(episode: Episode) -> dict[str, object]:
    """Podcasting 2.0 JSON chapters, from devcasts.chapters when that module is present."""
    try:
        from devcasts.chapters import chapters_json  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        chapters: list[dict[str, object]] = []
        for chapter in episode.chapters:
            entry: dict[str, object] = {"startTime": chapter.start, "title": chapter.title}
            if chapter.url:
                entry["url"] = chapter.url
            chapters.append(entry)
        return {"version": "1.2.0", "title": episode.title, "chapters": chapters}
    document: dict[str, object] = chapters_json(episode.chapters, title=episode.title)
    return document


def _unknown_podcast(slug: str) -> Podcast:
    """An episode whose podcast left the catalog still renders, under its slug."""
    return Podcast(slug=slug, title=slug, feed_url="")


def _render_podcasts(site: _Site, out: _Output) -> None:
    grouped = pages.episodes_by_podcast(site.catalog.episodes)
    listing = [(p, len(grouped.get(p.slug, []))) for p in site.catalog.podcasts]
    index = site.later("podcasts.html", "podcasts/", podcasts=listing)
    out.page("podcasts/", index, site.listing_digest("podcasts", listing))
    for podcast in site.catalog.podcasts:
        episodes = grouped.get(podcast.slug, [])
        description = Markup(podcast.description_html)  # noqa: S704 -- sanitized by normalize
        series = discovery.podcast_series_ld(podcast, site.config)
        for page in pages.paginate(episodes, f"podcasts/{podcast.slug}/", site.config.page_size):
            render = site.later(
                "podcast.html",
                page.relpath,
                podcast=podcast,
                page=page,
                total=len(episodes),
                podcast_description=description,
                jsonld_data=series,
            )
            digest = site.listing_digest(podcast, page.number, page.count, episodes=page.items)
            out.page(page.relpath, render, digest)


def _render_topics(site: _Site, out: _Output) -> None:
    grouped = pages.episodes_by_topic(site.catalog.topics, site.catalog.episodes)
    counts = [(t, len(grouped[t.slug])) for t in site.catalog.topics]
    index = site.later("topics.html", "topics/", topics=counts)
    out.page("topics/", index, site.listing_digest("topics", counts))
    weights = {p.slug: p.weight for p in site.catalog.podcasts}
    for topic in site.catalog.topics:
        newest = grouped[topic.slug]
        popular = pages.popular_order(newest, weights, site.catalog.built_at)
        orders = (("newest", newest, ""), ("popular", popular, "popular/"))
        for order, episodes, suffix in orders:
            base = f"topics/{topic.slug}/{suffix}"
            for page in pages.paginate(episodes, base, site.config.page_size):
                render = site.later(
                    "topic.html",
                    page.relpath,
                    topic=topic,
                    page=page,
                    order=order,
                    total=len(newest),
                )
                parts = (topic, order, len(newest), page.number, page.count)
                out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_people(site: _Site, out: _Output) -> None:
    people = pages.people_index(site.catalog.episodes)
    summary = [(p.slug, p.name, len(p.episodes)) for p in people]
    index = site.later("people.html", "people/", people=people)
    out.page("people/", index, site.listing_digest("people", summary))
    for person in people:
        base = f"people/{person.slug}/"
        for page in pages.paginate(person.episodes, base, site.config.page_size):
            render = site.later("person.html", page.relpath, person=person, page=page)
            parts = (person.name, person.roles, len(person.episodes), page.number, page.count)
            out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_categories(site: _Site, out: _Output) -> None:
    categories = pages.category_index(site.catalog.podcasts)
    grouped = pages.episodes_by_podcast(site.catalog.episodes)
    index = site.later("categories.html", "categories/", categories=categories)
    out.page("categories/", index, site.listing_digest("categories", categories))
    for category in categories:
        members = [p.slug for p in category.podcasts]
        episodes = pages.newest_first(e for s in members for e in grouped.get(s, []))
        base = f"categories/{category.slug}/"
        for page in pages.paginate(episodes, base, site.config.page_size):
            render = site.later("category.html", page.relpath, category=category, page=page)
            parts = (category, page.number, page.count)
            out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_archive(site: _Site, out: _Output) -> None:
    years = pages.episodes_by_year(site.catalog.episodes)
    counts = [(year, len(episodes)) for year, episodes in years.items()]
    out.page("archive/", site.later("archive.html", "archive/", years=counts))
    for year, episodes in years.items():
        for page in pages.paginate(episodes, f"archive/{year}/", site.config.page_size):
            render = site.later("archive_year.html", page.relpath, year=year, page=page)
            parts = ("year", year, page.number, page.count)
            out.page(page.relpath, render, site.listing_digest(*parts, episodes=page.items))


def _render_singletons(site: _Site, out: _Output) -> None:
    """Pages cheap enough to render on every build."""
    catalog = site.catalog
    grouped = pages.episodes_by_topic(catalog.topics, catalog.episodes)
    overview = [
        (t, len(grouped[t.slug]), grouped[t.slug][:HOME_TOPIC_SAMPLES]) for t in catalog.topics
    ]
    latest = list(catalog.episodes[: site.config.page_size])
    out.page("", site.later("home.html", "", latest=latest, topics=overview))
    out.page("search/", site.later("search.html", "search/"))
    out.page("404.html", site.later("404.html", "404.html"))
    health = sorted(catalog.health, key=lambda h: (h.status != "ok", h.title.casefold(), h.slug))
    out.page("health/", site.later("health.html", "health/", feeds=health))
    for content in site.content:
        body = Markup(content.html)  # noqa: S704 -- markdown-it with raw HTML disabled
        relpath = f"{content.slug}/"
        out.page(relpath, site.later("content.html", relpath, content=content, body=body))


def _write_discovery(site: _Site, out: _Output) -> None:
    catalog = site.catalog
    out.data("robots.txt", discovery.robots_txt(site.config).encode())
    out.data(
        "opml.xml", discovery.opml_xml(site.config, catalog.podcasts, catalog.built_at).encode()
    )
    out.data("health.json", discovery.health_json(catalog).encode())
    out.data("sitemap.xml", discovery.sitemap_xml(site.config, out.html_pages).encode())
