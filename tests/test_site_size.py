"""The build measures the site it wrote, and warns, naming the largest folders, when the site
nears GitHub Pages' 1 GB limit."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from test_pipeline import START, FeedServer, run_build, server, site_config

from devcasts.site import size
from devcasts.site.size import measure

__all__ = ["server"]  # the fixture, shared with test_pipeline


def write(path: Path, count: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * count)


def test_sizes_are_summed_by_top_level_folder_largest_first(tmp_path: Path) -> None:
    write(tmp_path / "podcasts" / "a" / "b" / "index.html", 700)
    write(tmp_path / "podcasts" / "a" / "index.html", 300)
    write(tmp_path / "topics" / "k" / "index.html", 400)
    write(tmp_path / "index.html", 50)
    measured = measure(tmp_path)
    assert measured.total == 1450
    assert measured.by_folder == (("podcasts/", 1000), ("topics/", 400), ("index.html", 50))
    assert measured.warning() is None


def test_the_warning_names_the_size_the_limit_and_the_largest_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "podcasts" / "index.html", 900)
    write(tmp_path / "search-index" / "meta.json", 200)
    monkeypatch.setattr(size, "WARN_BYTES", 1000)
    warning = measure(tmp_path).warning()
    assert warning is not None
    assert "1 GB" in warning.replace("1,000 MB", "1 GB")
    assert warning.index("podcasts/") < warning.index("search-index/")
    assert "docs/deploy.md" in warning


def test_a_build_reports_its_size_and_warns_near_the_limit(
    tmp_path: Path,
    server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site_config(tmp_path, server.url)
    report = run_build(tmp_path, START + timedelta(weeks=30))
    assert report.site_bytes == measure(tmp_path / "site").total > 0
    assert dict(report.site_folders)["podcasts/"] > 0
    assert not [r for r in caplog.records if "GitHub Pages" in r.getMessage()]
    monkeypatch.setattr(size, "WARN_BYTES", 1)
    (tmp_path / "feeds.yaml").write_text(
        (tmp_path / "feeds.yaml").read_text(encoding="utf-8") + "# edited\n", encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING):
        run_build(tmp_path, START + timedelta(weeks=30, days=1))
    warned = [r.getMessage() for r in caplog.records if "GitHub Pages" in r.getMessage()]
    assert len(warned) == 1 and "podcasts/" in warned[0]


def test_later_builds_count_what_they_wrote_and_removed_without_a_walk(
    tmp_path: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_pipeline import feed

    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))

    def no_walk(site_dir: Path) -> size.SiteSize:
        raise AssertionError("the site was walked again")

    monkeypatch.setattr(size, "measure", no_walk)
    config = tmp_path / "feeds.yaml"
    for week, change in enumerate(["new episode", "another", "title", "fewer topics"], 31):
        if change in ("new episode", "another"):
            server.body = feed(range(week))
        elif change == "title":
            config.write_text(config.read_text("utf-8").replace("title:", "title: New", 1), "utf-8")
        else:
            config.write_text(config.read_text("utf-8") + "# edited\n", "utf-8")
        report = run_build(tmp_path, START + timedelta(weeks=week))
        monkeypatch.undo()
        assert report.site_bytes == measure(tmp_path / "site").total, change
        assert dict(report.site_folders) == dict(measure(tmp_path / "site").by_folder), change
        monkeypatch.setattr(size, "measure", no_walk)


def test_a_site_deleted_between_builds_is_measured_again(
    tmp_path: Path, server: FeedServer
) -> None:
    """The Pages workflow keeps .cache/ (and the last build's sizes in it) but not site/: the
    build after such a start counts the site it wrote, not that plus the one that is gone."""
    import shutil

    from test_pipeline import feed

    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))
    for folder in ("site", "site.spare"):
        shutil.rmtree(tmp_path / folder, ignore_errors=True)
    server.body = feed(range(31))
    report = run_build(tmp_path, START + timedelta(weeks=31))
    assert report.site_bytes == measure(tmp_path / "site").total
    # and the files the build keeps to itself (dotfiles) are not counted: Pages leaves them out
    assert not [name for name, _ in report.site_folders if name.startswith(".")]
