"""build(config, options, now) -> BuildReport: the recipe, from feeds.yaml to site/.

    fetch -> read (parse, normalize) -> archive -> chapters files -> catalog -> {search index,
    site, feeds, browser index}

Each step is a stage function called with what it needs; each feed's outcome is one value
(model.FeedOutcome), and the feeds' health is derived from those. What the previous build saw
(state.py) lets a build with nothing new stop before the sinks and write nothing.

Heavy libraries are imported inside the stage that needs them, so a build with nothing new
(every feed unchanged, no input edited) finishes before most of them would have loaded.
"""

from __future__ import annotations

import functools
import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devcasts.errors import OutputFolderError
from devcasts.health import feed_health, published_health
from devcasts.model import Config, FeedHealth, FeedOutcome, FeedSource, FetchResult, FetchStatus
from devcasts.state import (
    STATE_FILE,
    BuildState,
    health_fingerprint,
    inputs_fingerprint,
    normalize_fingerprint,
    read_state,
    write_state,
)
from devcasts.util.processes import start_in_background

log = logging.getLogger(__name__)

# The archives and catalogs of builds whose process ends with them (BuildOptions.ends_process):
# freeing 100,000 episodes object by object took 0.2 s that the exit does at once.
_KEPT_TO_THE_EXIT: list[object] = []

CHAPTERS_ACCEPT = "application/json+chapters, application/json;q=0.9, */*;q=0.1"
TRANSCRIPT_ACCEPT = (
    "text/vtt, application/x-subrip, application/json;q=0.9, text/html;q=0.8, text/plain;q=0.5,"
    " */*;q=0.1"
)
LINKED_FILES_DEADLINE = 60.0  # seconds for every chapters file of a build
ART_ACCEPT = "image/webp, image/jpeg, image/png, image/gif;q=0.9, */*;q=0.1"
ART_REFRESH = timedelta(days=7)  # a kept cover is asked again (conditionally) after this

if TYPE_CHECKING:
    from collections.abc import Mapping

    from devcasts.archive.decoded_cache import DecodedCacheWrites
    from devcasts.archive.state import ArchiveChanges, ArchiveState
    from devcasts.fetch.http import FetchOptions
    from devcasts.publish.feeds import FeedUpdate
    from devcasts.records import Catalog, NormalizedFeed  # loaded by the stages that make them
    from devcasts.search.browser_index import IndexUpdate
    from devcasts.search.browser_state import IndexState
    from devcasts.site.artwork import Artwork
    from devcasts.site.writer import SiteWriter
    from devcasts.util.processes import Background


@dataclass(frozen=True, slots=True)
class BuildOptions:
    out_dir: Path = Path("site")
    cache_dir: Path = Path(".cache")
    offline: bool = False
    allow_private_network: bool = False
    max_bytes: int = 20 * 1024 * 1024
    concurrency: int = 8
    fetch_deadline: float = 600.0  # seconds for the whole fetch stage
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    browser_index: bool = True  # write the in-browser search index
    lock_timeout: float = 0.0  # seconds to wait for another build's lock
    # The process ends with the build (the command line): its archive and catalog are kept
    # for the system to take back at the exit, rather than freed object by object.
    ends_process: bool = False


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
    # Covers (site/artwork.py): images fetched by this build, kept from an earlier one, that
    # failed (an error, or no usable image), not fetched yet (offline, or queued for the next
    # build); and the bytes of the covers on the site (art/ and the touch icon).
    art_fetched: int = 0
    art_kept: int = 0
    art_failed: int = 0
    art_bytes: int = 0
    art_waiting: int = 0
    transcripts_shown: int = 0  # episodes whose linked transcript pages show in full
    transcript_bytes: int = 0  # their text, within catalog/linked_transcripts.BUDGET_BYTES
    site_bytes: int = 0  # the whole site after this build (0: not measured, nothing written)
    site_folders: tuple[tuple[str, int], ...] = ()  # top-level folder -> bytes, largest first
    # The in-browser search index: documents tokenized again, files written, and why it was
    # built from scratch ("" when it was updated from the last build's files).
    browser_index_readded: int = 0
    browser_index_written: int = 0
    browser_index_rebuilt: str = ""

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
    """Fetch, read and archive every feed, then write the index, the site and the feeds."""
    from devcasts.util.lock import build_locks

    now = now or datetime.now(UTC).replace(microsecond=0)
    _refuse_a_kept_folder_as_output(config, options)
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    # The cache, the archive and the site (its folder is renamed, so the one that holds it and
    # its spare copies is locked): another build with another --cache is refused too.
    written = (config.content_dir, options.out_dir.absolute().parent)
    with build_locks(options.cache_dir / "build.lock", written, timeout=options.lock_timeout):
        return _build_locked(config, options, now)


