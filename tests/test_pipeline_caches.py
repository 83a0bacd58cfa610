"""What one build leaves for the next: the browser index catches up on pages written while it
was off, and the archive's decoded cache is written (by the indexer's child) and used."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from test_pipeline import START, FeedServer, feed, run_build, server, site_config

from devcasts.search import browser_index
from devcasts.search.browser_index import BrowserIndexReport

__all__ = ["server"]  # the fixture, shared with test_pipeline


def test_the_browser_index_catches_up_after_builds_without_it(
    tmp_path: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Sequence[str] | None] = []

    def fake_index(
        site: Path, cache: Path, changed: Sequence[str] | None, language: str = "en"
    ) -> BrowserIndexReport:
        asked.append(None if changed is None else list(changed))
        return BrowserIndexReport(skipped=False, seconds=0.0, pages=0)

    monkeypatch.setattr(browser_index, "build_browser_index", fake_index)
    site_config(tmp_path, server.url)

    def run(weeks: int, with_index: bool) -> None:
        run_build(tmp_path, START + timedelta(weeks=weeks), browser_index=with_index)

    run(30, with_index=True)  # the first build: nothing is known yet, every page compared
    server.body = feed(range(31))
    run(31, with_index=True)  # one new episode: only the changed pages are named
    server.body = feed(range(32))
    run(32, with_index=False)  # a new episode page Pagefind never saw
    run(32, with_index=True)  # changes no page, yet must compare them all
    run(32, with_index=True)  # up to date again: nothing to do

    assert asked[0] is None
    assert asked[1] is not None and any("/index.html" in page for page in asked[1])
    assert asked[2] is None
    assert len(asked) == 3  # the last build was up to date and ran no index


def test_the_archive_cache_is_written_by_a_build_and_used_by_the_next(
    tmp_path: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devcasts.archive import decoded_cache

    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))
    assert [p.name for p in (tmp_path / "cache" / "archive").iterdir()] == ["deploy-diary.pickle"]

    def refuse(path: Path, data: bytes) -> None:
        raise AssertionError(f"{path.name} was decoded again")

    monkeypatch.setattr(decoded_cache, "decode_podcast_file", refuse)
    server.body = feed(range(31))
    report = run_build(tmp_path, START + timedelta(weeks=31))
    assert report.new_episodes == 1


def test_archive_files_rewritten_by_an_up_to_date_build_keep_their_cache(
    tmp_path: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed read again whose episodes only gain a later last_seen rewrites the archive but
    changes no page; the next build must still find the rewritten file in the cache."""
    from devcasts.archive import decoded_cache

    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))
    stored = tmp_path / "content" / "archive" / "deploy-diary.json"
    before = stored.read_bytes()
    server.body = feed(range(30)) + b"<!-- the same episodes, other bytes -->"
    report = run_build(tmp_path, START + timedelta(weeks=30, days=1))
    assert report.up_to_date and stored.read_bytes() != before

    def refuse(path: Path, data: bytes) -> None:
        raise AssertionError(f"{path.name} was decoded again")

    monkeypatch.setattr(decoded_cache, "decode_podcast_file", refuse)
    server.body = feed(range(31))
    assert run_build(tmp_path, START + timedelta(weeks=31)).new_episodes == 1
