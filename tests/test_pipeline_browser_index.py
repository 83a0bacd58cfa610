"""A build updates the in-browser search index from the last build's files: one new episode
rewrites a handful of its files, the search finds the episode, and a site folder that went
missing is noticed and the index built again."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from test_pipeline import START, FeedServer, feed, run_build, server, site_config
from test_search_engine_js import run_engine

__all__ = ["server"]  # the fixture, shared with test_pipeline

INDEX = "search-index"


def index_files(site: Path) -> dict[str, str]:
    folder = site / INDEX
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_one_new_episode_updates_a_handful_of_index_files(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    first = run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    assert first.browser_index_rebuilt == "no previous index"
    assert (tmp_path / "cache" / "browser-index" / "state.json").is_file()
    before = index_files(tmp_path / "site")

    server.body = feed(range(31), {30: "Zeppelin landings on Heroku"})
    report = run_build(tmp_path, START + timedelta(weeks=41), browser_index=True)
    assert report.new_episodes == 1
    assert report.browser_index_rebuilt == ""
    assert report.browser_index_readded == 1
    after = index_files(tmp_path / "site")
    changed = {path for path in after if before.get(path) != after[path]}
    assert report.browser_index_written == len(changed)
    assert {"meta.json", "facets.bin", "entities.json"} <= changed
    assert "d/0.json" not in changed  # the older documents' chunk
    assert len(changed) < len(after)  # (a small site: most shards hold a word of the new one)
    assert json.loads((tmp_path / "site" / INDEX / "meta.json").read_bytes())["documents"] == 31

    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    (answer,) = run_engine(tmp_path / "site", [{"q": "zeppelin"}])
    assert answer["total"] == 1
    assert answer["shown"][0]["title"] == "Zeppelin landings on Heroku"


def test_a_deleted_site_folder_is_noticed(tmp_path: Path, server: FeedServer) -> None:
    """The index files are read from the staging copy beside the site, each checked against
    the digest the state keeps: the site's folder can go, the index stays whole."""
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    built = index_files(tmp_path / "site")
    shutil.rmtree(tmp_path / "site")
    run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    assert index_files(tmp_path / "site") == built


def test_an_index_file_edited_in_place_means_a_build_from_scratch(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    shard = tmp_path / "site" / INDEX / "t" / "h.bin"  # "heroku": the new episode's word
    with shard.open("ab") as edited:  # the staging copy is the same file: it changes too
        edited.write(b"\0")
    server.body = feed(range(31))
    report = run_build(tmp_path, START + timedelta(weeks=41), browser_index=True)
    assert "not as the last build wrote it" in report.browser_index_rebuilt
    server.body = feed(range(32))
    report = run_build(tmp_path, START + timedelta(weeks=42), browser_index=True)
    assert report.browser_index_rebuilt == ""  # the state describes the rebuilt files


def test_an_index_file_deleted_from_the_site_is_written_again(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    oldest_chunk = tmp_path / "site" / INDEX / "d" / "0.json"  # a file the update keeps
    built = oldest_chunk.read_bytes()
    oldest_chunk.unlink()
    server.body = feed(range(31))
    run_build(tmp_path, START + timedelta(weeks=41), browser_index=True)
    assert oldest_chunk.read_bytes() == built  # kept, so it must be there


def test_a_build_without_the_last_site_builds_the_index_whole(
    tmp_path: Path, server: FeedServer
) -> None:
    """The Pages workflow keeps .cache/ (the index's state) but neither site/ nor its staging
    copy: the files the state describes are gone, so the index is built whole, by the
    indexing child, with the same bytes."""
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    built = index_files(tmp_path / "site")
    for folder in ("site", "site.spare"):
        shutil.rmtree(tmp_path / folder, ignore_errors=True)
    report = run_build(tmp_path, START + timedelta(weeks=40), browser_index=True)
    assert report.browser_index_rebuilt.endswith("is not on the site")
    assert index_files(tmp_path / "site") == built
