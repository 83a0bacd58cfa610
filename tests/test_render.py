"""render_site on a hand-built Catalog: pages, links under a base path, escaping, determinism."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import BUILT_AT, HOSTILE, ROOT, build_catalog, make_episode
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.errors import ConfigError
from devcasts.ingest.normalize import content_hash
from devcasts.model import Config
from devcasts.records import Catalog, Chapter, Episode, Person, SourceRef
from devcasts.site import urls
from devcasts.site.content_pages import ContentPage, load_content_pages
from devcasts.site.filters import printable
from devcasts.site.page_output import MANIFEST
from devcasts.site.render import RenderHints, RenderReport, render_site
from devcasts.site.templates import THEME_DIR
from devcasts.site.writer import SiteWriter

BASE_URL = "https://example.github.io/devcasts/"
TEMPLATES = ROOT / "templates"
# Written by other stages (feeds_out, the browser index), not by render_site.
NOT_RENDERED = re.compile(r"^(feed\.xml|feed\.json|topics/[a-z0-9-]+/feed\.xml|static/search\.js)$")


def render(catalog: Catalog, config: Config, out: Path, **kwargs: object) -> RenderReport:
    writer = SiteWriter(out)
    content = load_content_pages(config.content_dir, config.site.base_path)
    report = render_site(catalog, config, writer, content, **kwargs)  # type: ignore[arg-type]
    writer.finish()
    return report


@pytest.fixture
def site(tmp_path: Path, sample_catalog: Catalog, sample_config: Config) -> Path:
    out = tmp_path / "site"
    render(sample_catalog, sample_config, out)
    return out


def html_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" and value:
                self.ids.append(value)


def parse_links(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(root: Path, base_url: str) -> list[str]:
    """Every internal href/src of every page that does not resolve to a written file."""
    base_path = urlsplit(base_url).path
    problems = []
    for page in html_files(root):
        rel = page.relative_to(root).as_posix()
        page_url = urljoin(base_url, rel.removesuffix("index.html"))
        for link in parse_links(page).links:
            target = urlsplit(urljoin(page_url, link))
            if target.netloc != urlsplit(base_url).netloc:
                continue  # another host: not ours to check
            if not target.path.startswith(base_path):
                problems.append(f"{rel}: {link} escapes the base path")
                continue
            inside = target.path[len(base_path) :]
            file = inside + "index.html" if inside.endswith("/") or not inside else inside
            if not (root / file).is_file() and not NOT_RENDERED.match(file):
                problems.append(f"{rel}: {link} -> missing {file}")
    return problems


# --- pages --------------------------------------------------------------------------------


def test_every_kind_of_page_is_written(site: Path) -> None:
    expected = [
        "index.html",
        "404.html",
        "podcasts/index.html",
        "podcasts/ship-it-weekly/index.html",
        "podcasts/ship-it-weekly/page/3/index.html",
        "podcasts/ship-it-weekly/page/1/index.html",
        "podcasts/ship-it-weekly/episode-1/index.html",
        "podcasts/ship-it-weekly/episode-1/chapters.json",
        "topics/index.html",
        "topics/heroku/index.html",
        "topics/heroku/popular/index.html",
        "topics/heroku/page/2/index.html",
        "topics/heroku/popular/page/2/index.html",
        "topics/dokku/index.html",
        "people/index.html",
        "people/grace-sample/index.html",
        "categories/index.html",
        "categories/technology/index.html",
        "archive/index.html",
        "archive/2023/index.html",
        "search/index.html",
        "about/index.html",
        "health/index.html",
        "health.json",
        "sitemap.xml",
        "robots.txt",
        "opml.xml",
        "static/style.css",
        "static/player.js",
        "static/icon.svg",
    ]
    missing = [path for path in expected if not (site / path).is_file()]
    assert missing == []
    assert not (site / "podcasts/ship-it-weekly/page/5/index.html").exists()
    assert not (site / "podcasts/ship-it-weekly/episode-2/chapters.json").exists()


@pytest.mark.parametrize("base_url", [BASE_URL, "http://localhost:8000/"])
def test_every_internal_link_resolves_under_the_base_path(
    tmp_path: Path, sample_config: Config, base_url: str
) -> None:
    catalog = build_catalog(base_url)
    config = dataclasses.replace(sample_config, site=catalog.site)
    render(catalog, config, tmp_path / "out")
    assert len(html_files(tmp_path / "out")) > 80
    assert broken_links(tmp_path / "out", base_url) == []


def test_the_link_checker_catches_a_missing_page(site: Path) -> None:
    (site / "people/grace-sample/index.html").unlink()
    problems = broken_links(site, BASE_URL)
    assert any("people/grace-sample/index.html" in problem for problem in problems)


def test_ids_are_unique_on_every_page(site: Path) -> None:
    for page in html_files(site):
        ids = parse_links(page).ids
        assert len(ids) == len(set(ids)), page


def test_episode_page_shows_player_chapters_people_and_neighbors(site: Path) -> None:
    html = (site / "podcasts/ship-it-weekly/episode-1/index.html").read_text()
    assert '<audio id="player" controls preload="none" src="https://media.ship-it-weekly' in html
    assert 'data-start="42.5"' in html
    assert '>0:42</span> <span class="chapter-title">Why we left</span>' in html
    assert '>1:02:05</span> <span class="chapter-title">Questions</span>' in html
    assert 'href="/devcasts/people/grace-sample/"' in html
    assert "Also published in" in html and 'href="/devcasts/podcasts/cloud-corner/"' in html
    assert 'href="/devcasts/podcasts/ship-it-weekly/episode-2/" rel="prev"' in html
    assert 'rel="next"' not in html  # the newest episode has no next one
    assert "https://ship-it-weekly.example.org/1.vtt" in html and "Transcript (WebVTT, en)" in html
    assert 'href="/devcasts/topics/kubernetes/"' in html
    assert 'src="/devcasts/static/player.js"' in html
    middle = (site / "podcasts/ship-it-weekly/episode-5/index.html").read_text()
    assert "episode-6/" in middle and "episode-4/" in middle


def test_search_page_markup_contract(site: Path) -> None:
    html = (site / "search/index.html").read_text()
    assert '<html lang="en" data-base="/devcasts/">' in html
    assert '<form role="search" action="/devcasts/search/"' in html
    assert '<input id="search-input" name="q" type="search"' in html
    assert '<div id="search-results" aria-live="polite">' in html
    assert '<script src="/devcasts/static/search.js" defer>' in html
    home = (site / "index.html").read_text()
    assert 'action="/devcasts/search/"' in home and 'name="q"' in home


def test_episodes_in_another_language_carry_a_lang_attribute(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    episodes = tuple(
        dataclasses.replace(e, language="es-ES") if e.id == "cloud-corner-0003" else e
        for e in sample_catalog.episodes
    )
    render(dataclasses.replace(sample_catalog, episodes=episodes), sample_config, tmp_path / "o")
    page = (tmp_path / "o/podcasts/cloud-corner/episode-3/index.html").read_text()
    assert '<article class="episode" lang="es-ES"' in page
    home = (tmp_path / "o/index.html").read_text()
    assert home.count('lang="es-ES"') == 1


def test_long_notes_fold_and_short_ones_do_not(site: Path) -> None:
    long_page = (site / "podcasts/hostile-show/episode-1/index.html").read_text()
    assert '<details class="notes-fold">' in long_page
    short = (site / "podcasts/ship-it-weekly/episode-2/index.html").read_text()
    assert "<details" not in short and "<li>One</li>" in short


def test_pagination_links_pages_in_order(site: Path) -> None:
    """40 episodes by 10: the first page holds the newest 10, page/3/ to page/1/ the rest."""
    first = (site / "podcasts/ship-it-weekly/index.html").read_text()
    assert first.count('class="episode-card"') == 10
    assert 'href="/devcasts/podcasts/ship-it-weekly/page/3/" rel="next"' in first
    assert "40 episodes" in first
    oldest = (site / "podcasts/ship-it-weekly/page/1/index.html").read_text()
    # older pages list rows (title and date; the show is the page's), not cards
    assert oldest.count('class="episode-card"') == 0 and oldest.count("<li><a href=") >= 10
    assert oldest.count('href="/devcasts/podcasts/ship-it-weekly/episode-') == 10
    assert 'class="play-button"' not in oldest and "<picture" not in oldest
    assert '<h1><a href="/devcasts/podcasts/ship-it-weekly/">Ship It Weekly</a></h1>' in oldest
    assert 'href="/devcasts/podcasts/ship-it-weekly/page/2/" rel="prev"' in oldest
    assert 'rel="next"' not in oldest and "40 episodes" not in oldest
    assert "Ship It Weekly episode 40<" in oldest  # the oldest episode is on page 1
    assert "Ship It Weekly · <time" not in oldest  # a show's own rows do not repeat its name
    assert "(page 1)" in oldest
    # the links say which way is newer, and name pages by their dates rather than numbers
    assert '>Older episodes<span aria-hidden="true"> →</span></a>' in first
    assert '<span aria-hidden="true">← </span>Newer episodes</a>' in oldest
    assert ">Newest episodes</h2>" in first and ">Next<" not in first and ">3<" not in first
    page_names = re.findall(
        r'<li><a href="/devcasts/podcasts/ship-it-weekly/page/\d/">([^<]+)<', first
    )
    assert page_names and all(re.fullmatch(r"[\w –]+ 202\d", name) for name in page_names)
    assert not (site / "podcasts/ship-it-weekly/page/4/index.html").exists()


def test_a_new_episode_leaves_the_older_listing_pages_alone(
    site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    """Pages count from the oldest end, so one more episode rewrites the first pages only."""
    new = make_episode("ship-it-weekly", 0, topics=("heroku",), published=BUILT_AT)
    catalog = dataclasses.replace(sample_catalog, episodes=(new, *sample_catalog.episodes))
    report = render(catalog, sample_config, site)
    listing = [p for p in report.changed_pages if "/page/" in p]
    ranked = [f"topics/heroku/popular/page/{n}/index.html" for n in (2, 3, 4, 5)]
    assert listing == ranked  # the popular ordering ranks, so its top pages do shift
    assert "podcasts/ship-it-weekly/index.html" in report.changed_pages
    front = (site / "podcasts/ship-it-weekly/index.html").read_text()
    assert front.count('class="episode-card"') == 11 and "41 episodes" in front


def test_topic_popular_order_puts_featured_and_shared_episodes_first(site: Path) -> None:
    popular = (site / "topics/heroku/popular/index.html").read_text()
    newest = (site / "topics/heroku/index.html").read_text()
    titles = re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', popular)
    assert titles[0] == "Moving from Heroku to Kubernetes"
    assert 'aria-current="page">Popular' in popular and 'aria-current="page">Newest' in newest
    assert 'href="/devcasts/topics/heroku/feed.xml"' in popular
    # a reader sees a ranking: numbered episodes, a line saying how they are ranked
    assert '<ol class="episodes ranked">' in popular and "Ranked, not by date" in popular
    assert '<ol class="episodes">' in newest and "Ranked" not in newest
    second = (site / "topics/heroku/popular/page/2/index.html").read_text()
    assert '<ol class="episodes ranked" start="11">' in second  # page_size 10
    assert "</span>Higher ranked</a>" in second and ">Lower ranked<span" in second


def test_dates_read_one_way_everywhere(site: Path) -> None:
    """Pages show "3 Feb 2025"; the machine form is for <time datetime> and JSON-LD only."""
    shown = re.compile(r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}")
    machine = re.compile(r"\d{4}-\d{2}-\d{2}")
    times = 0
    for path in site.rglob("*.html"):
        html = path.read_text()
        for when, text in re.findall(r'<time datetime="([^"]+)">([^<]*)</time>', html):
            assert machine.fullmatch(when) and shown.fullmatch(text), (path, when, text)
            times += 1
        visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
        assert not machine.search(visible), path
    assert times > 100


def test_home_shows_featured_latest_and_topics(site: Path) -> None:
    home = (site / "index.html").read_text()
    topics, featured = home.split('id="featured-heading"')
    featured, latest = featured.split('id="latest-heading"')
    assert "Moving from Heroku" in featured
    assert latest.count('class="episode-card"') == 10  # page_size
    # topics come first (a phone shows them early); one without episodes is not advertised
    assert 'href="/devcasts/topics/heroku/">Heroku</a> <span class="count">' in topics
    assert "topics/dokku/" not in home
    dokku = (site / "topics/dokku/index.html").read_text()
    assert (
        "No episodes about Dokku yet" in dokku and 'href="/devcasts/topics/dokku/feed.xml"' in dokku
    )
    assert '"@type":"SearchAction"' in home
    podcast = (site / "podcasts/cloud-corner/index.html").read_text()
    assert 'type="application/rss+xml" title="Cloud Corner (original feed)"' in podcast


def test_people_categories_and_archive_group_episodes(site: Path) -> None:
    person = (site / "people/ada-example/index.html").read_text()
    assert "Moving from Heroku to Kubernetes" in person
    guest = (site / "people/grace-sample/index.html").read_text()
    assert 'href="https://grace.example.org" rel="nofollow noopener">Website' in guest
    podcast = (site / "podcasts/ship-it-weekly/index.html").read_text()
    assert 'href="/devcasts/categories/technology-tech-news/">Technology &gt; Tech News' in podcast
    category = (site / "categories/technology/index.html").read_text()
    assert "Cloud Corner" in category and "Ship It Weekly" in category
    assert "Moving from Heroku" not in (site / "archive/2023/index.html").read_text()
    assert "episode-1/" in (site / "archive/2023/index.html").read_text()


# --- escaping -----------------------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere(site: Path) -> None:
    for page in html_files(site):
        html = page.read_text()
        assert "<script>alert" not in html, page
        assert "javascript:" not in html, page
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
            assert "<" not in block and ">" not in block
            json.loads(block)
    episode = (site / "podcasts/hostile-show/episode-1/index.html").read_text()
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in episode
    assert (
        'content="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34;' in episode
    )
    show = (site / "podcasts/hostile-show/index.html").read_text()
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', show, re.S)
    assert ld and json.loads(ld.group(1))["name"] == HOSTILE


def test_markdown_pages_cannot_inject_html(site: Path) -> None:
    about = (site / "about/index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in about
    assert 'href="/devcasts/podcasts/"' in about  # "/podcasts/" rebased
    assert about.count("<h1>") == 1
    assert "<title>About devcasts · devcasts</title>" in about


def test_front_matter_errors_name_the_file_and_line(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    (sample_config.content_dir / "bad.md").write_text("---\ntitle: [unclosed\n---\nText\n")
    with pytest.raises(ConfigError) as caught:
        render(sample_catalog, sample_config, tmp_path / "out")
    assert "bad.md:" in str(caught.value)


def test_the_renderer_writes_the_content_pages_it_is_given_and_reads_no_content_folder(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    (sample_config.content_dir / "bad.md").write_text("---\ntitle: [unclosed\n---\nText\n")
    given = ContentPage("colophon", "Colophon", "", "<p>Set by hand.</p>", Path("colophon.md"))
    writer = SiteWriter(tmp_path / "out")
    render_site(sample_catalog, sample_config, writer, [given])  # bad.md is not read
    writer.finish()
    colophon = (tmp_path / "out" / "colophon" / "index.html").read_text()
    assert "<p>Set by hand.</p>" in colophon
    assert 'href="/devcasts/colophon/">Colophon</a>' in colophon  # in the navigation
    assert not (tmp_path / "out" / "about").exists()


def test_xml_and_json_outputs_parse(site: Path) -> None:
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [e.text for e in ET.parse(site / "sitemap.xml").iter(f"{namespace}loc")]
    assert BASE_URL + "podcasts/ship-it-weekly/episode-1/" in locs
    assert all(loc and loc.startswith(BASE_URL) for loc in locs)
    assert not any(loc and "404" in loc for loc in locs)
    # a listing's first page is named, its numbered pages (links to named pages) are not
    assert BASE_URL + "podcasts/ship-it-weekly/" in locs
    assert not [loc for loc in locs if loc and "/page/" in loc]
    outlines = ET.parse(site / "opml.xml").getroot().findall("./body/outline")
    assert sorted(o.get("xmlUrl") or "" for o in outlines) == [
        "https://cloud-corner.example.org/feed.xml",
        "https://ship-it-weekly.example.org/rss",
    ]
    page = (site / "health/index.html").read_text()
    assert page.index("Cloud Corner") < page.index("Ship It Weekly")  # failing feeds first
    assert "HTTP 503" in page
    health = json.loads((site / "health.json").read_text())
    assert health["counts"] == {"failed": 1, "ok": 1, "unchanged": 1}
    assert (
        "Sitemap: https://example.github.io/devcasts/sitemap.xml"
        in (site / "robots.txt").read_text()
    )
    chapters = json.loads((site / "podcasts/ship-it-weekly/episode-1/chapters.json").read_text())
    assert [c["startTime"] for c in chapters["chapters"]] == [0, 42.5, 3725]


def test_page_weight_budgets(site: Path) -> None:
    assert (site / "static/style.css").stat().st_size < 20_000
    episode = site / "podcasts/ship-it-weekly/episode-1/index.html"
    assert episode.stat().st_size < 50_000


# --- determinism and incremental builds ---------------------------------------------------


def test_two_renders_are_byte_identical(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    render(sample_catalog, sample_config, tmp_path / "a")
    render(sample_catalog, sample_config, tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_second_render_writes_nothing(
    site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    report = render(sample_catalog, sample_config, site)
    assert report.pages_written == 0 and report.changed_pages == []
    assert report.pages_unchanged > 100


def test_one_new_episode_rerenders_only_its_neighbors_and_listings(
    site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    new = make_episode(
        "cloud-corner", 0, title="Brand new", published=BUILT_AT + timedelta(hours=1)
    )
    catalog = dataclasses.replace(sample_catalog, episodes=(new, *sample_catalog.episodes))
    report = render(catalog, sample_config, site)
    episode_pages = [p for p in report.changed_pages if re.match(r"podcasts/[^/]+/[^/]+/index", p)]
    assert episode_pages == [
        "podcasts/cloud-corner/episode-0/index.html",
        "podcasts/cloud-corner/episode-1/index.html",  # its "next episode" link is new
    ]
    assert "index.html" in report.changed_pages
    assert "podcasts/cloud-corner/index.html" in report.changed_pages
    assert "podcasts/ship-it-weekly/index.html" not in report.changed_pages


def test_an_edited_episode_is_rerendered(
    site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    episodes = list(sample_catalog.episodes)
    index = next(i for i, e in enumerate(episodes) if e.id == "ship-it-weekly-0005")
    episodes[index] = dataclasses.replace(episodes[index], title="Renamed", content_hash="new")
    report = render(
        dataclasses.replace(sample_catalog, episodes=tuple(episodes)), sample_config, site
    )
    assert "podcasts/ship-it-weekly/episode-5/index.html" in report.changed_pages
    assert "podcasts/ship-it-weekly/episode-4/index.html" in report.changed_pages  # next-title
    assert "podcasts/ship-it-weekly/episode-20/index.html" not in report.changed_pages
    assert "Renamed" in (site / "podcasts/ship-it-weekly/episode-5/index.html").read_text()


def test_kept_pages_are_not_rendered_at_all(
    site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    page = site / "podcasts/ship-it-weekly/episode-7/index.html"
    page.write_text("left alone")  # a kept page is not even read back
    render(sample_catalog, sample_config, site)
    assert page.read_text() == "left alone"
    render(sample_catalog, sample_config, site, changed=RenderHints(full=True))
    assert "Ship It Weekly episode 7" in page.read_text()


def test_a_corrupt_manifest_means_a_full_render(
    site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    (site / MANIFEST).write_text("{not json")
    page = site / "podcasts/ship-it-weekly/episode-7/index.html"
    page.write_text("stale")
    render(sample_catalog, sample_config, site)
    assert "Ship It Weekly episode 7" in page.read_text()


def test_a_template_edit_rerenders_every_page(
    tmp_path: Path, site: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    templates = tmp_path / "templates"  # the site's own base.html, over the theme's
    templates.mkdir()
    base = templates / "base.html"
    theme_base = (THEME_DIR / "base.html").read_text()
    base.write_text(theme_base.replace("Skip to content", "Skip to the content"))
    config = dataclasses.replace(sample_config, templates_dir=templates)
    report = render(sample_catalog, config, site)
    # every page that extends base.html (the moved category pages are bare redirects)
    pages = [p for p in html_files(site) if 'http-equiv="refresh"' not in p.read_text()]
    assert report.pages_written == len(pages)
    assert (
        "Skip to the content" in (site / "podcasts/ship-it-weekly/episode-9/index.html").read_text()
    )


class _TextOf(HTMLParser):
    """The text of the first <h1>, and every tag name seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.depth = 0
        self.h1 = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.depth += tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "h1"

    def handle_data(self, data: str) -> None:
        if self.depth > 0:
            self.h1 += data


