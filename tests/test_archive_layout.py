"""The archive's layout on disk: a folder per podcast, a file per year of its episodes, and
archives of the earlier single-file layout read, then moved, without losing a thing."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_archive import NOW, make_episode, make_feed

from devcasts.archive import files
from devcasts.archive.codec import ArchiveError
from devcasts.archive.files import archive_dir, load_archive, save_archive
from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState

FORMAT_1 = Path(__file__).parent / "data" / "archive-format-1"  # written by the earlier code


def _copy_format_1(content: Path) -> Path:
    folder = archive_dir(content)
    shutil.copytree(FORMAT_1, folder)
    return folder


def _names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _across_years() -> ArchiveState:
    """A weekly show from late 2022 into 2024: three year files."""
    start = datetime(2022, 12, 20, 23, 30, tzinfo=UTC)
    episodes = [make_episode(n, published=start + timedelta(weeks=n)) for n in range(60)]
    state, _ = merge_feeds(ArchiveState(), [make_feed(episodes)], NOW)
    return state


# --- the layout -----------------------------------------------------------------------------


def test_each_year_of_episodes_has_its_own_file(tmp_path: Path) -> None:
    state = _across_years()
    save_archive(tmp_path, state)
    folder = archive_dir(tmp_path)
    assert _names(folder) == [
        "lighthouse/2022.json",
        "lighthouse/2023.json",
        "lighthouse/2024.json",
        "lighthouse/podcast.json",
    ]
    for year in (2022, 2023, 2024):
        document = json.loads((folder / "lighthouse" / f"{year}.json").read_text("utf-8"))
        published = [e["published"] for e in document["episodes"]]
        assert published == sorted(published)
        assert {p[:4] for p in published} == {str(year)}  # by the UTC year
    podcast = json.loads((folder / "lighthouse" / "podcast.json").read_text("utf-8"))
    assert podcast == {"format": 2, "podcast": json.loads(json.dumps(podcast["podcast"]))}
    assert "episodes" not in podcast
    assert load_archive(tmp_path) == state


def test_a_new_episode_rewrites_only_its_years_file(tmp_path: Path) -> None:
    state = _across_years()
    save_archive(tmp_path, state)
    folder = archive_dir(tmp_path) / "lighthouse"
    before = {name: (folder / name).stat().st_mtime_ns for name in ("2022.json", "2023.json")}
    grown = [*state.episodes(), make_episode(99, published=datetime(2024, 3, 1, tzinfo=UTC))]
    later, changes = merge_feeds(state, [make_feed(grown)], NOW + timedelta(days=40))
    assert changes.new_count == 1
    assert save_archive(tmp_path, later, only=changes.touched_podcasts) == [folder / "2024.json"]
    assert {name: (folder / name).stat().st_mtime_ns for name in before} == before
    assert load_archive(tmp_path) == later


def test_an_episode_whose_date_moves_to_another_year_moves_file(tmp_path: Path) -> None:
    lone = make_episode(1, published=datetime(2023, 12, 31, 23, 0, tzinfo=UTC))
    other = make_episode(2, published=datetime(2024, 2, 1, tzinfo=UTC))
    state, _ = merge_feeds(ArchiveState(), [make_feed([lone, other])], NOW)
    save_archive(tmp_path, state)
    redated = replace(lone, published=datetime(2024, 1, 1, 1, 0, tzinfo=UTC), content_hash="new")
    later, _ = merge_feeds(state, [make_feed([redated, other])], NOW + timedelta(days=1))
    folder = archive_dir(tmp_path) / "lighthouse"
    assert save_archive(tmp_path, later) == [folder / "2024.json"]
    assert _names(folder) == ["2024.json", "podcast.json"]  # 2023 holds no episode now
    assert load_archive(tmp_path) == later


def test_a_move_cut_short_keeps_the_later_years_copy(tmp_path: Path) -> None:
    """A save killed after writing the episode's new year file, before its old one."""
    lone = make_episode(1, published=datetime(2023, 12, 31, 23, 0, tzinfo=UTC))
    state, _ = merge_feeds(ArchiveState(), [make_feed([lone])], NOW)
    save_archive(tmp_path, state)
    folder = archive_dir(tmp_path) / "lighthouse"
    old_year = (folder / "2023.json").read_bytes()
    redated = replace(lone, published=datetime(2024, 1, 1, 1, 0, tzinfo=UTC), content_hash="new")
    later, _ = merge_feeds(state, [make_feed([redated])], NOW + timedelta(days=1))
    save_archive(tmp_path, later)
    (folder / "2023.json").write_bytes(old_year)  # as the killed save left it
    assert load_archive(tmp_path) == later
    assert save_archive(tmp_path, later) == []
    assert _names(folder) == ["2024.json", "podcast.json"]


