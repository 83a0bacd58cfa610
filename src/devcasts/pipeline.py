"""build(config) -> BuildReport: the recipe, from feeds.yaml to site/.

config -> fetch -> parse -> normalize -> archive -> {index, render, feeds_out, browser index}

Heavy libraries are imported inside the stage that needs them, so a build with nothing new
(every feed unchanged, no input edited) finishes before most of them would have loaded.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from devcasts import __version__
from devcasts.errors import BuildError
from devcasts.model import Config, FeedHealth, FeedSource, FetchResult, FetchStatus
from devcasts.util.atomic import replace_file
from devcasts.util.processes import fork_is_safe, usable_cores

if TYPE_CHECKING:
    from ctypes import c_double
    from multiprocessing.process import BaseProcess

    from devcasts.archive.store import ArchiveState, DecodedCacheWrites
    from devcasts.records import Catalog, NormalizedFeed  # loaded by the stages that make them

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class BuildOptions:
    out_dir: Path = Path("site")
    cache_dir: Path = Path(".cache")
    offline: bool = False
    allow_private_network: bool = False
    max_bytes: int = 20 * 1024 * 1024
    concurrency: int = 8
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    browser_index: bool = True  # run Pagefind for the in-browser search
    lock_timeout: float = 0.0  # seconds to wait for another build's lock


@dataclass(slots=True)
class BuildReport:
    health: list[FeedHealth] = field(default_factory=list)
    episodes: int = 0
    new_episodes: int = 0
    updated_episodes: int = 0
    parsed_feeds: int = 0
    pages_written: int = 0
    pages_unchanged: int = 0
    files_removed: int = 0
    up_to_date: bool = False  # nothing new: the sinks were skipped and nothing was written
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[FeedHealth]:
        return [h for h in self.health if h.status in (FetchStatus.FAILED, FetchStatus.GONE)]


class _Timer:
    def __init__(self, report: BuildReport) -> None:
        self.report = report

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.report.timings[name] = self.report.timings.get(name, 0.0) + elapsed


def build(config: Config, options: BuildOptions, now: datetime | None = None) -> BuildReport:
    """Fetch, normalize and archive every feed, then write the index, the site and the feeds."""
    from devcasts.util.lock import build_lock

    now = now or datetime.now(UTC).replace(microsecond=0)
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    pause = _CollectorPause()
    try:
        with build_lock(options.cache_dir / "build.lock", timeout=options.lock_timeout):
            return _build_locked(config, options, now, pause)
    finally:
        pause.end()


class _CollectorPause:
    """The cyclic garbage collector waits while the build fetches and looks for anything new.
    Its collections would only walk what was just made to last (modules, classes, the HTTP
    stack): about 7 ms, 3 % of a build that finds nothing new. When the pause ends, those
    objects join the oldest generation without a walk (freeze, then unfreeze), and the
    collector runs again as the caller had it."""

    def __init__(self) -> None:
        self._resume = gc.isenabled()
        gc.disable()

    def end(self) -> None:
        if self._resume:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
            self._resume = False


def _build_locked(
    config: Config, options: BuildOptions, now: datetime, pause: _CollectorPause
) -> BuildReport:
    report = BuildReport()
    timer = _Timer(report)
    state_path = options.cache_dir / "build-state.json"
    previous = BuildState.load(state_path)
    normalize = _normalize_fingerprint(config)
    state = BuildState(
        normalize=normalize,
        inputs=_inputs_fingerprint(config, options),
        parsed=dict(previous.parsed) if previous.normalize == normalize else {},
        episode_counts=dict(previous.episode_counts),
        titles=dict(previous.titles),
        browser_index_current=previous.browser_index_current,
    )

    with timer.stage("fetch"):
        results = _fetch(config, options, now)

    to_parse = [r for r in results if state.parsed.get(r.source.slug) != r.content_hash]
    if to_parse:
        pause.end()
    # A kept body is read (and checked) only here; a copy that fails its check is fetched again.
    from devcasts.fetch.cache import read_body

    to_parse = [replace(r, body=read_body(r)) for r in to_parse]
    unreadable = [r.source for r in to_parse if r.body is None and r.content_hash]
    again = {r.source.slug: r for r in _fetch(config, options, now, unreadable)}
    to_parse = [
        replace(again[r.source.slug], body=read_body(again[r.source.slug]))
        if r.source.slug in again
        else r
        for r in to_parse
    ]
    to_parse = [r for r in to_parse if r.body is not None]
    normalized, parse_errors = _parse_and_normalize(config, to_parse, now, timer)
    report.parsed_feeds = len(to_parse)

    archive = None
    cache_writes = None
    site_changed = False
    new_counts: dict[str, int] = {}
    if normalized:
        with timer.stage("archive"):
            from devcasts.archive.store import (
                DecodedCacheWrites,
                load_archive,
                merge_feeds,
                save_archive,
            )

            archive = load_archive(config.content_dir, cache_dir=options.cache_dir)
            archive, changes = merge_feeds(archive, normalized, now)
            if changes.any:
                # Until the site shows these changes, the next build must not think it does.
                state_path.unlink(missing_ok=True)
                cache_writes = DecodedCacheWrites(options.cache_dir)
                save_archive(
                    config.content_dir,
                    archive,
                    only=changes.touched_podcasts,
                    cache_writes=cache_writes,  # pickled by the indexer's child, not here
                )
            state.remember(archive)
        site_changed = not changes.is_empty
        report.new_episodes = changes.new_count
        report.updated_episodes = changes.updated_count
        new_counts = dict(changes.new_per_podcast)
    for r in to_parse:
        if r.source.slug not in parse_errors and r.content_hash:
            state.parsed[r.source.slug] = r.content_hash

    report.health = _health(results, parse_errors, state, new_counts)
    state.health = _health_fingerprint(report.health)
    outputs_exist = (options.out_dir / "index.html").is_file() and _index_exists(options)
    pause.end()
    if not site_changed and outputs_exist and state.same_output_as(previous):
        # Nothing new to show: no output file is touched. Archive files rewritten for what the
        # site does not show (a later last_seen) still get their decoded-cache entries.
        if cache_writes is not None:
            cache_writes.commit()
        report.up_to_date = True
        report.episodes = previous.episodes
        state.episodes = previous.episodes
        state.save(state_path)
        return report

    if archive is None:
        with timer.stage("catalog"):
            from devcasts.archive.store import load_archive

            archive = load_archive(config.content_dir, cache_dir=options.cache_dir)
            state.remember(archive)
            report.health = _health(results, parse_errors, state, new_counts)
            state.health = _health_fingerprint(report.health)
    # From here the archive lives until the build ends. Frozen, its objects are left out of
    # garbage collections (a quarter of the catalog's time), whose walks would also copy the
    # pages a forked child shares (gc.freeze's documented use before a fork).
    gc.freeze()
    try:
        _write_outputs(config, options, report, timer, archive, state, cache_writes)
    finally:
        gc.unfreeze()
    # Pages written while Pagefind was off are unknown to the browser index until it compares
    # the whole site again.
    state.browser_index_current = options.browser_index
    state.save(state_path)
    return report


def _write_outputs(
    config: Config,
    options: BuildOptions,
    report: BuildReport,
    timer: _Timer,
    archive: ArchiveState,
    state: BuildState,
    cache_writes: DecodedCacheWrites | None,
) -> None:
    """The catalog, then the search index (in a child), the site and the browser index."""
    with timer.stage("catalog"):
        from devcasts.archive.store import build_catalog, load_overrides

        overrides = load_overrides(config.content_dir)
        catalog = build_catalog(archive, config, overrides, _published_health(report.health))
    report.episodes = state.episodes = len(catalog.episodes)

    # The search index (and the archive's decoded cache) is written by a forked child on the
    # other core while this process renders; the child inherits the catalog, so nothing large
    # crosses a pipe. Its own time comes back through shared memory.
    from multiprocessing.sharedctypes import RawValue

    index_seconds = RawValue("d", 0.0)
    indexer = _start_indexer(catalog, options.cache_dir / "index", cache_writes, index_seconds)
    try:
        whole_site = not state.browser_index_current  # still the previous build's word
        _write_site(config, options, catalog, report, timer, whole_site)
    finally:
        with timer.stage("index (waiting)"):
            _finish_indexer(indexer)
    report.timings["index"] = index_seconds.value


def _index_exists(options: BuildOptions) -> bool:
    from devcasts.search.marker import index_exists

    return index_exists(options.cache_dir / "index")


def _start_indexer(
    catalog: Catalog,
    index_dir: Path,
    cache_writes: DecodedCacheWrites | None,
    seconds: c_double,
) -> BaseProcess | None:
    """Update the search index in a forked child; in this process (returning None) where
    fork is unavailable or unsafe (other threads running, as in an embedding program)."""
    if not fork_is_safe():
        _update_index(catalog, index_dir, cache_writes, seconds)
        return None
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(
        target=_update_index,
        args=(catalog, index_dir, cache_writes, seconds),
        name="devcasts-index",
    )
    child.start()
    return child


def _update_index(
    catalog: Catalog, index_dir: Path, cache_writes: DecodedCacheWrites | None, seconds: c_double
) -> None:
    """`seconds`: where the index's own time goes (shared memory when this is the child)."""
    from devcasts.search.searcher import update_index

    started = time.perf_counter()
    update_index(catalog, index_dir)
    seconds.value = time.perf_counter() - started
    if cache_writes is not None:
        cache_writes.commit()