def _refuse_a_kept_folder_as_output(config: Config, options: BuildOptions) -> None:
    """A build replaces its output folder whole: never content/, templates/, the cache, the
    project or a folder of someone's files (see site/out_guard.py)."""
    from devcasts.site.out_guard import check_output_folder

    reason = check_output_folder(
        options.out_dir,
        content_dir=config.content_dir,
        templates_dir=config.templates_dir,
        cache_dir=options.cache_dir,
    )
    if reason is not None:
        raise OutputFolderError(options.out_dir, reason)


def _build_locked(config: Config, options: BuildOptions, now: datetime) -> BuildReport:
    report = BuildReport()
    timer = _Timer(report)
    state_path = options.cache_dir / STATE_FILE
    previous = read_state(state_path)
    state = previous.successor(
        normalize_fingerprint(config),
        inputs_fingerprint(config, options.out_dir, options.browser_index),
    )

    with timer.stage("fetch"):
        fetched = _fetch(config.feeds, options, now)
    outcomes, loaded = _read_new_bodies(config, options, now, fetched, state, timer)
    report.parsed_feeds = sum(outcome.was_read for outcome in outcomes)

    archive: ArchiveState | None = None
    changes: ArchiveChanges | None = None
    cache_writes: DecodedCacheWrites | None = None
    new_feeds = [outcome.feed for outcome in outcomes if outcome.feed is not None]
    if new_feeds:
        with timer.stage("archive"):
            archive, changes, cache_writes = _archive(
                config, options, loaded, new_feeds, now, state_path
            )
            state.remember(archive)
        outcomes = _count_new_episodes(outcomes, changes)
        report.new_episodes = changes.new_count
        report.updated_episodes = changes.updated_count
    state.remember_read(outcomes)
    _note_health(report, state, outcomes)

    linked: frozenset[str] = frozenset()  # podcasts given chapters or transcripts from files
    # Offline, files stay due (nothing can be asked) without costing every build the archive.
    if archive is not None or (not options.offline and state.linked_files_due(now)):
        with timer.stage("chapters files"):
            if archive is None:
                archive = loaded or _load_archive(config, options)
                state.remember(archive)
                _note_health(report, state, outcomes)
            archive, linked = _linked_chapters(config, options, archive, now, state)
            archive, transcribed = _linked_transcripts(config, options, archive, now, state)
            linked |= transcribed
            if linked:
                state_path.unlink(missing_ok=True)  # as in _archive: until the site shows them
                cache_writes = _save_archive(config, options, archive, linked, cache_writes)

    site_changed = bool(linked) or (changes is not None and not changes.is_empty)
    site_changed |= not options.offline and state.art_files_due(now)  # a cover to ask again
    if not site_changed and _outputs_exist(options) and state.same_output_as(previous):
        # Nothing new to show: no output file is touched. Archive files rewritten for what the
        # site does not show (an episode dropped by its feed) still get their decoded-cache
        # entries.
        if cache_writes is not None:
            cache_writes.commit()
        report.up_to_date = True
        report.episodes = state.episodes = previous.episodes
        write_state(state_path, state)
        return report

    if archive is None:
        with timer.stage("catalog"):
            archive = loaded or _load_archive(config, options)
            state.remember(archive)
            _note_health(report, state, outcomes)
    # From here the archive lives until the build ends. Frozen, its objects are left out of
    # garbage collections (a quarter of the catalog's time), whose walks would also copy the
    # pages a forked child shares (gc.freeze's documented use before a fork).
    gc.freeze()
    try:
        catalog = _write_outputs(config, options, report, timer, archive, state, cache_writes, now)
    finally:
        gc.unfreeze()
    if options.ends_process:
        _KEPT_TO_THE_EXIT.append((archive, catalog))
    write_state(state_path, state)
    return report


