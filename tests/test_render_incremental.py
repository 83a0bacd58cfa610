"""A site rendered over the last build's equals one rendered from nothing, byte for byte, for
the changes real feeds make: the fingerprints skip only pages that would come out the same."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from devcasts.model import Config
from devcasts.records import Catalog, Episode
from devcasts.site import pages, urls
from devcasts.site import render as render_module
from devcasts.site.content_pages import load_content_pages
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter
from devcasts.util.episode_dates import newest_first_key

SHOW = "ship-it-weekly"


def _render(catalog: Catalog, config: Config, out: Path) -> list[str]:
    writer = SiteWriter(out)
    content = load_content_pages(config.content_dir, config.site.base_path)
    report = render_site(catalog, config, writer, content)
    writer.finish()
    return report.changed_pages


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _with_episodes(catalog: Catalog, episodes: list[Episode]) -> Catalog:
    return dataclasses.replace(catalog, episodes=tuple(sorted(episodes, key=newest_first_key)))


def _show_episodes(catalog: Catalog) -> list[Episode]:
    return [e for e in catalog.episodes if e.podcast == SHOW]  # newest first


def newer_episode(episode: Episode, name: str, days: int, title: str) -> Episode:
    """A new episode of `episode`'s show, `days` after it, never archived before."""
    return dataclasses.replace(
        episode,
        id=name,
        guid=name,
        slug=name,
        title=title,
        published=episode.published + timedelta(days=days),
        content_hash="",
    )


def new_newest_episode(catalog: Catalog) -> Catalog:
    newest = _show_episodes(catalog)[0]
    added = newer_episode(newest, "a-new-one", 1, "Shipping on a Friday, again")
    return _with_episodes(catalog, [added, *catalog.episodes])


def a_page_of_new_episodes(catalog: Catalog) -> Catalog:
    """Enough new episodes for every listing they join to have one numbered page more."""
    newest = _show_episodes(catalog)[0]
    added = [
        newer_episode(newest, f"new-{n}", n, f"Shipping on a Friday, part {n}")
        for n in range(1, catalog.site.page_size + 1)
    ]
    return _with_episodes(catalog, [*added, *catalog.episodes])


def edited_old_episode(catalog: Catalog) -> Catalog:
    oldest = _show_episodes(catalog)[-1]
    edited = dataclasses.replace(
        oldest, title="A corrected title", notes_html="<p>Corrected notes.</p>", content_hash=""
    )
    return _with_episodes(catalog, [edited if e is oldest else e for e in catalog.episodes])


def removed_episode(catalog: Catalog) -> Catalog:
    gone = _show_episodes(catalog)[15]  # in the middle of the show's numbered pages
    return _with_episodes(catalog, [e for e in catalog.episodes if e is not gone])


def renamed_show(catalog: Catalog) -> Catalog:
    podcasts = tuple(
        dataclasses.replace(p, title="Ship It Daily") if p.slug == SHOW else p
        for p in catalog.podcasts
    )
    return dataclasses.replace(catalog, podcasts=podcasts)


def reweighted_show(catalog: Catalog) -> Catalog:
    """feeds.yaml's weight orders "popular" and is shown nowhere else."""
    podcasts = tuple(
        dataclasses.replace(p, weight=0.1) if p.slug == SHOW else p for p in catalog.podcasts
    )
    return dataclasses.replace(catalog, podcasts=podcasts)


def featured_old_episode(catalog: Catalog) -> Catalog:
    oldest = _show_episodes(catalog)[-1]
    featured = dataclasses.replace(oldest, featured=True)
    return _with_episodes(catalog, [featured if e is oldest else e for e in catalog.episodes])


def later_build_date(catalog: Catalog) -> Catalog:
    assert catalog.built_at is not None
    return dataclasses.replace(catalog, built_at=catalog.built_at + timedelta(days=400))


@pytest.mark.parametrize(
    "change",
    [
        later_build_date,
        new_newest_episode,
        a_page_of_new_episodes,
        edited_old_episode,
        removed_episode,
        renamed_show,
        reweighted_show,
        featured_old_episode,
    ],
)
def test_an_incremental_render_equals_a_render_from_nothing(
    tmp_path: Path,
    sample_catalog: Catalog,
    sample_config: Config,
    change: Callable[[Catalog], Catalog],
) -> None:
    assert len(_show_episodes(sample_catalog)) > 3 * sample_catalog.site.page_size
    incremental, fresh = tmp_path / "incremental", tmp_path / "fresh"
    _render(sample_catalog, sample_config, incremental)
    changed = change(sample_catalog)
    written = _render(changed, sample_config, incremental)
    _render(changed, sample_config, fresh)
    assert _files(incremental) == _files(fresh)
    assert written  # the change shows somewhere
    total = len(_files(fresh))
    if change not in (renamed_show, a_page_of_new_episodes):  # on each page, ten new pages
        assert len(written) < total / 4, "most pages are kept as they were"


