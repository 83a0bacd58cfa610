"""Real-world feeds (../shared/corpus) through parse and normalize, then rendered: every page's
links resolve, no feed text escapes into markup, and the pages are valid HTML."""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, TOPICS, npm_file
from test_html_valid import vnu_errors
from test_render import broken_links, html_files

from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import Config, FeedSource, SiteConfig
from devcasts.records import Catalog, Episode, NotAFeedError, Podcast
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter
from devcasts.util.text import slugify

BASE_URL = "https://example.github.io/devcasts/"
EPISODES_PER_FEED = 6  # enough variety, few enough pages to check in seconds
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# Markup kept inside sanitized show notes (the sanitizer's concern, not the templates'):
# <img> without alt, "mailto: x" with a space, a heading inside <pre>.
SHOW_NOTES_ERRORS = re.compile(
    r"“alt” attribute|for attribute “href” on element “a”|not allowed as child of element “pre”"
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def corpus_catalog() -> Catalog:
    feeds = sorted((CORPUS / "feeds").glob("*.xml"))
    podcasts: list[Podcast] = []
    episodes: list[Episode] = []
    for path in feeds:
        source = FeedSource(url=f"https://feeds.example.org/{path.name}", slug=slugify(path.stem))
        try:
            parsed = parse_feed(path.read_bytes(), {}, source.url)
        except NotAFeedError:
            continue
        normalized = normalize_feed(source, parsed, TOPICS, NOW, source.url)
        podcasts.append(normalized.podcast)
        episodes += with_slugs(normalized.episodes[:EPISODES_PER_FEED])
    site = SiteConfig(title="corpus", base_url=BASE_URL, page_size=20)
    episodes.sort(key=lambda e: (-e.published.timestamp(), e.id))
    podcasts.sort(key=lambda p: (p.title.casefold(), p.slug))
    return Catalog(site, TOPICS, tuple(podcasts), tuple(episodes), (), episodes[0].published)


def with_slugs(episodes: tuple[Episode, ...]) -> list[Episode]:
    """What the archive does at first sight: a unique slug per podcast, from the title."""
    taken: set[str] = set()
    result = []
    for episode in episodes:
        slug = base = slugify(episode.title, 60)
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        result.append(dataclasses.replace(episode, slug=slug))
    return result


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    catalog = corpus_catalog()
    root = tmp_path_factory.mktemp("corpus")
    content = root / "content"
    content.mkdir()
    config = Config(catalog.site, TOPICS, (), root / "feeds.yaml", content, ROOT / "templates")
    render_site(catalog, config, SiteWriter(root / "site"), content=())
    return root / "site"


def test_corpus_pages_link_only_to_written_pages(corpus_site: Path) -> None:
    assert len(list(corpus_site.glob("podcasts/*/*/index.html"))) > 250
    assert broken_links(corpus_site, BASE_URL) == []


def test_corpus_text_never_becomes_markup(corpus_site: Path) -> None:
    for page in html_files(corpus_site):
        html = page.read_text()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert set(scripts) <= {
            '<script type="application/ld+json">',
            '<script src="/devcasts/static/player.js" defer>',
            '<script src="/devcasts/static/search.js" defer>',
        }, page
        assert not re.search(r"\son[a-z]+\s*=", html), page  # no event handler attributes


def test_corpus_pages_are_valid_html(corpus_site: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("java is not installed")
    jar = npm_file("vnu-jar", "build/dist/vnu.jar", "DEVCASTS_VNU_JAR")
    errors = vnu_errors(jar, html_files(corpus_site))
    assert [e for e in errors if not SHOW_NOTES_ERRORS.search(e)] == []