# --- fetch and read ---------------------------------------------------------------------------


def _fetch(
    sources: Sequence[FeedSource], options: BuildOptions, now: datetime
) -> list[FetchResult]:
    from devcasts.fetch.http import FetchOptions, fetch_all

    fetch_options = FetchOptions(
        cache_dir=options.cache_dir / "http",
        offline=options.offline,
        allow_private_network=options.allow_private_network,
        max_bytes=options.max_bytes,
        concurrency=options.concurrency,
        build_deadline=options.fetch_deadline,
        progress=options.progress,
    )
    return fetch_all(sources, fetch_options, now)


def _read_new_bodies(
    config: Config,
    options: BuildOptions,
    now: datetime,
    fetched: Sequence[FetchResult],
    state: BuildState,
    timer: _Timer,
) -> tuple[list[FeedOutcome], ArchiveState | None]:
    """Every feed's outcome, in order: a body this build has not read before (new, or read
    under other topics) is parsed and normalized; any other is left as fetching gave it.

    A few new bodies are read by a child while this process loads the archive they will be
    merged into, which takes as long at 100,000 episodes: that archive comes back too."""
    new = [r for r in fetched if r.content_hash and not state.has_read(r)]
    if not new:
        return [FeedOutcome(r) for r in fetched], None
    from devcasts.ingest.read import start_reading  # feedparser and the rest: only now

    with_bodies = _bodies(new, options, now)
    readable = [(result, body) for result, body in with_bodies if body is not None]
    loaded = None
    with timer.stage("parse+normalize (wall)"):  # many feeds are read here and now
        reading = start_reading(readable, config.topics, now)
    if reading.pending:
        with timer.stage("archive"):
            loaded = _load_archive(config, options)
    with timer.stage("parse+normalize (wall)"):
        reads = reading.result()
    timer.report.timings["parse"] = sum(read.parse_seconds for read in reads)
    timer.report.timings["normalize"] = sum(read.normalize_seconds for read in reads)
    outcomes = {r.source.slug: FeedOutcome(r) for r in fetched}
    outcomes |= {result.source.slug: FeedOutcome(result) for result, _ in with_bodies}
    outcomes |= {read.outcome.source.slug: read.outcome for read in reads}
    return [outcomes[r.source.slug] for r in fetched], loaded


def _bodies(
    results: Sequence[FetchResult], options: BuildOptions, now: datetime
) -> list[tuple[FetchResult, bytes | None]]:
    """Each result with its bytes. A kept copy is read (and checked) only here; one that fails
    its check is fetched again, whole, and that fetch's result replaces it."""
    from devcasts.fetch.cache import read_body

    bodies = [(result, read_body(result)) for result in results]
    damaged = [result.source for result, body in bodies if body is None]
    if not damaged:
        return bodies
    again = {r.source.slug: (r, read_body(r)) for r in _fetch(damaged, options, now)}
    return [again.get(result.source.slug, (result, body)) for result, body in bodies]


# --- archive and health -----------------------------------------------------------------------