def _finish_indexer(child: BaseProcess | None) -> None:
    if child is None:
        return
    child.join()
    if child.exitcode != 0:
        raise BuildError(
            f"the search index could not be updated (exit code {child.exitcode}); "
            "the error is printed above"
        )


def _fetch(
    config: Config,
    options: BuildOptions,
    now: datetime,
    sources: Sequence[FeedSource] | None = None,
) -> list[FetchResult]:
    """Fetch every feed of the config, or only `sources`."""
    if sources is not None and not sources:
        return []
    from devcasts.fetch.http import FetchOptions, fetch_all

    fetch_options = FetchOptions(
        cache_dir=options.cache_dir / "http",
        offline=options.offline,
        allow_private_network=options.allow_private_network,
        max_bytes=options.max_bytes,
        concurrency=options.concurrency,
        progress=options.progress,
    )
    return fetch_all(config.feeds if sources is None else sources, fetch_options, now)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One feed's parse and normalize, as it comes back from a worker."""

    slug: str
    feed: NormalizedFeed | None
    error: str | None
    parse_seconds: float
    normalize_seconds: float


# Fewer feeds than this are parsed in this process: a worker pool costs more than it saves.
PARALLEL_MIN_FEEDS = 8
_JOBS: tuple[Config, Sequence[FetchResult], datetime] | None = None  # read by forked workers