def test_a_kept_show_with_a_page_gone_from_the_site_is_rendered_again(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    out = tmp_path / "site"
    _render(sample_catalog, sample_config, out)
    newest = _show_episodes(sample_catalog)[0]
    page = out / "podcasts" / SHOW / newest.slug / "index.html"
    expected = page.read_bytes()
    page.unlink()
    assert f"podcasts/{SHOW}/{newest.slug}/index.html" in _render(
        sample_catalog, sample_config, out
    )
    assert page.read_bytes() == expected


def _calls(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, note: Callable[..., str]
) -> list[str]:
    """What `note` makes of each call to `owner.name` from here on."""
    noted: list[str] = []
    original = getattr(owner, name)

    def recording(*args: object, **kwargs: object) -> object:
        noted.append(note(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return noted


def _newest_two(catalog: Catalog) -> set[str]:
    """A new newest episode's page, and the previous newest's (its "next episode" link)."""
    return {"a-new-one", _show_episodes(catalog)[0].id}


def _oldest_two(catalog: Catalog) -> set[str]:
    """An edited oldest episode's page, and the next one's (its "previous episode" link)."""
    return {e.id for e in _show_episodes(catalog)[-2:]}


@pytest.mark.parametrize(
    ("earlier", "change", "touched"),
    [
        ((), new_newest_episode, _newest_two),
        ((new_newest_episode,), edited_old_episode, _oldest_two),  # a show rendered again last
    ],
    ids=["new episode", "edit after a new episode"],
)
def test_a_change_renders_only_the_episode_pages_it_touches(
    tmp_path: Path,
    sample_catalog: Catalog,
    sample_config: Config,
    monkeypatch: pytest.MonkeyPatch,
    earlier: tuple[Callable[[Catalog], Catalog], ...],
    change: Callable[[Catalog], Catalog],
    touched: Callable[[Catalog], set[str]],
) -> None:
    """Every other show keeps its pages unrendered, and so do the changed show's other pages,
    also when the last build rendered that show again (its pages' fingerprints carried on)."""
    out = tmp_path / "site"
    catalog = sample_catalog
    _render(catalog, sample_config, out)
    for step in earlier:
        catalog = step(catalog)
        _render(catalog, sample_config, out)
    rendered = _calls(
        monkeypatch, render_module, "_episode_html", lambda _site, episode, *_: episode.id
    )
    _render(change(catalog), sample_config, out)
    assert sorted(rendered) == sorted(touched(catalog))


def test_only_the_listings_a_new_episode_joins_are_paginated_again(
    tmp_path: Path,
    sample_catalog: Catalog,
    sample_config: Config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "site"
    _render(sample_catalog, sample_config, out)
    with_numbered: list[bool] = []

    def note(_episodes: object, base: str, _size: int, *, numbered: bool = True) -> str:
        with_numbered.append(numbered)
        return base

    paginated = _calls(monkeypatch, pages, "paginate_episodes", note)
    changed = new_newest_episode(sample_catalog)
    _render(changed, sample_config, out)
    assert with_numbered and not any(with_numbered), "the numbered pages stay as they were"
    [added] = [e for e in changed.episodes if e.id == "a-new-one"]
    shows = {SHOW, *(ref.podcast for ref in added.also_in)}  # a merged copy is listed there too
    joined = {
        *(urls.podcast(slug) for slug in shows),
        urls.year(added.published.year),
        *(urls.topic(slug) for slug in added.topics),
        *(urls.person(person.slug) for person in added.people),
    }
    others = [p.slug for p in sample_catalog.podcasts if p.slug not in shows]
    assert others and not {urls.podcast(slug) for slug in others} & set(paginated)
    assert set(paginated) - {url for url in paginated if url.startswith("categories/")} <= joined


def test_popular_pages_follow_a_build_date_that_caps_recency(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    """A catalog whose newer episodes came out after its build date (not one build_catalog
    makes) ranks them as if published then: "popular" changes when that date moves on."""
    podcasts = tuple(  # its 2023 episode ranks as if from February 2025: among SHOW's
        dataclasses.replace(p, weight=11.0) if p.slug == "hostile-show" else p
        for p in sample_catalog.podcasts
    )
    weighted = dataclasses.replace(sample_catalog, podcasts=podcasts)
    middle = weighted.episodes[len(weighted.episodes) // 2].published
    capped = dataclasses.replace(weighted, built_at=middle)
    incremental, fresh = tmp_path / "incremental", tmp_path / "fresh"
    _render(capped, sample_config, incremental)
    written = _render(weighted, sample_config, incremental)
    _render(weighted, sample_config, fresh)
    assert _files(incremental) == _files(fresh)
    assert any("/popular/" in page for page in written)
