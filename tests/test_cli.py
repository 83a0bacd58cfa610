"""The command line through its real entry point: help, check, exit codes, the summary."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devcasts.cli.main import main
from devcasts.cli.report import print_report, summary_markdown
from devcasts.model import FeedHealth, FeedSource, FetchStatus
from devcasts.pipeline import BuildReport

ROOT = Path(__file__).resolve().parents[1]
SEARCH_MODULES = {"devcasts.cli.search", "devcasts.search.searcher", "whoosh"}

CONFIG = """\
site: {title: t, base_url: "https://example.github.io/t/"}
feeds:
  - url: https://feeds.example.com/a.xml
    title: Show A
"""


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("build", "search", "serve", "check", "import-opml"):
        assert command in out


def modules_loaded_by(*argv: str) -> set[str]:
    """The modules a fresh `devcasts ARGV` process imported (its output is discarded)."""
    probe = (
        "import contextlib, io, sys; from devcasts.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):"
        " main(sys.argv[1:])\n"
        "print(' '.join(sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "argv", [("--help",), ("build", "--help"), ("check", "--feeds", "missing.yaml")]
)
def test_help_and_the_build_never_import_the_search(argv: tuple[str, ...]) -> None:
    assert not SEARCH_MODULES & modules_loaded_by(*argv)


def test_a_build_never_imports_the_feed_checker(tmp_path: Path) -> None:
    """devcasts.tools is for checking what a build wrote, never a part of the build."""
    shutil.copyfile(ROOT / "examples/feeds/the-edge-case.xml", tmp_path / "show.xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(CONFIG.replace("https://feeds.example.com/a.xml", "show.xml"))
    argv = ("build", "--feeds", str(feeds), "--no-browser-index", "--quiet")
    paths = ("--out", str(tmp_path / "site"), "--cache", str(tmp_path / ".cache"))
    loaded = modules_loaded_by(*argv, *paths)
    assert (tmp_path / "site/index.html").is_file()  # the build ran
    assert {"devcasts.site.render", "devcasts.publish.feeds"} <= loaded
    assert not {name for name in loaded if name.startswith("devcasts.tools")}


def test_a_build_with_nothing_new_never_imports_the_feed_parser(tmp_path: Path) -> None:
    """Reading feeds (feedparser, nh3 and the rest) is imported only for a changed feed: the
    rebuild with nothing new has half a second in all."""
    shutil.copyfile(ROOT / "examples/feeds/the-edge-case.xml", tmp_path / "show.xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(CONFIG.replace("https://feeds.example.com/a.xml", "show.xml"))
    argv = ("build", "--feeds", str(feeds), "--no-browser-index", "--quiet")
    paths = ("--out", str(tmp_path / "site"), "--cache", str(tmp_path / ".cache"))
    assert "feedparser" in modules_loaded_by(*argv, *paths)  # the first build read the feed
    again = modules_loaded_by(*argv, *paths)
    assert not {"feedparser", "devcasts.ingest.read", "devcasts.ingest.parse"} & again


def test_search_help_builds_only_the_search_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--since" in out and "--offline" not in out
    assert main(["build", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--offline" in out and "--since" not in out


def test_check_ok_and_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    assert main(["check", "--feeds", str(path)]) == 0
    assert "ok: 1 feeds" in capsys.readouterr().out
    path.write_text(CONFIG.replace("title: Show A", "titel: Show A"), encoding="utf-8")
    assert main(["check", "--feeds", str(path)]) == 2
    assert f"{path}:4: titel: unknown key" in capsys.readouterr().err


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--concurrency", "0"]) == 2
    assert main(["search"]) == 2  # QUERY is required
    capsys.readouterr()


def test_serve_without_a_site_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--out", str(tmp_path / "none")]) == 1
    assert "build the site first" in capsys.readouterr().err


def _report() -> BuildReport:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    return BuildReport(
        health=[
            FeedHealth("a", "Show A", "https://a.example/f", FetchStatus.OK, episodes=3),
            FeedHealth(
                "b",
                "Show | B",
                "https://b.example/f",
                FetchStatus.FAILED,
                reason="HTTP 404 Not Found",
                failures=2,
                first_failure=when,
                last_failure=when,
            ),
            FeedHealth(
                "c",
                "Show C",
                "https://c.example/f",
                FetchStatus.OK,
                moved_to="https://c.example/new",
                moved_count=2,
            ),
            FeedHealth(
                "d",
                "Show D",
                "https://d.example/f",
                FetchStatus.OK,
                moved_to="https://d.example/new",
                moved_count=1,
            ),
        ],
        episodes=3,
        new_episodes=1,
    )


def test_summary_names_failures_and_moves(tmp_path: Path) -> None:
    out = io.StringIO()
    from devcasts.model import Config, SiteConfig

    config = Config(
        site=SiteConfig(title="t", base_url="https://x.example/"),
        topics=(),
        feeds=(FeedSource(url="https://c.example/f", slug="c", line=7),),
        path=tmp_path / "feeds.yaml",
        content_dir=tmp_path,
        templates_dir=tmp_path,
    )
    print_report(_report(), config, out=out)
    text = out.getvalue()
    assert "failed: Show | B <https://b.example/f>: HTTP 404 Not Found" in text
    assert f"(2 builds in a row); update its url in {tmp_path / 'feeds.yaml'}:7" in text
    assert "Show D redirects permanently to https://d.example/new (followed)" in text
    assert "4 feeds (3 ok, 1 failed); 3 episodes on the site (1 new" in text


def test_summary_markdown_puts_problems_first() -> None:
    markdown = summary_markdown(_report())
    rows = [line for line in markdown.splitlines() if line.startswith("| Show")]
    assert rows[0].startswith("| Show \\| B | failed | 0 | 0 | HTTP 404 Not Found |")
    assert "moved to https://c.example/new" in markdown


def test_the_program_ends_at_once_with_its_output_and_exit_code(tmp_path: Path) -> None:
    """`python build.py` ends without the interpreter's teardown (cli.main._exit): whatever it
    printed to a pipe still arrives, and its exit code is the build's."""
    shutil.copyfile(ROOT / "examples/feeds/the-edge-case.xml", tmp_path / "show.xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(CONFIG.replace("https://feeds.example.com/a.xml", "show.xml"))
    paths = ["--out", str(tmp_path / "site"), "--cache", str(tmp_path / ".cache")]

    def program(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(ROOT / "build.py"), *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    built = program("--feeds", str(feeds), "--no-browser-index", *paths)
    assert built.returncode == 0, built.stderr
    assert "1 feeds (1 ok)" in built.stderr  # the summary, flushed before the exit
    bad = program("--feeds", str(tmp_path / "missing.yaml"), *paths)
    assert bad.returncode == 2 and "missing.yaml" in bad.stderr