def test_a_broken_year_file_names_the_file_and_line(tmp_path: Path) -> None:
    save_archive(tmp_path, _across_years())
    path = archive_dir(tmp_path) / "lighthouse" / "2023.json"
    lines = path.read_text("utf-8").splitlines()
    lines[4] = "<<<<<<< HEAD"
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(ArchiveError, match=r"lighthouse/2023\.json:5: not valid JSON"):
        load_archive(tmp_path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("podcast.json", '{"format": 1, "podcast": {}}', "unsupported archive format 1"),
        ("podcast.json", '{"format": 2, "podcast": {"slug": "x", "title": "t", "feed_url": "u"}}',
         "does not match the file name"),
        ("2024.json", '{"format": 2, "episodes": {}}', "'episodes' must be a list"),
        ("2024.json", '{"format": 3, "episodes": []}', "unsupported archive format 3"),
    ],
)  # fmt: skip
def test_a_malformed_file_in_a_folder_is_a_clear_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    save_archive(tmp_path, _across_years())
    path = archive_dir(tmp_path) / "lighthouse" / name
    path.write_text(text, "utf-8")
    with pytest.raises(ArchiveError, match=message) as caught:
        load_archive(tmp_path)
    assert f"lighthouse/{name}" in str(caught.value)


def test_the_same_episode_slug_in_two_years_is_refused(tmp_path: Path) -> None:
    save_archive(tmp_path, _across_years())
    folder = archive_dir(tmp_path) / "lighthouse"
    document = json.loads((folder / "2023.json").read_text("utf-8"))
    taken = json.loads((folder / "2024.json").read_text("utf-8"))["episodes"][0]["slug"]
    document["episodes"][0]["slug"] = taken
    (folder / "2023.json").write_text(json.dumps(document), "utf-8")
    with pytest.raises(ArchiveError, match=f"slug '{taken}' is used twice"):
        load_archive(tmp_path)


# --- from the single-file layout (format 1) --------------------------------------------------


def test_format_1_files_load_and_move_to_folders_unchanged(tmp_path: Path) -> None:
    folder = _copy_format_1(tmp_path)
    before = load_archive(tmp_path)
    assert [r.podcast.slug for r in before.podcasts] == [
        "daily-standup",
        "lighthouse",
        "quiet-show",
        "weekly-deploys",
    ]
    assert before.episode_count("weekly-deploys") == 122

    written = save_archive(tmp_path, before, only=())  # touched or not, each one moves
    assert not list(folder.glob("*.json"))
    assert {p.parent.name for p in written} == {r.podcast.slug for r in before.podcasts}
    assert _names(folder / "weekly-deploys") == [
        "2020.json", "2021.json", "2022.json", "2023.json", "2025.json", "podcast.json",
    ]  # fmt: skip
    assert _names(folder / "quiet-show") == ["podcast.json"]
    after = load_archive(tmp_path)
    assert after == before
    assert repr(after) == repr(before)  # the same values of the same types
    assert save_archive(tmp_path, after) == []


def test_a_podcast_moved_from_format_1_keeps_its_feed_key_and_urls(tmp_path: Path) -> None:
    _copy_format_1(tmp_path)
    before = load_archive(tmp_path)
    save_archive(tmp_path, before)
    record = load_archive(tmp_path).get("weekly-deploys")
    assert record is not None and record.podcast.feed_key == "weekly-deploys-feed"
    old = before.get("weekly-deploys")
    assert old is not None
    assert [(e.id, e.slug) for e in record.episodes] == [(e.id, e.slug) for e in old.episodes]