def _parse_and_normalize(
    config: Config, results: Sequence[FetchResult], now: datetime, timer: _Timer
) -> tuple[list[NormalizedFeed], dict[str, str]]:
    """Parse and normalize the feeds that changed, on both cores when there are many.

    Workers are forked, so they inherit the fetched bodies; only the normalized feeds travel
    back (about a tenth of the work's time in pickling). Output is in the order of `results`.
    """
    global _JOBS
    if not results:
        return [], {}
    _JOBS = (config, results, now)
    try:
        with timer.stage("parse+normalize (wall)"):
            workers = _worker_count(len(results))
            if workers > 1:
                import multiprocessing

                context = multiprocessing.get_context("fork")
                with context.Pool(workers) as pool:
                    outcomes = pool.map(_parse_one, range(len(results)), chunksize=1)
            else:
                outcomes = [_parse_one(i) for i in range(len(results))]
    finally:
        _JOBS = None
    timer.report.timings["parse"] = sum(o.parse_seconds for o in outcomes)
    timer.report.timings["normalize"] = sum(o.normalize_seconds for o in outcomes)
    errors = {o.slug: o.error for o in outcomes if o.error}
    return [o.feed for o in outcomes if o.feed is not None], errors


def _worker_count(feeds: int) -> int:
    if feeds < PARALLEL_MIN_FEEDS or not fork_is_safe():
        return 1
    return max(1, min(usable_cores(), 4))