def _archive(
    config: Config,
    options: BuildOptions,
    loaded: ArchiveState | None,
    feeds: Sequence[NormalizedFeed],
    now: datetime,
    state_path: Path,
) -> tuple[ArchiveState, ArchiveChanges, DecodedCacheWrites | None]:
    """Merge this build's feeds into the archive (`loaded` already, or loaded now) and save
    the podcasts they changed."""
    from devcasts.archive.decoded_cache import DecodedCacheWrites
    from devcasts.archive.files import save_archive
    from devcasts.archive.merge import merge_feeds

    archive = loaded or _load_archive(config, options)
    titled = frozenset(source.slug for source in config.feeds if not source.slug_given)
    given = frozenset(source.slug for source in config.feeds if source.slug_given)
    archive, changes = merge_feeds(archive, feeds, now, titled=titled, given=given)
    if not changes.any:
        return archive, changes, None
    # Until the site shows these changes, the next build must not think it does.
    state_path.unlink(missing_ok=True)
    cache_writes = DecodedCacheWrites(options.cache_dir)
    save_archive(
        config.content_dir,
        archive,
        only=changes.touched_podcasts,
        cache_writes=cache_writes,  # pickled by the indexer's child, not here
    )
    return archive, changes, cache_writes


def _load_archive(config: Config, options: BuildOptions) -> ArchiveState:
    from devcasts.archive.files import load_archive

    return load_archive(config.content_dir, cache_dir=options.cache_dir)


def _save_archive(
    config: Config,
    options: BuildOptions,
    archive: ArchiveState,
    podcasts: frozenset[str],
    cache_writes: DecodedCacheWrites | None,
) -> DecodedCacheWrites:
    from devcasts.archive.decoded_cache import DecodedCacheWrites
    from devcasts.archive.files import save_archive

    cache_writes = cache_writes or DecodedCacheWrites(options.cache_dir)
    save_archive(config.content_dir, archive, only=podcasts, cache_writes=cache_writes)
    return cache_writes


def _linked_file_options(options: BuildOptions, cache_folder: str, **changes: Any) -> FetchOptions:
    """The fetcher's options for files feeds link to (chapters, transcripts, covers): this
    build's offline and private-network choices, and a share of its deadline."""
    from devcasts.fetch.sidecar import linked_file_options

    return linked_file_options(
        options.cache_dir / cache_folder,
        offline=options.offline,
        allow_private_network=options.allow_private_network,
        build_deadline=min(LINKED_FILES_DEADLINE, options.fetch_deadline),
        **changes,
    )


def _linked_chapters(
    config: Config, options: BuildOptions, archive: ArchiveState, now: datetime, state: BuildState
) -> tuple[ArchiveState, frozenset[str]]:
    """Fetch the chapters files that episodes link to, when due (fetch/sidecar.py), and keep
    the chapters they give in the archive; the podcasts whose episodes changed."""
    from devcasts.archive.linked_chapters import attach_linked_chapters, wanted_links
    from devcasts.fetch.sidecar import FileRequest, fetch_linked_files, json_object_problem
    from devcasts.ingest.chapters_json import chapters_from_json

    shows = {source.slug for source in config.feeds}
    wanted = wanted_links(archive, now, shows)
    requests = [FileRequest(url, refresh) for url, refresh in wanted]
    sidecar = _linked_file_options(
        options, "linked", accept=CHAPTERS_ACCEPT, check_body=json_object_problem
    )
    fetched = fetch_linked_files(requests, sidecar, now)
    state.note_linked_due(fetched.next_due)  # offline, what was due stays due
    if fetched.asked:
        log.info("chapters files: %d asked, %d failed", fetched.asked, fetched.failed)
    found = {url: chapters_from_json(f.body, url) for url, f in fetched.files.items() if f.body}
    return attach_linked_chapters(archive, found)