def test_a_move_killed_before_podcast_json_leaves_the_old_file_the_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _copy_format_1(tmp_path)
    before = load_archive(tmp_path)
    real_replace = files.replace_file
    calls: list[Path] = []

    def killed_after_one_file(path: Path, data: bytes, *, durable: bool = False) -> None:
        if len(calls) == 1:
            raise KeyboardInterrupt  # the build is killed here
        calls.append(path)
        real_replace(path, data, durable=durable)

    monkeypatch.setattr(files, "replace_file", killed_after_one_file)
    with pytest.raises(KeyboardInterrupt):
        save_archive(tmp_path, before)
    monkeypatch.undo()
    assert calls[0].parent.name == "daily-standup" and calls[0].name == "2025.json"
    assert not (folder / "daily-standup" / "podcast.json").exists()
    assert (folder / "daily-standup.json").is_file()
    assert load_archive(tmp_path) == before  # the half-written folder is not read

    save_archive(tmp_path, load_archive(tmp_path))
    assert not list(folder.glob("*.json"))
    assert load_archive(tmp_path) == before


def test_a_folder_whole_beside_its_old_file_wins(tmp_path: Path) -> None:
    """Killed after podcast.json, before the old file was removed: the folder is newer."""
    folder = _copy_format_1(tmp_path)
    old_bytes = (folder / "lighthouse.json").read_bytes()
    state = load_archive(tmp_path)
    record = state.get("lighthouse")
    assert record is not None
    renamed = replace(record, podcast=replace(record.podcast, title="Renamed since"))
    newer = ArchiveState(tuple(renamed if r is record else r for r in state.podcasts))
    save_archive(tmp_path, newer)
    (folder / "lighthouse.json").write_bytes(old_bytes)  # as the killed save left it
    loaded = load_archive(tmp_path)
    assert loaded == newer
    save_archive(tmp_path, loaded, only=())
    assert not (folder / "lighthouse.json").exists()


def test_a_format_1_file_is_moved_with_the_merge_that_touches_it(tmp_path: Path) -> None:
    """A build's save: the new episode lands in its year's file, and the old file goes."""
    folder = _copy_format_1(tmp_path)
    state = load_archive(tmp_path)
    daily = state.get("daily-standup")
    assert daily is not None
    feed = make_feed(
        [*daily.episodes, replace(daily.episodes[-1], id="daily-standup-new", guid="new",
                                  published=datetime(2026, 1, 2, tzinfo=UTC))],
        slug="daily-standup",
    )  # fmt: skip
    feed = replace(feed, podcast=daily.podcast)
    merged, changes = merge_feeds(state, [feed], NOW)
    assert changes.new_count == 1
    save_archive(tmp_path, merged, only=changes.touched_podcasts)
    assert _names(folder / "daily-standup") == ["2025.json", "2026.json", "podcast.json"]
    assert load_archive(tmp_path) == merged


def _as_format_1(folder: Path, into: Path) -> None:
    """The single-file archive earlier versions wrote for the same records: each podcast's
    `podcast.json` and year files joined in one `<slug>.json` (format 1, the same JSON)."""
    into.mkdir(parents=True)
    for show in sorted(p for p in folder.iterdir() if p.is_dir()):
        podcast = json.loads((show / "podcast.json").read_text(encoding="utf-8"))["podcast"]
        episodes = [
            episode
            for year in sorted(show.glob("[0-9][0-9][0-9][0-9].json"))
            for episode in json.loads(year.read_text(encoding="utf-8"))["episodes"]
        ]
        document = {"episodes": episodes, "format": 1, "podcast": podcast}
        text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (into / f"{show.name}.json").write_text(text, encoding="utf-8")


@pytest.mark.corpus
def test_the_corpus_archive_loads_the_same_after_moving(tmp_path: Path, corpus_build: Any) -> None:
    """The real corpus's archive, in the single-file layout, loads to the same records before
    and after the next save moves it to folders, and from the decoded cache after."""
    _as_format_1(corpus_build.archive, archive_dir(tmp_path))
    before = load_archive(tmp_path)
    assert len(before.podcasts) >= 85
    assert before == load_archive(corpus_build.root / "content")  # the same records
    save_archive(tmp_path, before)
    assert not list(archive_dir(tmp_path).glob("*.json"))
    after = load_archive(tmp_path, cache_dir=tmp_path / "cache")
    assert after == before
    assert load_archive(tmp_path, cache_dir=tmp_path / "cache") == before  # from the cache
    largest = max(p.stat().st_size for p in archive_dir(tmp_path).rglob("*.json"))
    assert largest < 2_000_000
