"""The devcasts command line: build (default), search, serve, check, import-opml, init.

Exit codes: 0 success (also when some feeds failed; they are listed), 1 the site could not be
built (or, with --strict, a feed failed), 2 bad usage, a bad config, an output folder a build
must not replace (see `site/out_guard.py`), or `init` into a folder that already holds one of
the files it writes.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from devcasts import __version__
from devcasts.errors import BuildError, ConfigError, DevcastsError, OutputFolderError

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_BUILD_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; without `argv` as the program itself (sys.argv, and the process ends)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in _TOP_FLAGS):
        args_list.insert(0, "build")  # `devcasts --offline` means `devcasts build --offline`
    if argv is None:
        return _as_the_program(args_list)
    return _run(args_list)


def _as_the_program(args_list: list[str]) -> int:
    """The process ends with the command, so the interpreter's closing garbage collections
    (a tenth of a search, 30 ms of a build with nothing new) only walk objects about to be
    freed anyway: everything is frozen first. Every file is closed and every child joined by
    then; nothing waits on a finalizer. A search, which lives a tenth of a second and leaves
    no garbage worth collecting, also runs with the cyclic collector off while whoosh loads.
    A build keeps its archive and catalog to the end and the process ends without the
    interpreter's teardown (`_exit`): freeing 100,000 episodes one object at a time took
    0.2 s, and the system takes the memory back at once. An in-process caller (argv given)
    keeps its collector as it was, and its memory."""
    command = args_list[0]
    if command == "search":
        gc.disable()
    try:
        code = _run(args_list, ends_process=True)
    finally:
        gc.freeze()
    if command == "build":
        _exit(code)
    return code


def _exit(code: int) -> NoReturn:
    """End the process now, its output flushed (os._exit skips the interpreter's teardown)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run(args_list: list[str], ends_process: bool = False) -> int:
    parser = _parser(args_list[0])
    if args_list[0] == "search":
        from devcasts.cli.search import minus_words_as_query

        args_list = ["search", *minus_words_as_query(args_list[1:])]
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    args.ends_process = ends_process
    try:
        return int(args.run(args))
    except (ConfigError, OutputFolderError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except BuildError as exc:
        _error(str(exc))
        return EXIT_BUILD_FAILED
    except DevcastsError as exc:
        _error(str(exc))
        return EXIT_BUILD_FAILED
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


_TOP_FLAGS = ("-h", "--help", "--version")


def _error(message: str) -> None:
    print(f"devcasts: error: {message}", file=sys.stderr)


def _parser(command: str) -> argparse.ArgumentParser:
    """The parser for `command`: every command is listed, but only that one gets its options,
    so a search builds no build options and a build or `--help` never imports the search."""
    parser = argparse.ArgumentParser(
        prog="devcasts",
        description="Turn a list of podcast feeds into a browsable, searchable static site.",
        epilog="Without a command, `build` runs.",
    )
    parser.add_argument("--version", action="version", version=f"devcasts {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, (summary, add_command) in _COMMANDS.items():
        if name == command:
            add_command(commands, summary)
        else:
            commands.add_parser(name, help=summary)
    return parser


def _add_build(commands: Any, summary: str) -> None:
    build = commands.add_parser("build", help=summary)
    _add_common(build)
    build.add_argument("--out", type=Path, default=Path("site"), help="output folder (site)")
    build.add_argument("--offline", action="store_true", help="no network: cache and archive")
    build.add_argument(
        "--allow-private-network",
        action="store_true",
        help="allow feeds on loopback or private addresses (refused by default)",
    )
    build.add_argument("--base-url", help="override site.base_url (e.g. for GitHub Pages)")
    build.add_argument("--strict", action="store_true", help="exit 1 when any feed failed")
    build.add_argument(
        "--max-feed-size",
        type=_size,
        default=20 * 1024 * 1024,
        metavar="BYTES",
        help="largest feed accepted, after decompression (20MiB; suffixes KiB, MiB)",
    )
    build.add_argument("--concurrency", type=_positive_int, default=8, help="parallel fetches")
    build.add_argument(
        "--fetch-deadline",
        type=_positive_int,
        default=600,
        metavar="SECONDS",
        help="longest the fetching of all feeds may take; feeds not fetched by then fail (600)",
    )
    build.add_argument(
        "--no-browser-index", action="store_true", help="skip the in-browser search index"
    )
    build.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    build.add_argument(
        "--summary-markdown",
        type=Path,
        metavar="FILE",
        help="append the feed health summary as Markdown (for $GITHUB_STEP_SUMMARY)",
    )
    build.add_argument(
        "--report-json",
        type=Path,
        metavar="FILE",
        help="write the build report (feed health, counts, seconds per stage) as JSON",
    )
    build.set_defaults(run=_run_build)


def _add_search(commands: Any, summary: str) -> None:
    from devcasts.cli.search import add_search_parser  # the search command owns its options

    add_search_parser(commands, summary)


def _add_serve(commands: Any, summary: str) -> None:
    serve = commands.add_parser("serve", help=summary)
    _add_common(serve)
    serve.add_argument("--out", type=Path, default=Path("site"), help="the built site (site)")
    serve.add_argument("--port", type=int, default=8000, help="port (8000)")
    serve.add_argument("--base-url", help="override site.base_url")
    serve.set_defaults(run=_run_serve)


def _add_check(commands: Any, summary: str) -> None:
    check = commands.add_parser("check", help=summary)
    _add_common(check)
    check.add_argument("--base-url", help="override site.base_url, as build would")
    check.set_defaults(run=_run_check)


def _add_import_opml(commands: Any, summary: str) -> None:
    opml = commands.add_parser("import-opml", help=summary)
    opml.add_argument("file", type=Path, help="OPML subscription list")
    opml.add_argument("--feeds", type=Path, default=Path("feeds.yaml"), help="feeds.yaml")
    opml.set_defaults(run=_run_import_opml)


def _add_init(commands: Any, summary: str) -> None:
    init = commands.add_parser("init", help=summary)
    init.add_argument(
        "folder", type=Path, nargs="?", default=Path(), help="where to write it (this folder)"
    )
    init.set_defaults(run=_run_init)


#: Each command's one-line help, and what adds it with its options to the subparsers.
_COMMANDS: dict[str, tuple[str, Callable[[Any, str], None]]] = {
    "build": ("fetch every feed and build the site (default)", _add_build),
    "search": ("search the archived episodes", _add_search),
    "serve": ("preview the built site on 127.0.0.1", _add_serve),
    "check": ("validate feeds.yaml without fetching", _add_check),
    "import-opml": ("add the feeds of an OPML file to feeds.yaml", _add_import_opml),
    "init": ("write a new site: feeds.yaml, an about page, a GitHub Pages workflow", _add_init),
}
COMMANDS = tuple(_COMMANDS)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", type=Path, default=Path("feeds.yaml"), help="feeds.yaml")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="cache folder")


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _size(value: str) -> int:
    units = {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "kb": 1000, "mb": 1000**2, "b": 1}
    text = value.strip().lower()
    for suffix, factor in units.items():
        if text.endswith(suffix):
            try:
                return int(float(text[: -len(suffix)]) * factor)
            except ValueError:
                break
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r}") from None


def _run_build(args: argparse.Namespace) -> int:
    from devcasts.cli.report import print_report, write_report_json, write_summary_markdown
    from devcasts.config.load import load_config
    from devcasts.pipeline import BuildOptions, build

    config = load_config(args.feeds, base_url=args.base_url, cache_dir=args.cache)
    options = BuildOptions(
        out_dir=args.out,
        cache_dir=args.cache,
        offline=args.offline,
        allow_private_network=args.allow_private_network,
        max_bytes=args.max_feed_size,
        concurrency=args.concurrency,
        fetch_deadline=args.fetch_deadline,
        progress=None if not args.quiet else False,
        browser_index=not args.no_browser_index,
        ends_process=args.ends_process,
    )
    report = build(config, options)
    print_report(report, config, quiet=args.quiet)
    if args.summary_markdown:
        write_summary_markdown(report, args.summary_markdown)
    if args.report_json:
        write_report_json(report, args.report_json)
    if args.strict and report.failed:
        _error(f"{len(report.failed)} feed(s) failed (--strict)")
        return EXIT_BUILD_FAILED
    return EXIT_OK


def _run_check(args: argparse.Namespace) -> int:
    from devcasts.config.load import config_warnings, load_config

    config = load_config(args.feeds, base_url=args.base_url)
    for warning in config_warnings(config):
        print(f"devcasts: warning: {warning}", file=sys.stderr)
    print(
        f"{config.path}: ok: {len(config.feeds)} feeds, {len(config.topics)} topics, "
        f"site {config.site.base_url}"
    )
    return EXIT_OK


def _run_serve(args: argparse.Namespace) -> int:
    from devcasts.cli.serve import serve
    from devcasts.config.load import load_config
    from devcasts.site import urls

    home = args.out / urls.output_file(urls.home())
    if not home.is_file():
        raise BuildError(f"{home} not found: build the site first")
    base_path = "/"
    if args.feeds.is_file():
        base_path = load_config(args.feeds, base_url=args.base_url).site.base_path
    serve(args.out, port=args.port, base_path=base_path)
    return EXIT_OK


def _run_import_opml(args: argparse.Namespace) -> int:
    from devcasts.cli.opml import OpmlError, import_opml

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ConfigError(args.file, f"cannot read: {exc.strerror}") from None
    try:
        report = import_opml(data, args.feeds)
    except OpmlError as exc:
        _error(str(exc))
        return EXIT_USAGE
    print(report.describe(args.feeds))
    return EXIT_OK


def _run_init(args: argparse.Namespace) -> int:
    from devcasts.cli.init import SiteExistsError, init_site

    folder: Path = args.folder
    try:
        written = init_site(folder)
    except SiteExistsError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _error(f"cannot write the new site: {exc}")
        return EXIT_BUILD_FAILED
    print(f"New site in {folder}:")
    print("".join(f"  {name}\n" for name in written), end="")
    where = "" if folder == Path() else f"cd {folder} && "
    print(
        "Next: edit feeds.yaml (the title and your feeds), then\n"
        f"  {where}devcasts check && devcasts build && devcasts serve\n"
        "To publish on GitHub Pages, push it to a repository's main branch and set\n"
        "Settings -> Pages -> Source to GitHub Actions."
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
