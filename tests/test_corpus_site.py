"""The whole corpus built as a user would build it (conftest.corpus_build), judged on the pages
a listener reads: every show lists what it published, no counting image, no person page for
an organisation, no 1970 dates. The finer figures, item by item, are in the test_corpus_*.py
files beside this one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CorpusBuild, archived_episodes, archived_podcasts

from devcasts.util.text import slugify

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

AUTHORS = Path(__file__).parent / "data" / "people" / "authors.tsv"
_COUNT = re.compile(r'<p class="meta">(\d+) episodes?\b')
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_COUNTING_SRC = re.compile(r"/~r/[^\"']*/~4/|[?&]idsite=|/(?:matomo|piwik)\.php", re.IGNORECASE)
_PODCAST_PERSON = re.compile(r"<podcast:person\b[^>]*>([^<]+)</podcast:person>")
_ONE_PIXEL = re.compile(r'\b(?:width|height)="[01]"')


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_the_corpus_builds_with_every_readable_feed(corpus_build: CorpusBuild) -> None:
    assert len(corpus_build.feeds) >= 85
    assert len(list((corpus_build.site / "podcasts").glob("*/*/index.html"))) >= 4000


def test_every_show_page_counts_every_episode_it_published(corpus_build: CorpusBuild) -> None:
    """Merged or not, a show's page counts each episode its feed published and the archive
    kept (with include: all and no overrides, every one is visible)."""
    wrong = {}
    for podcast in archived_podcasts(corpus_build.archive):
        slug = podcast["slug"]
        published = len(archived_episodes(corpus_build.archive, slug))
        page = (corpus_build.site / "podcasts" / slug / "index.html").read_text(encoding="utf-8")
        shown = _COUNT.search(page)
        if published and (shown is None or int(shown.group(1)) != published):
            wrong[slug] = (published, shown.group(1) if shown else None)
    assert not wrong


def test_no_page_shows_a_counting_image(corpus_build: CorpusBuild) -> None:
    found = [
        (path.relative_to(corpus_build.site).as_posix(), tag[:120])
        for path in pages(corpus_build.site)
        for tag in _IMG.findall(path.read_text(encoding="utf-8"))
        if _COUNTING_SRC.search(tag) or _ONE_PIXEL.search(tag)
    ]
    assert not found


def test_no_organisation_handle_or_word_has_a_person_page(corpus_build: CorpusBuild) -> None:
    """An author field that is not a personal name gives no person page, unless the feed
    names the same person with podcast:person ("Brian of London" is a guest's chosen name)."""
    credited = {
        slugify(name)
        for source in corpus_build.feeds.values()
        for name in _PODCAST_PERSON.findall(source.read_text(encoding="utf-8", errors="replace"))
    }
    people = {path.name for path in (corpus_build.site / "people").iterdir() if path.is_dir()}
    rows = [
        line.split("\t")
        for line in AUTHORS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    not_people = [author for author, kind, *_ in rows if kind not in ("person", "people")]
    assert len(not_people) >= 40
    assert not [a for a in not_people if slugify(a) in people and slugify(a) not in credited]


def test_no_page_shows_an_epoch_date(corpus_build: CorpusBuild) -> None:
    epoch = re.compile(r'<time datetime="1970-01-01|>1 Jan 1970<')
    assert not [p.name for p in pages(corpus_build.site) if epoch.search(p.read_text("utf-8"))]