def _episode_page_tags(title: str) -> _TextOf:
    """Render a one-episode site titled `title` and parse the episode page."""
    catalog = build_catalog()
    episode = make_episode("ship-it-weekly", 1, title=title, summary=title)
    podcasts = tuple(p for p in catalog.podcasts if p.slug == "ship-it-weekly")
    catalog = dataclasses.replace(catalog, podcasts=podcasts, episodes=(episode,))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = Config(catalog.site, catalog.topics, (), root / "f.yaml", root / "none", TEMPLATES)
        render(catalog, config, root / "site")
        parser = _TextOf()
        parser.feed((root / "site" / urls.output_file(urls.episode(episode))).read_text())
    return parser


@functools.cache
def plain_tags() -> list[str]:
    return _episode_page_tags("x").tags


def _html_newlines(text: str) -> str:
    """What an HTML parser reads back: every CR and CRLF becomes LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=20, deadline=None)
@given(title=st.text(min_size=1, max_size=80).filter(lambda t: t.strip()))
def test_any_title_is_text_on_the_page(title: str) -> None:
    parser = _episode_page_tags(title)
    assert parser.h1 == _html_newlines(str(printable(title)))
    assert parser.tags == plain_tags()  # the title added no element


def _edits() -> dict[str, Callable[[Catalog], Catalog]]:
    def episodes(catalog: Catalog, change: Callable[[Episode], Episode]) -> Catalog:
        return dataclasses.replace(catalog, episodes=tuple(map(change, catalog.episodes)))

    def when(episode_id: str, **fields: object) -> Callable[[Episode], Episode]:
        """The edit as normalize makes it: a changed field changes the content hash too."""

        def change(episode: Episode) -> Episode:
            if episode.id != episode_id:
                return episode
            edited = dataclasses.replace(episode, **fields)  # type: ignore[arg-type]
            return dataclasses.replace(edited, content_hash=content_hash(edited))

        return change

    def same_hash(episode_id: str, **fields: object) -> Callable[[Episode], Episode]:
        return lambda e: dataclasses.replace(e, **fields) if e.id == episode_id else e  # type: ignore[arg-type]

    def podcast(catalog: Catalog, slug: str, **fields: object) -> Catalog:
        podcasts = tuple(
            dataclasses.replace(p, **fields) if p.slug == slug else p  # type: ignore[arg-type]
            for p in catalog.podcasts
        )
        return dataclasses.replace(catalog, podcasts=podcasts)

    guest = Person("Grace Sample", "grace-sample", "guest", href="https://grace.example.net/")
    return {
        "new episode": lambda c: dataclasses.replace(
            c, episodes=(make_episode("cloud-corner", 0, published=BUILT_AT), *c.episodes)
        ),
        "removed episode": lambda c: dataclasses.replace(
            c, episodes=tuple(e for e in c.episodes if e.id != "ship-it-weekly-0003")
        ),
        "edited title": lambda c: episodes(c, when("ship-it-weekly-0012", title="New title")),
        "featured": lambda c: episodes(c, when("cloud-corner-0005", featured=True)),
        "also published": lambda c: episodes(
            c, when("cloud-corner-0002", also_in=(SourceRef("ship-it-weekly"),))
        ),
        "person website": lambda c: episodes(c, when("ship-it-weekly-0001", people=(guest,))),
        "chapter renamed": lambda c: episodes(
            c, when("cloud-corner-0004", chapters=(Chapter(0.0, "Intro"), Chapter(65.0, "Fog")))
        ),
        # Overrides and merging change these after normalize hashed the episode:
        "title overridden": lambda c: episodes(
            c, same_hash("ship-it-weekly-0002", title="Curated")
        ),
        "topics overridden": lambda c: episodes(c, same_hash("cloud-corner-0001", topics=())),
        "podcast renamed": lambda c: podcast(c, "cloud-corner", title="Cloud Nook"),
        "podcast weight": lambda c: podcast(c, "ship-it-weekly", weight=0.01),
        "topic renamed": lambda c: dataclasses.replace(
            c, topics=(dataclasses.replace(c.topics[0], name="Heroku PaaS"), *c.topics[1:])
        ),
        "site title": lambda c: dataclasses.replace(
            c, site=dataclasses.replace(c.site, title="devcasts two")
        ),
        "time passes": lambda c: dataclasses.replace(c, built_at=BUILT_AT + timedelta(days=400)),
    }


@pytest.mark.parametrize("edit", sorted(_edits()))
def test_incremental_render_equals_a_full_render(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config, edit: str
) -> None:
    changed = _edits()[edit](sample_catalog)
    config = dataclasses.replace(sample_config, site=changed.site)
    render(sample_catalog, sample_config, tmp_path / "incremental")
    report = render(changed, config, tmp_path / "incremental")
    render(changed, config, tmp_path / "full")
    assert report.pages_written > 0
    assert tree(tmp_path / "incremental") == tree(tmp_path / "full")


def test_chapters_written_in_the_notes_are_shown_once(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    """A show that writes its chapters into the notes gets them once, as seek links there; a
    chapter list that says something else keeps its own section."""
    chapters = (Chapter(0.0, "Hello"), Chapter(250.0, "The migration"))
    written = "<p>(00:00) Hello<br>(04:10) The migration</p>"
    first = dataclasses.replace(sample_catalog.episodes[0], notes_html=written, chapters=chapters)
    other = (Chapter(0.0, "Hello"), Chapter(250.0, "Something the notes do not say"))
    second = dataclasses.replace(sample_catalog.episodes[1], notes_html=written, chapters=other)
    catalog = dataclasses.replace(
        sample_catalog, episodes=(first, second, *sample_catalog.episodes[2:])
    )
    out = tmp_path / "site"
    render(catalog, sample_config, out)
    once = (out / urls.episode(first) / "index.html").read_text()
    assert 'id="chapters-heading"' not in once and "chapters.json" not in once.split("</head>")[1]
    assert '<a class="seek" href="#t=250">04:10</a>) The migration' in once
    assert "data-chapters" in once  # the player still reads the chapters file
    assert (out / urls.chapters(first)).is_file()
    twice = (out / urls.episode(second) / "index.html").read_text()
    assert 'id="chapters-heading"' in twice and "Something the notes do not say" in twice


def test_older_category_pages_lead_to_the_category(site: Path) -> None:
    """A category groups podcasts: its page lists them and its newest episodes; the addresses
    of its older pages stay and send the reader to it, out of the sitemap."""
    front = site / "categories/technology/index.html"
    html = front.read_text()
    assert "/devcasts/categories/technology/page/" not in html  # no pages to go to
    assert 'href="/devcasts/archive/"' in html and "Newest episodes" in html
    older = sorted((site / "categories/technology/page").glob("*/index.html"))
    assert older, "the sample's category has more than one page of episodes"
    for page in older:
        moved = page.read_text()
        assert (
            '<meta http-equiv="refresh" content="0; url=/devcasts/categories/technology/">' in moved
        )
        assert (
            '<link rel="canonical" href="https://example.github.io/devcasts/categories/technology/">'
            in moved
        )
        assert len(moved) < 600
    sitemap = (site / "sitemap.xml").read_text()
    assert "categories/technology/page/" not in sitemap