def _linked_transcripts(
    config: Config, options: BuildOptions, archive: ArchiveState, now: datetime, state: BuildState
) -> tuple[ArchiveState, frozenset[str]]:
    """Fetch the transcript files that episodes link to, as _linked_chapters does chapters
    files (after it: the soonest either is due again is kept), and keep their turns in the
    archive; the podcasts whose episodes changed."""
    from devcasts.archive.linked_transcripts import attach_linked_transcripts, wanted
    from devcasts.fetch.sidecar import FileRequest, fetch_linked_files
    from devcasts.ingest.transcript_files import MAX_BODY_BYTES, turns_from_file

    shows = {source.slug for source in config.feeds}
    language = config.site.language
    files = wanted(archive, now, language, shows)
    sidecar = _linked_file_options(
        options, "linked", accept=TRANSCRIPT_ACCEPT, max_bytes=MAX_BODY_BYTES
    )
    requests = [FileRequest(file.url, file.refresh_after) for file in files]
    fetched = fetch_linked_files(requests, sidecar, now)
    # linked_due was just set by _linked_chapters, from the chapters files this build saw.
    chapters_due = datetime.fromisoformat(state.linked_due) if state.linked_due else None
    state.note_linked_due(min(filter(None, (chapters_due, fetched.next_due)), default=None))
    if fetched.asked:
        log.info("transcript files: %d asked, %d failed", fetched.asked, fetched.failed)
    types = {file.url: file.type for file in files}
    found = {
        url: turns_from_file(f.body, types.get(url, ""), url)
        for url, f in fetched.files.items()
        if f.body
    }
    return attach_linked_transcripts(archive, found, language)


def _count_transcripts(report: BuildReport, catalog: Catalog) -> None:
    from devcasts.catalog.linked_transcripts import transcript_bytes

    sizes = [transcript_bytes(e) for e in catalog.episodes if e.linked_transcript]
    report.transcripts_shown, report.transcript_bytes = len(sizes), sum(sizes)


def _count_new_episodes(
    outcomes: Sequence[FeedOutcome], changes: ArchiveChanges
) -> list[FeedOutcome]:
    new = changes.new_per_podcast
    return [replace(o, new_episodes=new.get(o.source.slug, 0)) for o in outcomes]


def _note_health(report: BuildReport, state: BuildState, outcomes: Sequence[FeedOutcome]) -> None:
    report.health = feed_health(outcomes, state.episode_counts, state.titles)
    state.health = health_fingerprint(report.health)


def _outputs_exist(options: BuildOptions) -> bool:
    from devcasts.search.marker import index_exists
    from devcasts.site import urls

    home = options.out_dir / urls.output_file(urls.home())
    return home.is_file() and index_exists(options.cache_dir / "index")


# --- the outputs ------------------------------------------------------------------------------


def _write_outputs(
    config: Config,
    options: BuildOptions,
    report: BuildReport,
    timer: _Timer,
    archive: ArchiveState,
    state: BuildState,
    cache_writes: DecodedCacheWrites | None,
    now: datetime,
) -> Catalog:
    """The catalog, then the search index (in a child), the covers, the site and the browser
    index; the catalog."""
    with timer.stage("catalog"):
        from devcasts.catalog.build import build_catalog
        from devcasts.catalog.overrides import load_overrides

        overrides = load_overrides(config.content_dir)
        catalog = build_catalog(archive, config, overrides, published_health(report.health))
    gc.freeze()  # the catalog too lives until the build ends (see _build_locked)
    report.episodes = state.episodes = len(catalog.episodes)
    _count_transcripts(report, catalog)

    # The search index, the browser's search index (and the archive's decoded cache) are
    # written by a forked child on the other core while this process renders; the child
    # inherits the catalog, so nothing large crosses a pipe. It sends back its own times,
    # the published feeds that changed and the browser index's files, which the site
    # writes. The covers come first: the browser index shows them.
    with timer.stage("artwork"):
        artwork, art_files = _artwork(config, options, catalog, now, report, state)
    images = functools.partial(artwork.card_images, catalog)  # worked out by the child
    browser = _BrowserJob.of(options, images) if options.browser_index else None
    index = functools.partial(
        _update_indexes,
        catalog,
        options.cache_dir / "index",
        cache_writes,
        browser,
        options.out_dir,
    )
    indexer = start_in_background(index, "the search index")
    try:
        _write_site(
            config, options, catalog, report, timer, state, artwork, art_files, indexer, browser
        )
    finally:
        if indexer.pending:  # the site failed before it needed the indexes
            with timer.stage("index (waiting)"):
                indexer.result()
    return catalog


