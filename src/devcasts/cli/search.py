"""The `search` command: query the archive's index from a terminal or a script.

Kept light on purpose: importing this module costs argparse only; `run_search` imports the
index (and whoosh) when it runs, so `devcasts search` never loads the build's libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from devcasts.search.searcher import Hit, SearchRequest, SearchResponse

DEFAULT_CACHE = ".cache"
EXIT_OK, EXIT_NO_INDEX, EXIT_USAGE = 0, 1, 2

# C0 and C1 control characters (ANSI escapes among them) from feeds must never reach a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def minus_words_as_query(args: Sequence[str]) -> list[str]:
    """`-heroku` among a search's arguments is a word to exclude, not an unknown option
    (argparse would read it as -h with "eroku"): it becomes the query words NOT heroku. An
    option's value and everything after `--` stay as they are."""
    words: list[str] = []
    takes_value = False
    for position, arg in enumerate(args):
        if arg == "--":
            return words + list(args[position:])
        if not takes_value and len(arg) > 2 and arg[0] == "-" and arg[1] not in "-0123456789":
            words += ["NOT", arg[1:]]
        else:
            words.append(arg)
        takes_value = arg in _OPTIONS_WITH_VALUES
    return words


_OPTIONS_WITH_VALUES = frozenset(
    {
        "--limit",
        "--podcast",
        "--topic",
        "--person",
        "--since",
        "--until",
        "--lang",
        "--sort",
        "--cache",
    }
)


def add_search_parser(subparsers: Any, summary: str = "search the archived episodes") -> None:
    """Register `search` on an argparse subparsers object (from add_subparsers())."""
    parser = subparsers.add_parser(
        "search",
        help=summary,
        description=(
            "Search the archived episodes. Words must all match; use OR, NOT, "
            '"exact phrases", parentheses and fields such as title:, podcast:, topic:, '
            "person:, lang:. A word after a minus (-heroku) is excluded, like NOT heroku."
        ),
        epilog=(
            "A word after a minus is excluded wherever it stands (devcasts search -heroku "
            "kubernetes); after --, which ends the options, every argument is part of the "
            "query (devcasts search -- -heroku kubernetes). Fuzzy words allow at most 2 edits "
            "(kubernetes~2), each wildcard or fuzzy word stands for its most used matches, "
            "and a search stops after a few seconds with what it found; stderr says so."
        ),
    )
    parser.add_argument(
        "query", metavar="QUERY", nargs="*", help="what to look for (-word excludes the word)"
    )
    parser.add_argument(
        "--limit", type=_positive_int, default=10, metavar="N", help="hits to show (10)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array for scripts")
    parser.add_argument("--podcast", metavar="SLUG", help="only this podcast")
    parser.add_argument("--topic", metavar="SLUG", help="only episodes on this topic")
    parser.add_argument("--person", metavar="NAME", help="only episodes with this host or guest")
    parser.add_argument(
        "--since", type=_iso_date, metavar="YYYY-MM-DD", help="published on or after"
    )
    parser.add_argument(
        "--until", type=_iso_date, metavar="YYYY-MM-DD", help="published on or before"
    )
    parser.add_argument("--lang", metavar="CODE", help="only this language (en, de, ...)")
    parser.add_argument(
        "--sort", choices=("relevance", "newest"), default="relevance", help="hit order"
    )
    # SUPPRESS keeps a --cache given to the main parser from being overwritten by a default.
    parser.add_argument(
        "--cache",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"cache directory holding the index ({DEFAULT_CACHE})",
    )
    parser.set_defaults(run=run_search)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-05-31, not {text!r}") from None


def index_dir_for(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "cache", None) or DEFAULT_CACHE) / "index"


def request_from(args: argparse.Namespace) -> SearchRequest:
    from devcasts.search.searcher import SearchRequest

    return SearchRequest(
        query=" ".join(args.query).strip(),
        limit=args.limit,
        podcast=args.podcast,
        topic=args.topic,
        person=args.person,
        since=args.since,
        until=args.until,
        lang=args.lang,
        sort=args.sort,
    )


