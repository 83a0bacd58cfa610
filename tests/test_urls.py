"""site/urls.py: every path of the site, and a guard that nothing else spells one out."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import pytest
from conftest import ROOT, make_episode

from devcasts.site import pages, urls

BASE_URL = "https://example.github.io/devcasts/"
BASE_PATH = "/devcasts/"
EPISODE = make_episode("ship-it", 1, slug="zero-downtime")

# --- the layout: published URLs never change -------------------------------------------------

LAYOUT: list[tuple[str, Callable[[], str], str]] = [
    ("home", urls.home, ""),
    ("podcasts", urls.podcasts, "podcasts/"),
    ("podcast", lambda: urls.podcast("ship-it"), "podcasts/ship-it/"),
    ("episode", lambda: urls.episode(EPISODE), "podcasts/ship-it/zero-downtime/"),
    ("chapters", lambda: urls.chapters(EPISODE), "podcasts/ship-it/zero-downtime/chapters.json"),
    (
        "transcript",
        lambda: urls.transcript(EPISODE),
        "podcasts/ship-it/zero-downtime/transcript.html",
    ),
    ("topics", urls.topics, "topics/"),
    ("topic", lambda: urls.topic("heroku"), "topics/heroku/"),
    ("topic_popular", lambda: urls.topic_popular("heroku"), "topics/heroku/popular/"),
    ("topic_feed", lambda: urls.topic_feed("heroku"), "topics/heroku/feed.xml"),
    ("people", urls.people, "people/"),
    ("person", lambda: urls.person("ada-lovelace"), "people/ada-lovelace/"),
    ("categories", urls.categories, "categories/"),
    ("category", lambda: urls.category("technology"), "categories/technology/"),
    ("archive", urls.archive, "archive/"),
    ("year", lambda: urls.year(2024), "archive/2024/"),
    ("listing_page", lambda: urls.listing_page("topics/heroku/", 3), "topics/heroku/page/3/"),
    ("search", urls.search, "search/"),
    ("health", urls.health, "health/"),
    ("health_json", urls.health_json, "health.json"),
    ("content_page", lambda: urls.content_page("about"), "about/"),
    ("not_found", urls.not_found, "404.html"),
    ("feed", urls.feed, "feed.xml"),
    ("json_feed", urls.json_feed, "feed.json"),
    ("sitemap", urls.sitemap, "sitemap.xml"),
    ("sitemap_part", lambda: urls.sitemap_part(2), "sitemap-2.xml"),
    ("robots", urls.robots, "robots.txt"),
    ("opml", urls.opml, "opml.xml"),
    ("static", lambda: urls.static("style.css"), "static/style.css"),
    ("search_index", lambda: urls.search_index("meta.json"), "search-index/meta.json"),
    ("art", lambda: urls.art("0a1b2c", 192, "webp"), "art/0a1b2c-192.webp"),
    ("apple_touch_icon", urls.apple_touch_icon, "apple-touch-icon.png"),
]


@pytest.mark.parametrize(("kind", "make", "expected"), LAYOUT, ids=[k for k, _, _ in LAYOUT])
def test_every_path_is_where_it_always_was(
    kind: str, make: Callable[[], str], expected: str
) -> None:
    assert make() == expected


@pytest.mark.parametrize(
    ("path", "file"),
    [
        ("", "index.html"),
        ("podcasts/ship-it/zero-downtime/", "podcasts/ship-it/zero-downtime/index.html"),
        ("topics/heroku/page/2/", "topics/heroku/page/2/index.html"),
        ("404.html", "404.html"),
        ("feed.xml", "feed.xml"),
        (
            "podcasts/ship-it/zero-downtime/chapters.json",
            "podcasts/ship-it/zero-downtime/chapters.json",
        ),
    ],
)
def test_a_page_is_served_by_its_folders_index_file(path: str, file: str) -> None:
    assert urls.output_file(path) == file


def test_links_go_under_the_base_path_and_absolute_urls_under_the_base_url() -> None:
    path = urls.episode(EPISODE)
    assert urls.href(BASE_PATH, path) == "/devcasts/podcasts/ship-it/zero-downtime/"
    assert urls.href("/", urls.home()) == "/"
    assert urls.absolute(BASE_URL, path) == BASE_URL + "podcasts/ship-it/zero-downtime/"
    assert urls.absolute(BASE_URL, urls.home()) == BASE_URL


def test_an_unsafe_topic_slug_still_gives_one_path_segment() -> None:
    """feeds.yaml only allows safe slugs; a topic from elsewhere still cannot leave topics/."""
    assert urls.topic("../Évents & Talks") == "topics/events-talks/"
    assert urls.topic_feed("../Évents & Talks") == "topics/events-talks/feed.xml"


def test_templates_name_every_kind_of_page_the_same_way() -> None:
    assert urls.path_for("episode", EPISODE) == urls.episode(EPISODE)
    assert urls.path_for("topic_feed", "heroku") == urls.topic_feed("heroku")
    assert urls.path_for("home") == ""
    url_for = urls.link_maker(BASE_PATH)
    assert url_for("episode", EPISODE) == urls.href(BASE_PATH, urls.episode(EPISODE))
    assert url_for("home") == BASE_PATH
    with pytest.raises(ValueError, match=r"'episodes'.*known: home, podcasts"):
        urls.path_for("episodes")


def test_listing_pages_are_numbered_under_the_listings_first_page() -> None:
    items = list(range(7))
    newest = pages.paginate(items, urls.person("ada"), 2)
    assert [p.relpath for p in newest] == [
        "people/ada/",
        *(f"people/ada/page/{n}/" for n in (2, 1)),
    ]
    ranked = pages.paginate_ranked(items, urls.topic_popular("aws"), 2, 3)
    assert [p.relpath for p in ranked][1:] == [
        "topics/aws/popular/page/2/",
        "topics/aws/popular/page/3/",
    ]


def test_content_pages_cannot_take_a_name_the_site_uses() -> None:
    made = (urls.art("0a", 96, "jpg"), urls.apple_touch_icon())
    for path in (urls.podcasts(), urls.topics(), urls.search(), urls.static("x"), *made):
        assert path.split("/")[0].split(".")[0] in urls.RESERVED_NAMES


# --- nothing but urls.py spells out a site path ----------------------------------------------

# A folder of the site followed by "/", or a file the site publishes, not inside a longer
# name ("podcasts/" but not "mypodcasts/", "feed.xml" but not "feed.xml.bak"); "sitemap-"
# also as the start of f"sitemap-{n}.xml". Prose in docstrings is allowed; string constants
# and templates are not.
_SITE_PATH = re.compile(
    r"(?<![\w.-])(?:podcasts|episodes|topics|people|categories|archive|search|health|static"
    r"|search-index|page|popular)/"
    r"|(?<![\w.-])(?:(?:index|404)\.html|feed\.(?:xml|json)|chapters\.json|robots\.txt"
    r"|opml\.xml|health\.json|sitemap(?:-[^./\s]*)?\.xml)(?![\w.-])"
    r"|(?<![\w.-])sitemap-$"
)
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")  # another site's address
# A name joined to ".html": f"{slug}.html", slug + ".html".
_HTML_SUFFIX = re.compile(r"^\.html\b")
# In a template's markup: a link written out instead of made by url_for ("/podcasts/", "x/").
_LITERAL_LINK = re.compile(r"""\b(?:href|src|action)\s*=\s*["'](?=[^"'{#])(?!https?:|mailto:)""")
# Template string literals that can only be glue for a path: "/", "x/", "/x", "x.html".
_PATH_GLUE = re.compile(r"^/|/$|\.(?:html|xml|json)$")

_TEMPLATE_TAGS = frozenset({"extends", "include", "import", "from"})  # a template's name follows

TEMPLATES = ROOT / "src" / "devcasts" / "site" / "theme"
SOURCES = ROOT / "src" / "devcasts"
URLS_MODULE = SOURCES / "site" / "urls.py"


def python_site_paths(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every string in Python `source`, docstrings aside, that spells a site
    path: a layout folder or a site file, or a name joined to ".html"."""
    tree = ast.parse(source)
    docstrings = {id(doc) for node in ast.walk(tree) if (doc := _docstring(node)) is not None}
    joined: set[int] = set()
    template_names: set[int] = set()  # "404.html" the template, not the page
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            joined.update(id(part) for part in node.values)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            joined.update(id(side) for side in (node.left, node.right))
        elif isinstance(node, ast.Call) and node.args and _calls(node, _TEMPLATE_CALLS):
            template_names.add(id(node.args[0]))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        text = node.value
        if _EXTERNAL.match(text):
            continue
        if id(node) not in docstrings | template_names and (
            _SITE_PATH.search(text) or (id(node) in joined and _HTML_SUFFIX.search(text))
        ):
            yield node.lineno, text


_TEMPLATE_CALLS = frozenset({"get_template", "render", "later"})  # their first argument


def _calls(call: ast.Call, names: frozenset[str]) -> bool:
    function = call.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return name in names


def _docstring(node: ast.AST) -> ast.Constant | None:
    if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first.value if isinstance(first.value.value, str) else None
    return None


def template_site_paths(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every place a template spells a site path: a string literal naming a
    layout folder or file or gluing a path, a link written into the markup, or text joined
    to the base path (`base ~ ...`)."""
    tokens = [t for t in jinja2.Environment().lex(source) if t[1] != "whitespace"]
    for index, (line, kind, value) in enumerate(tokens):
        if kind == "string":
            text = value[1:-1]
            names_a_template = index > 0 and tokens[index - 1][2] in _TEMPLATE_TAGS
            if not names_a_template and (_SITE_PATH.search(text) or _PATH_GLUE.search(text)):
                yield line, text
        elif kind == "data":
            if _SITE_PATH.search(value) or _LITERAL_LINK.search(value):
                yield line, value.strip()[:80]
        elif kind == "name" and value == "base":
            around = [tokens[i][2] for i in (index - 1, index + 1) if 0 <= i < len(tokens)]
            if "~" in around:
                yield line, "base ~ …"


def _found(
    files: list[Path], scan: Callable[[str], Iterator[tuple[int, str]]]
) -> list[tuple[str, int, str]]:
    found = []
    for path in files:
        relpath = path.relative_to(ROOT).as_posix()
        for line, text in scan(path.read_text(encoding="utf-8")):
            found.append((relpath, line, text))
    return found


def test_no_module_but_urls_spells_out_a_site_path() -> None:
    modules = sorted(p for p in SOURCES.rglob("*.py") if p != URLS_MODULE)
    assert len(modules) > 50
    assert _found(modules, python_site_paths) == []


def test_no_template_spells_out_a_site_path() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 15
    assert _found(templates, template_site_paths) == []


@pytest.mark.parametrize(
    "code",
    [
        'path = f"podcasts/{slug}/"',
        'path = "topics/" + slug + "/"',
        'url = site.base_url + "feed.xml"',
        'url = f"{base}{episode.podcast}/{episode.slug}/chapters.json"',
        'name = f"{slug}.html"',
        'name = slug + ".html"',
        'filename = relpath + "index.html"',
        'out.data("robots.txt", text)',
        'page = f"{base}page/{number}/"',
        'link = "/people/" + slug',
        'path = "podcasts/ship-it/zero-downtime/"',
        'glob = "podcasts/*/*/index.html"',
        'SITEMAP = "sitemap-%d.xml"',
        'name = f"sitemap-{number}.xml"',
        'def f():\n    """Doc."""\n    return "categories/"',
        'out.page("404.html", site.later("404.html", "404.html"))',
    ],
)
def test_the_python_check_finds_a_path_spelled_by_hand(code: str) -> None:
    assert list(python_site_paths(code)), code


@pytest.mark.parametrize(
    "code",
    [
        '"""The episode page lives at podcasts/<podcast>/<slug>/ (see urls.py)."""',
        'def f():\n    """Writes feed.xml and topics/<slug>/feed.xml."""',
        'folder = "podcasts"',
        'kind = "text/html"',
        'message = "use lower-case letters, digits, -"',
        'feed = "https://example.com/podcasts/feed.xml.bak"',
        'name = "pagefind-entry.json"',
        'stage = cache_dir / "pagefind-stage"',
        'archive = content_dir / "archive" / f"{slug}.json"',
        'summary = "sitemap-less sites"',
        'pattern = rb"data-pagefind-body"',
        'label = "Full show notes"',
        'html = site.later("404.html", urls.not_found())',
    ],
)
def test_the_python_check_leaves_other_strings_alone(code: str) -> None:
    assert list(python_site_paths(code)) == [], code


@pytest.mark.parametrize(
    "template",
    [
        "<a href=\"{{ url('podcasts/' ~ podcast.slug ~ '/') }}\">x</a>",
        "<a href=\"{{ url(episode_path ~ 'chapters.json') }}\">x</a>",
        "<a href=\"{{ url('archive/' ~ year) }}\">x</a>",
        "<a href=\"{{ url(topic.slug ~ '/') }}\">x</a>",
        '<a href="{{ base ~ person.slug }}">x</a>',
        '<a href="/topics/">Topics</a>',
        '<a href="people/">People</a>',
        '<link rel="alternate" href="{{ base }}feed.xml">',
        "{% set page = slug ~ '.html' %}",
    ],
)
def test_the_template_check_finds_a_path_spelled_by_hand(template: str) -> None:
    assert list(template_site_paths(template)), template


@pytest.mark.parametrize(
    "template",
    [
        "<a href=\"{{ url_for('podcast', podcast.slug) }}\">Podcasts</a>",
        "<script src=\"{{ url_for('static', 'search.js') }}\" defer></script>",
        '<html data-base="{{ base }}">',
        '<a class="skip-link" href="#main">Skip to content</a>',
        '<a href="{{ episode.link }}" rel="nofollow noopener">original episode page</a>',
        "<p>Browse the topics or the archive instead.</p>",
        '<article data-pagefind-body data-pagefind-sort="date:2024-01-01">',
        "{{ title ~ ' · ' ~ site.title }}",
        '{% extends "base.html" %}{% from "macros.html" import pagination %}',
        '{% include "card.html" %}',
    ],
)
def test_the_template_check_leaves_other_markup_alone(template: str) -> None:
    assert list(template_site_paths(template)) == [], template


def test_templates_can_ask_for_every_kind_by_its_functions_name() -> None:
    named = {kind for kind, _, _ in LAYOUT}
    assert set(urls.KINDS) == named
    assert all(urls.KINDS[kind].__name__ == kind for kind in named)