@dataclass(frozen=True, slots=True)
class _BrowserJob:
    """What the browser index's update needs besides the catalog: the covers' paths, the last
    build's state, and the live site, where the files that state describes are. The paths
    and the state are read by whoever runs it (the indexing child, which has time to spare
    while this process renders)."""

    images: Callable[[], Mapping[str, str]]
    state_path: Path
    site_dir: Path

    @classmethod
    def of(cls, options: BuildOptions, images: Callable[[], Mapping[str, str]]) -> _BrowserJob:
        return cls(images, _browser_index_state_path(options), options.out_dir)

    def previous(self) -> IndexState | None:
        from devcasts.search.browser_state import IndexState

        try:
            return IndexState.from_bytes(self.state_path.read_bytes())
        except OSError:
            return None

    def read(self, relpath: str) -> bytes | None:
        try:
            return (self.site_dir / relpath).read_bytes()
        except OSError:
            return None

    def run(self, catalog: Catalog, from_scratch: bool = False) -> _BrowserFiles:
        """The update from the last build's state; from scratch when asked, or when a file it
        keeps without reading is not on the site (the Pages workflow keeps .cache/, with the
        state, but not site/)."""
        from devcasts.search.browser_index import update_browser_index

        images = self.images()
        previous = None if from_scratch else self.previous()
        update = update_browser_index(catalog, images, previous, self.read)
        missing = next((p for p in update.kept if not (self.site_dir / p).is_file()), None)
        if missing is not None:
            update = update_browser_index(catalog, images, None, self.read)
            update = replace(update, reason=f"{missing} is not on the site")
        return _BrowserFiles.of(update)


@dataclass(frozen=True, slots=True)
class _BrowserFiles:
    """The browser index's update as the child sends it back: its files, and its state
    already encoded (this process only writes it, once the site is swapped in)."""

    written: dict[str, bytes]
    kept: list[str]
    state: bytes
    rebuilt: bool
    reason: str  # why it was built from scratch ("" when it was not)
    readded: int  # documents tokenized again

    @classmethod
    def of(cls, update: IndexUpdate) -> _BrowserFiles:
        return cls(
            update.written,
            update.kept,
            update.state.to_bytes(),
            update.rebuilt,
            update.reason,
            update.readded,
        )


@dataclass(frozen=True, slots=True)
class _Indexed:
    """What the indexing child sends back."""

    seconds: float  # the search index's
    browser: _BrowserFiles | None
    browser_seconds: float
    feeds: FeedUpdate
    feeds_seconds: float


def _update_indexes(
    catalog: Catalog,
    index_dir: Path,
    cache_writes: DecodedCacheWrites | None,
    browser: _BrowserJob | None,
    site_dir: Path,
) -> _Indexed:
    """The published feeds that changed (built from what the live site in `site_dir` holds;
    the site writes them), the search index, the decoded-cache entries, then the browser
    index's update (its files are written by the site); the seconds of each."""
    from devcasts.publish.feeds import plan_feeds
    from devcasts.search.writer import update_index

    started = time.perf_counter()
    feeds = plan_feeds(catalog, site_dir)
    feeds_seconds = time.perf_counter() - started
    started = time.perf_counter()
    update_index(catalog, index_dir)
    seconds = time.perf_counter() - started
    if cache_writes is not None:
        cache_writes.commit()
    update, browser_seconds = None, 0.0
    if browser is not None:
        started = time.perf_counter()
        update = browser.run(catalog)
        browser_seconds = time.perf_counter() - started
    return _Indexed(seconds, update, browser_seconds, feeds, feeds_seconds)