def run_search(args: argparse.Namespace) -> int:
    """Run `search` with parsed arguments; returns the exit code (0, 1 no index, 2 bad query)."""
    from devcasts.search.searcher import IndexMissingError, QuerySyntaxError, search

    request = request_from(args)
    if not request.query and not _has_filter(request):
        return _fail("give a QUERY, or a filter such as --topic or --podcast", EXIT_USAGE)
    if request.since and request.until and request.since > request.until:
        return _fail("--since is after --until", EXIT_USAGE)
    try:
        response = search(index_dir_for(args), request)
    except QuerySyntaxError as error:
        return _fail(str(error), EXIT_USAGE)
    except IndexMissingError as error:
        return _fail(str(error), EXIT_NO_INDEX)
    try:
        for notice in response.notices:  # stderr: stdout stays valid JSON
            print(f"devcasts search: note: {clean(notice)}", file=sys.stderr)
        if args.json:
            print_json(response, sys.stdout)
            _note_correction(request, response, sys.stderr, color=False)
        else:
            print_text(request, response, sys.stdout, color=use_color(sys.stdout))
        sys.stdout.flush()
    except BrokenPipeError:  # `search ... | head`: the reader has seen enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def _has_filter(request: SearchRequest) -> bool:
    return any(
        (request.podcast, request.topic, request.person, request.since, request.until, request.lang)
    )


def _fail(message: str, code: int) -> int:
    print(f"devcasts search: {clean(message)}", file=sys.stderr)
    return code


# --- output ---------------------------------------------------------------------------------


def hit_to_json(hit: Hit) -> dict[str, Any]:
    return {
        "title": hit.title,
        "podcast": hit.podcast,
        "podcast_slug": hit.podcast_slug,
        "published": hit.published.isoformat(),
        "url": hit.url,
        "score": hit.score,
        "snippet": hit.snippet_marked,
        "snippet_segments": [[text, match] for text, match in hit.snippet],
        "topics": list(hit.topics),
        "duration": hit.duration,
        "language": hit.language,
        "id": hit.id,
    }


def print_json(response: SearchResponse, out: TextIO) -> None:
    json.dump([hit_to_json(hit) for hit in response.hits], out, ensure_ascii=False, indent=2)
    out.write("\n")


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def clean(text: str) -> str:
    """One line of text safe for a terminal: control characters and escapes become spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def print_text(request: SearchRequest, response: SearchResponse, out: TextIO, color: bool) -> None:
    style = _Style(color)
    _note_correction(request, response, out, color)
    if not response.hits:
        what = f"match {clean(request.query)!r}" if request.query else "match these filters"
        out.write(f"No episodes {what}.\n")
        return
    for number, hit in enumerate(response.hits, 1):
        day = hit.published.date().isoformat()
        out.write(f"{number:>2}. {style.bold(clean(hit.title))}\n")
        out.write(f"    {style.dim(f'{clean(hit.podcast)} · {day} · {clean(hit.url)}')}\n")
        snippet = "".join(
            style.match(clean(text)) if match else _keep_edges(text) for text, match in hit.snippet
        ).strip()
        if snippet:
            out.write(f"    {snippet}\n")
    shown = len(response.hits)
    about = "" if response.total_exact else "about "
    out.write(style.dim(f"\n{shown} of {about}{response.total} episode(s)") + "\n")


def _keep_edges(text: str) -> str:
    cleaned = clean(text)
    if text[:1].isspace() and cleaned:
        cleaned = " " + cleaned
    if text[-1:].isspace():
        cleaned += " "
    return cleaned or (" " if text else "")


def _note_correction(
    request: SearchRequest, response: SearchResponse, out: TextIO, color: bool
) -> None:
    style = _Style(color)
    if response.partial:
        matched, words = response.partial
        asked = response.suggestion if response.corrected and response.suggestion else request.query
        out.write(
            f"No episode has all of {clean(asked)!r}; "
            f"showing episodes with {matched} of {words} words.\n"
        )
    elif response.corrected:
        shown = f" {style.bold(clean(response.suggestion))}" if response.suggestion else ""
        out.write(f"No exact matches for {clean(request.query)!r}; showing close matches{shown}.\n")
    elif response.suggestion:
        out.write(f"Did you mean: {style.bold(clean(response.suggestion))}?\n")


class _Style:
    """ANSI styling when writing to a terminal; plain text otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def match(self, text: str) -> str:
        return self._wrap("1;33", text)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m devcasts.cli.search QUERY ...`: the search command on its own."""
    parser = argparse.ArgumentParser(prog="devcasts")
    add_search_parser(parser.add_subparsers(dest="command", required=True))
    return run_search(parser.parse_args(["search", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
