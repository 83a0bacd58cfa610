"""The Pagefind browser index: shards by year, rebuilt only when their pages change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devcasts.errors import BuildError
from devcasts.search import browser_index
from devcasts.search.browser_index import browser_index_files, build_browser_index


def _pagefind_missing() -> bool:
    try:
        browser_index.pagefind_executable()
    except BuildError:
        return True
    return False


pytestmark = pytest.mark.skipif(_pagefind_missing(), reason="pagefind-bin is not installed")


def page(title: str, day: str, podcast: str = "Ship It Weekly", topic: str = "Heroku") -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<body><header><a href="/">devcasts</a></header>
<article data-pagefind-body data-pagefind-sort="date:{day}">
<span data-pagefind-filter="podcast">{podcast}</span>
<h1 data-pagefind-meta="title">{title}</h1><time datetime="{day}">{day}</time>
<a data-pagefind-filter="topic" href="/topics/x/">{topic}</a>
<p>Notes about {title.lower()} and deploying web apps with buildpacks.</p>
</article></body></html>"""


def write(site: Path, relpath: str, html: str) -> None:
    path = site / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site_dir = tmp_path / "site"
    write(site_dir, "index.html", "<html><body>Home, no pagefind body</body></html>")
    write(site_dir, "podcasts/ship-it/index.html", "<html><body>Listing</body></html>")
    write(site_dir, "podcasts/ship-it/dyno-day/index.html", page("Dyno day", "2023-04-01"))
    write(site_dir, "podcasts/ship-it/edge-night/index.html", page("Edge night", "2023-09-09"))
    write(site_dir, "podcasts/ops/k8s-spring/index.html", page("K8s spring", "2024-03-03"))
    return site_dir


def mtimes(site: Path) -> dict[str, int]:
    return {rel: (site / rel).stat().st_mtime_ns for rel in browser_index_files(site)}


def test_first_build_writes_one_bundle_per_year(site: Path, tmp_path: Path) -> None:
    report = build_browser_index(site, tmp_path / "cache", None)
    assert not report.skipped
    assert report.shards == ("2023", "2024") and report.rebuilt == ("2023", "2024")
    assert (report.pages, report.total_pages) == (3, 3)
    manifest = json.loads((site / "pagefind/shards.json").read_text(encoding="utf-8"))
    assert manifest["shards"] == ["2024", "2023"]
    for shard in ("2023", "2024"):
        bundle = site / "pagefind" / shard
        assert (bundle / "pagefind.js").is_file()
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert entry["languages"]["en"]["page_count"] == (2 if shard == "2023" else 1)
        assert not list(bundle.glob("pagefind-ui*")) and not list(bundle.glob("*highlight*"))
    files = browser_index_files(site)
    assert "pagefind/shards.json" in files and all(f.startswith("pagefind/") for f in files)


