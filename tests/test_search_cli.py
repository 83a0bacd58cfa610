"""The `search` command through argparse and run_search, and as a whole process."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_index import BASE_URL, load_test_catalog

from devcasts.cli.search import add_search_parser, clean, minus_words_as_query, run_search
from devcasts.search.writer import update_index

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache_dir = tmp_path_factory.mktemp("cache")
    update_index(load_test_catalog(), cache_dir / "index")
    return cache_dir


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="devcasts")
    parser.add_argument("--cache", default=".cache")  # as a main parser might define it
    add_search_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def run(cache: Path, *argv: str) -> int:
    return run_search(parse("--cache", str(cache), "search", *argv))


def test_json_output_has_the_documented_fields(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cache, "pgbouncer", "--json") == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 1
    hit = hits[0]
    assert {"title", "podcast", "published", "url", "score", "snippet", "topics"} <= set(hit)
    assert hit["podcast"] == "The Buildpack Hour"
    assert hit["published"] == "2023-06-07T00:00:00+00:00"
    assert hit["url"].startswith(BASE_URL + "podcasts/buildpack-hour/")
    assert hit["topics"] == ["heroku"] and hit["score"] > 0
    assert "[[pgbouncer]]" in hit["snippet"]


def test_cache_option_after_the_subcommand(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("search", "caddy", "--json", "--cache", str(cache))
    assert run_search(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"].startswith("Caddy")


def test_filters_sort_and_limit_through_the_cli(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cache, "--topic", "kubernetes", "--sort", "newest", "--limit", "3", "--json") == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and all("kubernetes" in h["topics"] for h in hits)
    assert [h["published"] for h in hits] == sorted((h["published"] for h in hits), reverse=True)
    assert run(cache, "dokku", "--lang", "de", "--since", "2023-08-01", "--json") == 0
    assert [h["podcast"] for h in json.loads(capsys.readouterr().out)] == ["Dev Hallo"]
    assert run(cache, "argo", "--person", "Ingrid Salo", "--podcast", "cluster-talk", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_text_output_lists_hits_and_a_count(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cache, "egress") == 0
    out = capsys.readouterr().out
    assert "Egress fees and the exit tax" in out
    assert "Cloud Bills · 2023-03-22" in out and "1 of 1 episode(s)" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_terminal_output_highlights_matches(
    cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run(cache, "egress") == 0
    assert "\x1b[1;33megress\x1b[0m" in capsys.readouterr().out.lower()


def test_did_you_mean_is_shown(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cache, "pgbuoncer") == 0
    out = capsys.readouterr().out
    assert "showing close matches pgbouncer" in out and "pgbouncer" in out


def test_most_of_the_words_are_shown_saying_so(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cache, "pgbouncer", "postgres", "egress") == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "No episode has all of 'pgbouncer postgres egress'; showing episodes with 2 of 3 words.\n"
    )
    assert "1 of 1 episode(s)" in out


def test_no_results_exit_zero(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cache, "xylophonequartz") == 0
    assert "No episodes match 'xylophonequartz'" in capsys.readouterr().out
    assert run(cache, "xylophonequartz", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    "argv",
    [
        ['"unclosed'],
        ["heroku", "AND"],
        ["colour:blue"],
        [],
        ["x", "--since", "2024-02-01", "--until", "2024-01-01"],
    ],
)
def test_bad_queries_exit_2_with_a_message(
    cache: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert run(cache, *argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("devcasts search: ") and "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv", [["x", "--limit", "0"], ["x", "--since", "May"], ["x", "--sort", "best"]]
)
def test_bad_options_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("search", *argv)
    assert exit_info.value.code == 2


def test_missing_index_says_how_to_build_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "anything") == 1
    assert "python build.py" in capsys.readouterr().err


def test_control_characters_never_reach_the_terminal() -> None:
    assert (
        clean("Title\x1b]0;pwned\x07 \x1b[31mred\x00\u202enext\n") == "Title ]0;pwned [31mred next"
    )


def test_a_search_process_loads_neither_the_build_libraries_nor_the_index_writer(
    cache: Path,
) -> None:
    probe = (
        "import sys; from devcasts.cli.search import main; code = main(sys.argv[1:]);"
        "heavy = {'feedparser', 'jinja2', 'httpx', 'nh3', 'markdown_it', 'yaml', 'rich',"
        " 'devcasts.model', 'devcasts.search.writer', 'whoosh.writing', 'dataclasses',"
        " 'anyascii'};"
        "print(sorted(heavy & set(sys.modules))); sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", probe, "kubernetes", "--cache", str(cache), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("[]")


def test_through_the_devcasts_command_line(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from devcasts.cli.main import main

    assert main(["search", "pgbouncer", "--json", "--cache", str(cache)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["podcast_slug"] == "buildpack-hour"
    assert main(["search", "heroku", "AND", "--cache", str(cache)]) == 2
    assert "on its right" in capsys.readouterr().err


def test_the_search_program_prints_what_an_in_process_search_returns(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """build.py runs a search without the garbage collector; its output is whole all the same."""
    from devcasts.cli.main import main

    argv = ["search", "deploy OR kubernetes", "--json", "--limit", "500", "--cache", str(cache)]
    assert main(argv) == 0
    in_process = capsys.readouterr().out
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == in_process
    assert len(json.loads(result.stdout)) > 10


def test_an_in_process_search_keeps_the_garbage_collector(cache: Path) -> None:
    import gc

    from devcasts.cli.main import main

    frozen = gc.get_freeze_count()
    assert main(["search", "kubernetes", "--json", "--cache", str(cache)]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


# --- queries that could run away ------------------------------------------------------------


def entry(cache: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python build.py search ...`, the real command line."""
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "search", "--cache", str(cache), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_leading_minus_excludes_the_word_without_dashes_too(cache: Path) -> None:
    with_dashes = entry(cache, "--json", "--limit", "1000", "--", "-heroku")
    without = entry(cache, "-heroku", "--json", "--limit", "1000")
    assert without.returncode == 0 and "Traceback" not in without.stderr, without.stderr
    assert json.loads(without.stdout) == json.loads(with_dashes.stdout)
    assert "devcasts search -- -heroku" in " ".join(entry(cache, "--help").stdout.split())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-heroku"], ["NOT", "heroku"]),
        (
            ["kubernetes", "-heroku", "--limit", "5"],
            ["kubernetes", "NOT", "heroku", "--limit", "5"],
        ),
        (["--person", "-x-", "fly"], ["--person", "-x-", "fly"]),  # an option's value
        (["--", "-heroku"], ["--", "-heroku"]),
        (["-h"], ["-h"]),
        (["--json", "-5", "--sort", "newest"], ["--json", "-5", "--sort", "newest"]),
    ],
)
def test_minus_words_become_query_words(argv: list[str], expected: list[str]) -> None:
    assert minus_words_as_query(argv) == expected


def test_after_dashes_a_leading_minus_excludes_the_word(cache: Path) -> None:
    everything = json.loads(entry(cache, "--json", "--limit", "1000", "--", "*").stdout)
    excluded = entry(cache, "--json", "--limit", "1000", "--", "-heroku")
    assert excluded.returncode == 0, excluded.stderr
    left = json.loads(excluded.stdout)
    assert left and len(left) < len(everything)
    assert all("heroku" not in hit["topics"] for hit in left)


def test_a_huge_fuzzy_distance_is_capped_and_said(cache: Path) -> None:
    result = entry(cache, "kubernetes~99", "--json")
    assert result.returncode == 0, result.stderr
    assert "at most 2 edits" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(result.stdout)  # still finds kubernetes