def _write_site(
    config: Config,
    options: BuildOptions,
    catalog: Catalog,
    report: BuildReport,
    timer: _Timer,
    state: BuildState,
    artwork: Artwork | None = None,
    art_files: dict[str, Path] | None = None,
    indexer: Background[_Indexed] | None = None,
    browser: _BrowserJob | None = None,
) -> None:
    """Render and swap in the site, with the browser's search index (made by `indexer`, the
    indexing child, from `browser`) and the covers."""
    from devcasts.publish.feeds import write_feeds
    from devcasts.site.content_pages import load_content_pages
    from devcasts.site.out_guard import MARKER
    from devcasts.site.render import render_site
    from devcasts.site.writer import site_transaction

    # The last build's sizes describe the site it left; a site that is gone (the Pages workflow
    # keeps .cache/ but not site/) is measured by a walk instead.
    site_was_there = (options.out_dir / MARKER).is_file()
    started = time.perf_counter()
    with site_transaction(options.out_dir, mark_site=True) as writer:
        report.timings["site staging"] = time.perf_counter() - started
        with timer.stage("render"):
            content = load_content_pages(config.content_dir, config.site.base_path)
            render_site(catalog, config, writer, content, art=artwork)
        with timer.stage("artwork"):
            _write_art(writer, art_files or {})
        index_state = None
        indexed = None
        if indexer is not None:
            with timer.stage("index (waiting)"):
                indexed = indexer.result()
            report.timings["index"] = indexed.seconds
            report.timings["browser index (child)"] = indexed.browser_seconds
            report.timings["feeds (child)"] = indexed.feeds_seconds
        with timer.stage("feeds"):  # the indexing child found and built the changed ones
            write_feeds(catalog, writer, indexed.feeds if indexed is not None else None)
        if indexed is not None and indexed.browser is not None and browser is not None:
            with timer.stage("browser index"):
                index_state = _write_browser_index(
                    lambda: browser.run(catalog, from_scratch=True),
                    indexed.browser,
                    writer,
                    report,
                )
        else:  # the last build's stays, as it was (and so does its state)
            from devcasts.site import urls

            writer.keep_folder(urls.SEARCH_INDEX_DIR)
        body_done = time.perf_counter()
    report.timings["site swap"] = time.perf_counter() - body_done
    if index_state is not None:  # only now do the files it describes exist on the site
        from devcasts.util.atomic import replace_file

        with timer.stage("browser index"):
            path = _browser_index_state_path(options)
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(path, index_state)
    with timer.stage("site size"):
        _measure_site(options.out_dir, report, state, writer.bytes_delta, site_was_there)
    report.pages_written = len(writer.changed)
    report.pages_unchanged = len(writer.seen) - len(writer.changed)
    report.files_removed = len(writer.removed)


def _browser_index_state_path(options: BuildOptions) -> Path:
    return options.cache_dir / "browser-index" / "state.json"


def _write_browser_index(
    redo: Callable[[], _BrowserFiles],
    update: _BrowserFiles,
    writer: SiteWriter,
    report: BuildReport,
) -> bytes:
    """Write what the browser index's update (made by the indexing child from the last
    build's state and the live site's files) changed, keep the rest; the state to save once
    the site is swapped in. A build that fails keeps the previous state: it still describes
    the live site."""
    missing = [relpath for relpath in update.kept if not writer.keep_existing(relpath)]
    if missing:  # a file it did not read is gone from the site: build it all again
        update = replace(redo(), reason=f"{missing[0]} is missing")
    for relpath, data in update.written.items():
        writer.write(relpath, data)
    if update.rebuilt:
        log.info("browser search index built from scratch: %s", update.reason)
    else:
        log.info(
            "browser search index updated: %d documents indexed again, %d files written",
            update.readded,
            len(update.written),
        )
    report.browser_index_readded = update.readded
    report.browser_index_written = len(update.written)
    report.browser_index_rebuilt = update.reason
    return update.state


