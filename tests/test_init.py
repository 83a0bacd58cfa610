"""`devcasts init DIR`: a new site that checks and builds as written, and never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from devcasts import __version__
from devcasts.cli.init import STARTER_DIR, STARTER_FILES, new_site_files
from devcasts.cli.main import main

WRITTEN = {
    "feeds.yaml",
    "content/about.md",
    "templates/README.md",
    ".github/workflows/pages.yml",
    ".gitignore",
    "requirements.txt",
}


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_help_lists_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "init" in capsys.readouterr().out


def test_a_new_site_checks_and_builds_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["init", str(tmp_path / "new")]) == 0
    assert "devcasts check" in capsys.readouterr().out  # what to do next
    site_root = tmp_path / "new"
    assert _files(site_root) == WRITTEN

    monkeypatch.chdir(site_root)  # as a user runs it: every default path is relative
    assert main(["check"]) == 0
    assert "ok: 2 feeds, 1 topics" in capsys.readouterr().out
    assert main(["build", "--offline", "--quiet"]) == 0
    index = (site_root / "site/index.html").read_text(encoding="utf-8")
    assert "My podcasts" in index and 'href="/my-podcasts/about/"' in index
    assert (site_root / "site/about/index.html").is_file()  # content/about.md
    assert (site_root / "site/static/style.css").is_file()  # the theme's
    assert (site_root / "site/search-index/meta.json").is_file()


def test_init_into_the_current_folder_keeps_files_it_does_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()  # a fresh clone, say
    (tmp_path / "README.md").write_text("mine\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert _files(tmp_path) == WRITTEN | {"README.md"}
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "mine\n"


def test_init_refuses_a_folder_holding_one_of_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content/about.md").write_text("my own page\n", encoding="utf-8")

    assert main(["init", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert "content/about.md" in err and "never overwrites" in err
    assert _files(tmp_path) == {"content/about.md"}  # nothing written, nothing replaced
    assert (tmp_path / "content/about.md").read_text(encoding="utf-8") == "my own page\n"


def test_init_refuses_a_file_for_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    assert main(["init", str(tmp_path / "taken")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_every_starter_file_is_used() -> None:
    assert {source for _, source in STARTER_FILES} == {p.name for p in STARTER_DIR.iterdir()}


def test_the_workflow_is_the_one_this_repository_deploys_with() -> None:
    """One workflow for both: a change to either copy fails here until the other follows."""
    repo = (ROOT / ".github/workflows/pages.yml").read_bytes()
    assert new_site_files()[".github/workflows/pages.yml"] == repo
    assert b"requirements.txt" in repo and b"build.py" not in repo  # what a new site has


def test_the_templates_readme_is_the_one_in_this_repository() -> None:
    assert new_site_files()["templates/README.md"] == (ROOT / "templates/README.md").read_bytes()


def test_the_new_site_installs_the_devcasts_that_made_it() -> None:
    lines = new_site_files()["requirements.txt"].decode().splitlines()
    requirement = [line for line in lines if line and not line.startswith("#")]
    assert requirement == [f"devcasts @ git+https://github.com/devcasts/devcasts@v{__version__}"]


def test_the_new_site_ignores_its_build_output() -> None:
    ignored = new_site_files()[".gitignore"].decode().split()
    assert {"/site/", "/.cache/"} <= set(ignored)


def test_the_new_feeds_yaml_explains_itself() -> None:
    text = new_site_files()["feeds.yaml"].decode()
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 10
    config = yaml.safe_load(text)
    assert set(config) == {"site", "topics", "feeds"}
    assert all("example" in feed["url"] for feed in config["feeds"])  # placeholders to replace