def _parse_one(index: int) -> _Parsed:
    from devcasts.ingest.normalize import normalize_feed
    from devcasts.ingest.parse import parse_feed
    from devcasts.records import NotAFeedError

    assert _JOBS is not None
    config, results, now = _JOBS
    result = results[index]
    assert isinstance(result.body, bytes)
    url = result.url or result.source.url
    started = time.perf_counter()
    parsed_at = started
    try:
        parsed = parse_feed(result.body, result.headers, url)
        parsed_at = time.perf_counter()
        feed = normalize_feed(result.source, parsed, config.topics, now, url)
        done = time.perf_counter()
        return _Parsed(result.source.slug, feed, None, parsed_at - started, done - parsed_at)
    except NotAFeedError as exc:
        error = f"not a feed: {exc}"
    except Exception as exc:  # one feed's surprise must not stop the others
        error = f"could not read the feed: {type(exc).__name__}: {exc}"
    done = time.perf_counter()
    return _Parsed(result.source.slug, None, error, parsed_at - started, done - parsed_at)


def _health(
    results: Sequence[FetchResult],
    parse_errors: dict[str, str],
    state: BuildState,
    new_counts: dict[str, int],
) -> list[FeedHealth]:
    health: list[FeedHealth] = []
    for r in results:
        status, reason = r.status, r.error
        if r.source.slug in parse_errors:
            status, reason = FetchStatus.FAILED, parse_errors[r.source.slug]
        health.append(
            FeedHealth(
                slug=r.source.slug,
                title=r.source.title or state.titles.get(r.source.slug) or r.source.slug,
                url=r.source.url,
                status=status,
                reason=reason,
                episodes=state.episode_counts.get(r.source.slug, 0),
                new_episodes=new_counts.get(r.source.slug, 0),
                failures=r.failures if status is FetchStatus.FAILED else 0,
                first_failure=r.first_failure,
                last_failure=r.last_failure,
                last_success=r.last_success,
                moved_to=r.moved_to,
                moved_count=r.moved_count,
            )
        )
    return health


def _write_site(
    config: Config,
    options: BuildOptions,
    catalog: Catalog,
    report: BuildReport,
    timer: _Timer,
    whole_site: bool = False,
) -> None:
    """Render and swap in the site; `whole_site`: the browser index compares every page."""
    from devcasts.publish.feeds import write_feeds
    from devcasts.site.render import render_site
    from devcasts.site.writer import site_transaction

    started = time.perf_counter()
    with site_transaction(options.out_dir) as writer:
        report.timings["site staging"] = time.perf_counter() - started
        with timer.stage("render"):
            render_site(catalog, config, writer)
        with timer.stage("feeds"):
            write_feeds(catalog, writer)
        # Pagefind's bundles live in their own folder; with --no-browser-index the last ones
        # stay. browser_index only renames new files into it, never writes into one, and
        # says which files it changed, so the swap compares only those.
        writer.external_dir("pagefind", keep_existing=True, replaces_only=True)
        if options.browser_index:
            writer.finish()  # so the removed pages are known too
            with timer.stage("browser index"):
                from devcasts.search.browser_index import build_browser_index

                changed = [p for p in (*writer.changed, *writer.removed) if p.endswith(".html")]
                language = config.site.language
                index = build_browser_index(
                    writer.out_dir, options.cache_dir, None if whole_site else changed, language
                )
            writer.external_changes("pagefind", written=index.written, removed=index.removed)
        else:
            writer.external_changes("pagefind")  # left alone
        body_done = time.perf_counter()
    report.timings["site swap"] = time.perf_counter() - body_done
    report.pages_written = len(writer.changed)
    report.pages_unchanged = len(writer.seen) - len(writer.changed)
    report.files_removed = len(writer.removed)


