"""The output folder a build may replace: never the project's own files, nor someone else's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.site.out_guard import (
    MARKER,
    Contents,
    OutputLayout,
    check_output_folder,
    refusal,
    survey,
)

ROOT = Path(__file__).resolve().parents[1]

FEEDS = """\
site: {title: t, base_url: "https://example.github.io/t/"}
feeds:
  - url: https://feeds.example.com/a.xml
    title: Show A
"""


def make_project(folder: Path) -> Path:
    """A project with an archive, templates and a cache, as a build would find it."""
    (folder / "content" / "archive").mkdir(parents=True)
    (folder / "content" / "about.md").write_text("# About\n", encoding="utf-8")
    (folder / "templates").mkdir()
    (folder / "templates" / "README.md").write_text("overrides\n", encoding="utf-8")
    (folder / ".cache").mkdir()
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (folder / "feeds.yaml").write_text(FEEDS, encoding="utf-8")
    return folder


def check(
    project: Path, out: str | Path, cache: str = ".cache", cwd: Path | None = None
) -> str | None:
    """The refusal for `--out OUT` given in `cwd` (the project by default)."""
    cwd = cwd or project
    layout = survey(
        cwd / out,
        content_dir=project / "content",
        templates_dir=project / "templates",
        cache_dir=cwd / cache,
        working=cwd,
    )
    return refusal(layout)


# --- the pure decision ------------------------------------------------------------------------


def layout(out: str, contents: Contents = Contents.MISSING, working: str = "/p") -> OutputLayout:
    keep = {
        "the content folder": Path("/p/content"),
        "the templates folder": Path("/p/templates"),
        "the cache folder": Path("/p/.cache"),
    }
    return OutputLayout(Path(out), keep, Path(working), contents)


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("/p/content", "it is the content folder /p/content"),
        ("/p/content/archive", "it lies inside the content folder /p/content"),
        ("/p/templates", "it is the templates folder"),
        ("/p/templates/x/y", "it lies inside the templates folder"),
        ("/p/.cache", "it is the cache folder"),
        ("/p/.cache/site", "it lies inside the cache folder"),
        ("/p", "it holds the content folder"),
        ("/", "it holds the content folder"),
    ],
)
def test_the_projects_own_folders_are_refused(out: str, expected: str) -> None:
    reason = refusal(layout(out))
    assert reason is not None
    assert reason.startswith(expected) or expected in reason


def test_the_working_folder_and_its_parents_are_refused() -> None:
    assert refusal(layout("/w", working="/w")) == "it is or holds the working folder /w"
    assert refusal(layout("/", working="/w/x")) is not None
    assert refusal(layout("/w/site", working="/w")) is None  # inside it is where sites go


@pytest.mark.parametrize("out", ["/p/cache", "/p/templates.d", "/p/content2", "/p/site"])
def test_a_folder_beside_them_is_accepted(out: str) -> None:
    assert refusal(layout(out)) is None


def test_a_sibling_the_swap_renames_may_not_be_a_kept_folder() -> None:
    keep = {"the cache folder": Path("/p/site.spare")}
    reason = refusal(OutputLayout(Path("/p/site"), keep, Path("/p"), Contents.MISSING))
    assert reason == "its spare copy /p/site.spare is the cache folder /p/site.spare"
    keep = {"the content folder": Path("/p/site.old/content")}
    assert refusal(OutputLayout(Path("/p/site"), keep, Path("/p"), Contents.SITE)) is not None


@pytest.mark.parametrize(
    ("contents", "accepted"),
    [
        (Contents.MISSING, True),
        (Contents.EMPTY, True),
        (Contents.SITE, True),
        (Contents.FOREIGN, False),
        (Contents.NOT_A_FOLDER, False),
    ],
)
def test_only_a_missing_empty_or_marked_folder_is_replaced(
    contents: Contents, accepted: bool
) -> None:
    reason = refusal(layout("/p/site", contents))
    assert (reason is None) is accepted
    if contents is Contents.FOREIGN:
        assert reason is not None and MARKER in reason and "delete" in reason


# --- the layout on disk: relative paths, "..", trailing slashes, symlinks ---------------------


@pytest.mark.parametrize(
    "out",
    [
        "content",
        "content/",
        "./content",
        "content/archive",
        "content/archive/../",
        "site/../content",
        "templates",
        "templates/sub",
        ".cache",
        ".cache/",
        ".cache/site",
        ".",
        "./",
        "..",
        "../",
        "../..",
    ],
)
def test_relative_spellings_of_the_projects_folders_are_refused(tmp_path: Path, out: str) -> None:
    project = make_project(tmp_path / "proj")
    assert check(project, out) is not None


@pytest.mark.parametrize("out", ["site", "site/", "./site", "public", "build/site", "x/../site"])
def test_ordinary_output_folders_are_accepted(tmp_path: Path, out: str) -> None:
    project = make_project(tmp_path / "proj")
    assert check(project, out) is None


def test_a_symlink_to_a_kept_folder_is_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (project / "public").symlink_to(project / "content")
    (project / "up").symlink_to(tmp_path)
    assert check(project, "public") == f"it is the content folder {project / 'content'}"
    assert check(project, "up") is not None
    assert check(project, "up/proj/templates") is not None


def test_a_cache_reached_through_a_symlink_is_recognised(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (tmp_path / "elsewhere").mkdir()
    (project / "cachelink").symlink_to(tmp_path / "elsewhere")
    assert check(project, "../elsewhere", cache="cachelink") is not None
    assert check(project, "../elsewhere/site", cache="cachelink") is not None


def test_another_working_folder_than_the_project(tmp_path: Path) -> None:
    """`--feeds proj/feeds.yaml` run from the folder above: the project is still kept."""
    project = make_project(tmp_path / "proj")
    assert check(project, "proj", cwd=tmp_path) is not None
    assert check(project, "proj/content", cwd=tmp_path) is not None
    assert check(project, "site", cwd=tmp_path) is None
    assert check(project, ".", cwd=tmp_path) is not None


def test_folder_contents(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (project / "empty").mkdir()
    (project / "mine").mkdir()
    (project / "mine" / MARKER).write_bytes(b"")
    (project / "mine" / "index.html").write_bytes(b"")
    (project / "older").mkdir()  # a site built before the marker existed
    (project / "older" / ".render-manifest.json").write_bytes(b"{}")
    (project / "docs").mkdir()
    (project / "docs" / "notes.md").write_bytes(b"mine, not the build's")
    (project / "file.txt").write_bytes(b"")
    assert check(project, "empty") is None
    assert check(project, "mine") is None
    assert check(project, "older") is None
    assert check(project, "missing") is None
    assert "did not write" in (check(project, "docs") or "")
    assert check(project, "file.txt") == "it is not a folder"
    assert check(project, ".git") is not None


def test_check_output_folder_uses_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "proj")
    monkeypatch.chdir(project)
    kept = {
        "content_dir": Path("content"),
        "templates_dir": Path("templates"),
        "cache_dir": Path(".cache"),
    }
    assert check_output_folder(Path("site"), **kept) is None
    assert check_output_folder(Path(), **kept) is not None


SEGMENTS = st.sampled_from(
    ["content", "templates", ".cache", "archive", "site", "x", "..", ".", "up", "link"]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(SEGMENTS, min_size=1, max_size=5), slash=st.booleans())
def test_an_accepted_folder_never_overlaps_a_kept_one(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str], slash: bool
) -> None:
    """Whatever the spelling, an accepted folder (and each sibling a swap renames) neither
    is, holds nor lies inside a kept folder, and holds no part of the working folder:
    checked here by comparing real paths as strings."""
    root = tmp_path_factory.mktemp("layout")
    project = make_project(root / "proj")
    (project / "up").symlink_to(root)
    (project / "link").symlink_to(project / "content")
    out = "/".join(parts) + ("/" if slash else "")
    reason = check(project, out)
    if reason is not None:
        return
    real = os.path.realpath(project / out)
    kept = [os.path.realpath(project / name) for name in ("content", "templates", ".cache")]
    for folder in (real, *(f"{real}.{role}" for role in ("spare", "ready", "old"))):
        for other in kept:
            assert os.path.commonpath([folder, other]) not in (folder, other)
        assert os.path.commonpath([folder, str(project)]) != folder


# --- through the command line -----------------------------------------------------------------


def tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file below `folder` with its inode and bytes: a move or a rewrite shows."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and ".cache" not in path.parts:
            files[path.relative_to(folder).as_posix()] = (path.stat().st_ino, path.read_bytes())
    return files


def devcasts(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "devcasts.cli.main", "build", "--offline", "-q", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("content", "it is the content folder"),
        (".", "it holds the content folder"),
        ("..", "it holds the content folder"),
        (".cache", "it is the cache folder"),
        ("templates", "it is the templates folder"),
        ("content/archive", "it lies inside the content folder"),
        ("docs", "it holds files devcasts did not write"),
    ],
)
def test_the_command_refuses_and_moves_nothing(tmp_path: Path, out: str, reason: str) -> None:
    project = make_project(tmp_path / "proj")
    (project / "docs").mkdir()
    (project / "docs" / "notes.md").write_text("notes\n", encoding="utf-8")
    before = tree(tmp_path)
    result = devcasts(project, "--no-browser-index", "--out", out)
    assert result.returncode == 2, result.stderr
    assert f"devcasts: error: refused: --out {out}: {reason}" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]  # no proj.spare, no .ready
    assert not (project / "site").exists()


def test_a_cache_given_as_the_output_is_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    result = devcasts(project, "--cache", "build-cache", "--out", "build-cache/site")
    assert result.returncode == 2
    assert "lies inside the cache folder" in result.stderr
    assert not (project / "build-cache" / "site").exists()


def test_a_site_from_an_older_build_is_replaced_and_then_marked(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (project / "site").mkdir()
    (project / "site" / ".render-manifest.json").write_text("{}", encoding="utf-8")
    (project / "site" / "stale.html").write_text("old page", encoding="utf-8")
    result = devcasts(project, "--no-browser-index")
    assert result.returncode == 0, result.stderr
    assert (project / "site" / MARKER).is_file()
    assert (project / "site" / "index.html").is_file()
    assert not (project / "site" / "stale.html").exists()
    again = devcasts(project, "--no-browser-index", "--out", "site/")
    assert again.returncode == 0, again.stderr


def test_the_build_itself_refuses_for_callers_of_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard sits in pipeline.build, so a program embedding devcasts is covered too."""
    from devcasts.config.load import load_config
    from devcasts.errors import OutputFolderError
    from devcasts.pipeline import BuildOptions, build

    project = make_project(tmp_path / "proj")
    monkeypatch.chdir(project)
    config = load_config(project / "feeds.yaml")
    before = tree(tmp_path)
    options = BuildOptions(out_dir=Path("content"), offline=True, browser_index=False)
    with pytest.raises(OutputFolderError, match=r"refused: --out content: it is the content"):
        build(config, options)
    assert tree(tmp_path) == before