def _measure_site(
    out_dir: Path,
    report: BuildReport,
    state: BuildState,
    delta: dict[str, int],
    site_was_there: bool = True,
) -> None:
    """The site's size in the report, and a warning when it nears GitHub Pages' limit: the
    last build's sizes and what this one wrote and removed, or a walk when they are unknown
    or describe a site that is no longer there."""
    from devcasts.site.size import SiteSize, measure

    if state.site_folders and site_was_there:
        folders = dict(state.site_folders)
        for name, change in delta.items():
            folders[name] = folders.get(name, 0) + change
        size = SiteSize.of({name: bytes_ for name, bytes_ in folders.items() if bytes_ > 0})
    else:
        size = measure(out_dir)
    state.site_folders = dict(size.by_folder)
    report.site_bytes = size.total
    report.site_folders = size.by_folder
    if (warning := size.warning()) is not None:
        log.warning("%s", warning)


# --- covers -----------------------------------------------------------------------------------


def _artwork(
    config: Config,
    options: BuildOptions,
    catalog: Catalog,
    now: datetime,
    report: BuildReport,
    state: BuildState,
) -> tuple[Artwork, dict[str, Path]]:
    """Fetch the covers the site shows (when due; offline, the kept copies), make their
    resized copies (or take them from the cache), and say which site file comes from which
    cached file."""
    from devcasts.fetch.sidecar import FileRequest, fetch_linked_files
    from devcasts.site import artwork, templates

    wanted = artwork.wanted_images(catalog)
    sidecar = _linked_file_options(
        options,
        "art-sources",
        accept=ART_ACCEPT,
        max_bytes=artwork.MAX_SOURCE_BYTES,
        check_body=artwork.image_problem,
    )
    requests = [FileRequest(url, ART_REFRESH) for url in wanted]
    fetched = fetch_linked_files(requests, sidecar, now)
    state.note_art_due(fetched.next_due)  # offline, what was due stays due
    fallback = templates.static_files(config.templates_dir)["cover.png"].read_bytes()
    store = artwork.ArtStore(options.cache_dir)
    prepared = store.prepare({url: f.body for url, f in fetched.files.items()}, fallback)
    shown = prepared.artwork.by_url
    new = {url for url, f in fetched.files.items() if f.asked and f.error is None}
    broken = {url for url, f in fetched.files.items() if f.error} | set(prepared.failed)
    report.art_fetched = len(new & shown.keys())
    report.art_kept = len(shown.keys() - new)
    report.art_failed = len(broken - shown.keys())
    report.art_waiting = len(fetched.files.keys() - shown.keys() - broken)  # none kept yet
    for url, problem in sorted(prepared.failed.items()):
        log.info("cover %s not used: %s", url, problem)
    files = store.site_files(prepared.artwork)
    if prepared.artwork.touch_icon:
        from devcasts.site import urls

        files[urls.apple_touch_icon()] = store.touch_icon_file(prepared.artwork)
    report.art_bytes = artwork.total_bytes(list(files.values()))
    if report.art_bytes > artwork.ART_BYTES_BUDGET:
        log.warning(
            "covers weigh %d bytes, over their budget of %d (site/artwork.py)",
            report.art_bytes,
            artwork.ART_BYTES_BUDGET,
        )
    return prepared.artwork, files


def _write_art(writer: SiteWriter, files: dict[str, Path]) -> None:
    """Copies are named by their source's bytes: one already on the site is the same file
    (the touch icon's name is fixed: it is compared)."""
    from devcasts.site import urls

    for relpath, cached in sorted(files.items()):
        named_by_content = relpath.startswith(urls.ART_DIR + "/")
        if not (named_by_content and writer.keep_existing(relpath)):
            writer.write(relpath, cached.read_bytes())