# --- what changed since the last build ----------------------------------------------------


def _normalize_fingerprint(config: Config) -> str:
    """Everything besides a feed's bytes that changes what normalize makes of it."""
    topics = [(t.slug, t.name, t.patterns) for t in config.topics]
    sources = sorted((s.slug, s.url, s.include, s.title, s.weight) for s in config.feeds)
    return _hash_json({"version": __version__, "topics": topics, "sources": sources})


def _inputs_fingerprint(config: Config, options: BuildOptions) -> str:
    """The hand-written inputs of the sinks: feeds.yaml, content pages, templates, flags."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}\n{options.browser_index}\n{options.out_dir}\n".encode())
    digest.update(config.path.read_bytes())
    for root in (config.templates_dir, config.content_dir):
        for path in sorted(_hand_written_files(root)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _hand_written_files(root: Path) -> Iterator[Path]:
    """The regular files under `root`, but not in its archive/ folder (the build's own output,
    which the walk does not even enter); symbolic links to folders are not followed."""
    for folder, subfolders, files in os.walk(root):
        if folder == str(root) and "archive" in subfolders:
            subfolders.remove("archive")
        yield from (path for name in files if (path := Path(folder, name)).is_file())


def _published_health(health: Sequence[FeedHealth]) -> list[FeedHealth]:
    """The site says "ok" for a feed that answered 304: both mean the feed is healthy, and the
    health page should not change between two builds that found nothing new."""
    return [
        replace(h, status=FetchStatus.OK) if h.status is FetchStatus.UNCHANGED else h
        for h in health
    ]


def _health_fingerprint(health: Sequence[FeedHealth]) -> str:
    published = _published_health(health)
    return _hash_json([(h.slug, h.status.value, h.reason, h.episodes) for h in published])


def _hash_json(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(slots=True)
class BuildState:
    """What the previous build saw, kept in the cache: only ever an optimisation.

    A missing or corrupt state file costs one full build, never a wrong one.
    """

    normalize: str = ""  # fingerprint of what normalize depends on besides the bytes
    inputs: str = ""  # fingerprint of feeds.yaml, templates and content pages
    health: str = ""  # fingerprint of the feeds' statuses (the health page shows them)
    episodes: int = 0
    episode_counts: dict[str, int] = field(default_factory=dict)
    parsed: dict[str, str] = field(default_factory=dict)  # podcast slug -> body hash
    titles: dict[str, str] = field(default_factory=dict)  # podcast slug -> title, for reports
    browser_index_current: bool = False  # the last site written was indexed by Pagefind

    def remember(self, archive: ArchiveState) -> None:
        """Keep what reports need from the archive, so a build with nothing new skips it."""
        self.episode_counts = {r.podcast.slug: len(r.episodes) for r in archive.podcasts}
        self.titles = {r.podcast.slug: r.podcast.title for r in archive.podcasts}

    def same_output_as(self, other: BuildState) -> bool:
        return (self.inputs, self.health) == (other.inputs, other.health) and bool(self.inputs)

    @classmethod
    def load(cls, path: Path) -> BuildState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("version", None) != STATE_VERSION:
                return cls()
            return cls(**data)
        except (OSError, ValueError, TypeError, AttributeError):
            return cls()

    def save(self, path: Path) -> None:
        data = {
            "version": STATE_VERSION,
            "normalize": self.normalize,
            "inputs": self.inputs,
            "health": self.health,
            "episodes": self.episodes,
            "episode_counts": dict(sorted(self.episode_counts.items())),
            "parsed": dict(sorted(self.parsed.items())),
            "titles": dict(sorted(self.titles.items())),
            "browser_index_current": self.browser_index_current,
        }
        text = json.dumps(data, indent=1) + "\n"
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return
        replace_file(path, text.encode("utf-8"))
