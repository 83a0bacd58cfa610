"""What one build leaves for the next: a build without the browser index keeps the last one,
and the archive's decoded cache is written (by the indexer's child) and used."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from test_pipeline import START, FeedServer, feed, run_build, server, site_config

__all__ = ["server"]  # the fixture, shared with test_pipeline


def test_a_build_without_the_browser_index_keeps_the_last_one(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    meta = tmp_path / "site" / "search-index" / "meta.json"
    run_build(tmp_path, START + timedelta(weeks=30), browser_index=True)
    first = json.loads(meta.read_text(encoding="utf-8"))
    server.body = feed(range(31))
    report = run_build(tmp_path, START + timedelta(weeks=31), browser_index=False)
    assert report.new_episodes == 1
    assert json.loads(meta.read_text(encoding="utf-8")) == first  # kept as it was
    run_build(tmp_path, START + timedelta(weeks=31), browser_index=True)
    assert json.loads(meta.read_text(encoding="utf-8"))["documents"] == first["documents"] + 1


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
