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


def _refuse_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    from devcasts.archive import files

    def refuse(path: Path, data: bytes) -> None:
        raise AssertionError(f"{path.name} was decoded again")

    for name in ("decode_podcast_file", "decode_podcast_record", "decode_year_file"):
        monkeypatch.setattr(files, name, refuse)


def _content_files(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted((folder / "content").rglob("*"))
        if p.is_file()
    }


def test_the_archive_cache_is_written_by_a_build_and_used_by_the_next(
    tmp_path: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))
    entries = sorted(p.name for p in (tmp_path / "cache" / "archive").iterdir())
    assert entries == ["deploy-diary~2024.pickle", "deploy-diary~podcast.pickle"]
    _refuse_decoding(monkeypatch)
    server.body = feed(range(31))
    assert run_build(tmp_path, START + timedelta(weeks=31)).new_episodes == 1


def test_the_same_feed_read_days_later_writes_nothing_in_content(
    tmp_path: Path, server: FeedServer
) -> None:
    """Nothing new, on later days: not a byte of the archive is rewritten (no daily
    last_seen), so a scheduled job has nothing to commit."""
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))
    before = _content_files(tmp_path)
    assert "content/archive/deploy-diary/2024.json" in before
    for day in (1, 2, 9):
        server.body = feed(range(30)) + f"<!-- other bytes, day {day} -->".encode()
        report = run_build(tmp_path, START + timedelta(weeks=30, days=day))
        assert report.up_to_date
        assert _content_files(tmp_path) == before


def test_archive_files_rewritten_by_an_up_to_date_build_keep_their_cache(
    tmp_path: Path, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed read again without an old episode records when it dropped off (no page shows
    that); the next build must still find the rewritten file in the cache."""
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=30))
    stored = tmp_path / "content" / "archive" / "deploy-diary" / "2024.json"
    before = stored.read_bytes()
    server.body = feed(range(1, 30))
    report = run_build(tmp_path, START + timedelta(weeks=30, days=1))
    assert report.up_to_date and stored.read_bytes() != before
    assert b'"dropped": "2024-07-30T08:00:00Z"' in stored.read_bytes()

    _refuse_decoding(monkeypatch)
    server.body = feed(range(31))
    assert run_build(tmp_path, START + timedelta(weeks=31)).new_episodes == 1