def test_no_change_skips_pagefind_and_touches_nothing(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    build_browser_index(site, cache, None)
    before = mtimes(site)
    assert build_browser_index(site, cache, []).skipped
    rescanned = build_browser_index(site, cache, None)
    assert rescanned.skipped and rescanned.rebuilt == () and rescanned.total_pages == 3
    unrelated = build_browser_index(site, cache, ["index.html", "podcasts/ship-it/index.html"])
    assert unrelated.skipped
    assert mtimes(site) == before


def test_a_changed_page_rebuilds_only_its_year(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    build_browser_index(site, cache, None)
    before = mtimes(site)
    changed = "podcasts/ops/k8s-spring/index.html"
    write(site, changed, page("K8s spring, corrected", "2024-03-03"))
    report = build_browser_index(site, cache, [changed])
    assert report.rebuilt == ("2024",) and report.pages == 1
    after = mtimes(site)
    assert {f: t for f, t in after.items() if f.startswith("pagefind/2023/")} == {
        f: t for f, t in before.items() if f.startswith("pagefind/2023/")
    }


def test_new_and_vanished_years(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    build_browser_index(site, cache, None)
    write(site, "podcasts/ops/new-year/index.html", page("New year", "2025-01-02"))
    (site / "podcasts/ops/k8s-spring/index.html").unlink()
    report = build_browser_index(site, cache, None)
    assert report.rebuilt == ("2025",) and report.shards == ("2023", "2025")
    assert not (site / "pagefind/2024").exists()
    manifest = json.loads((site / "pagefind/shards.json").read_text(encoding="utf-8"))
    assert manifest["shards"] == ["2025", "2023"]


def test_a_deleted_output_is_rebuilt_even_when_nothing_changed(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    build_browser_index(site, cache, None)
    for path in sorted((site / "pagefind/2023").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    report = build_browser_index(site, cache, None)
    assert report.rebuilt == ("2023",)


def test_shards_indexed_by_other_code_are_indexed_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    build_browser_index(site, cache, None)
    assert build_browser_index(site, cache, None).rebuilt == ()
    monkeypatch.setattr(browser_index, "fingerprint", lambda **inputs: "another version")
    assert build_browser_index(site, cache, None).rebuilt == ("2023", "2024")


def test_undated_pages_and_a_corrupt_state_file(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    undated = page("No date", "2023-01-01").replace(' data-pagefind-sort="date:2023-01-01"', "")
    write(site, "podcasts/ops/no-date/index.html", undated)
    cache.mkdir()
    (cache / browser_index.STATE_FILE).write_text("{not json", encoding="utf-8")
    report = build_browser_index(site, cache, [])
    assert not report.skipped and "undated" in report.shards
    manifest = json.loads((site / "pagefind/shards.json").read_text(encoding="utf-8"))
    assert manifest["shards"][-1] == "undated"


def test_a_pagefind_failure_is_a_build_error(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser_index, "pagefind_executable", lambda: Path("/bin/false"))
    with pytest.raises(BuildError, match="Pagefind failed on the 2023 shard"):
        build_browser_index(site, tmp_path / "cache", None)


def bundle_files(site: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the browser index: bytes and inode."""
    return {
        rel: ((site / rel).read_bytes(), (site / rel).stat().st_ino)
        for rel in browser_index_files(site)
    }


def test_the_report_names_exactly_the_files_written_and_removed(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = build_browser_index(site, cache, None)
    assert set(first.written) == set(browser_index_files(site)) and first.removed == ()
    assert build_browser_index(site, cache, []).written == ()
    steps = [
        lambda: write(site, "podcasts/ops/k8s-spring/index.html", page("K8s, again", "2024-03-03")),
        lambda: write(site, "podcasts/ops/new-year/index.html", page("New year", "2025-01-02")),
        lambda: (site / "podcasts/ops/k8s-spring/index.html").unlink(),  # 2024 goes
    ]
    for step in steps:
        before = bundle_files(site)
        step()
        report = build_browser_index(site, cache, None)
        after = bundle_files(site)
        assert set(report.written) == {
            rel for rel, (_, inode) in after.items() if before.get(rel, (b"", -1))[1] != inode
        }
        assert set(report.removed) == set(before) - set(after)
        assert report.written and all(rel.startswith("pagefind/") for rel in report.written)
    assert report.removed and all(rel.startswith("pagefind/2024/") for rel in report.removed)


def test_in_a_site_transaction_one_shard_swaps_in_and_the_spare_tree_keeps_step(
    site: Path, tmp_path: Path
) -> None:
    from devcasts.site.writer import site_transaction

    pages = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*.html")}
    out, cache = tmp_path / "live", tmp_path / "cache"

    def transaction(edits: dict[str, bytes]) -> None:
        with site_transaction(out) as writer:
            for rel, data in {**pages, **edits}.items():
                writer.write(rel, data)
            writer.external_dir(OUTPUT, keep_existing=True, replaces_only=True)
            writer.finish()
            changed = [rel for rel in (*writer.changed, *writer.removed) if rel.endswith(".html")]
            report = build_browser_index(writer.out_dir, cache, changed)
            writer.external_changes(OUTPUT, written=report.written, removed=report.removed)
        pages.update(edits)

    transaction({})
    before = bundle_files(out)
    edited = page("Dyno day, corrected", "2023-04-01").encode()
    transaction({"podcasts/ship-it/dyno-day/index.html": edited})
    after = bundle_files(out)
    assert {rel for rel in after if rel.startswith("pagefind/2024/")} == {
        rel for rel in before if rel.startswith("pagefind/2024/")
    }
    assert all(after[rel] == before[rel] for rel in after if rel.startswith("pagefind/2024/"))
    assert any(after.get(rel) != before[rel] for rel in before if rel.startswith("pagefind/2023/"))
    with site_transaction(out) as writer:  # the spare tree caught up: every file the same
        spare = {
            p.relative_to(writer.out_dir).as_posix(): p.read_bytes()
            for p in writer.out_dir.rglob("*")
            if p.is_file()
        }
        live = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        assert spare == live


OUTPUT = browser_index.OUTPUT_DIR
