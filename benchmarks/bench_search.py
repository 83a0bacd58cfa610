"""Search benchmark: index build and update times, search latency, index size.

    python benchmarks/bench_search.py [--episodes 20000] [--processes 100] [--json]
    python benchmarks/bench_search.py --browser-index [--episodes N | --corpus SITE_DIR]

`--browser-index` measures the in-browser index instead (at 4,565 and 20,000 episodes unless
told): its build, its files, what one new episode changes, and a visitor's first searches in
Node (`browser_queries.py`).

`run_search_benchmark()` is the entry point other benchmark scripts call; it returns a dict of
measurements (seconds and bytes) and cleans up its scratch directory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]

import browser_queries  # noqa: E402
import query_mixes  # noqa: E402
from whoosh.analysis.filters import STOP_WORDS  # noqa: E402

from devcasts.model import SiteConfig, Topic  # noqa: E402
from devcasts.records import Catalog, Episode, Person, Podcast  # noqa: E402
from devcasts.search.searcher import SearchRequest, search  # noqa: E402
from devcasts.search.writer import update_index  # noqa: E402

_PLATFORM_TEXT = """
heroku fly render railway vercel netlify kubernetes dokku aws lambda postgres redis deploy
deployment release rollback canary cluster container image buildpack dyno edge serverless
function cache queue worker latency outage incident postmortem pipeline runner migration
database index replica region terraform helm operator ingress proxy certificate domain dns
observability tracing metrics logs alert budget cost billing
"""
PLATFORM_WORDS = _PLATFORM_TEXT.split()
_SYLLABLE_TEXT = (
    "ka lo mi ne ru sa ti vo be da fe gi ho ju ky la mo ni pe qu ri so tu ve wa xe yo ze"
)
SYLLABLES = _SYLLABLE_TEXT.split()


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    """Invented words ranked by how often they are used; platform names sit in the middle
    ranks (in a few percent of episodes each), as they do in real show notes."""
    words = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(size * 2)})
    words = [w for w in words if w not in PLATFORM_WORDS][:size]
    rng.shuffle(words)
    for rank, word in enumerate(PLATFORM_WORDS):
        words.insert(150 + 25 * rank, word)
    return words


def synthetic_catalog(episodes: int, seed: int = 7, podcasts: int = 40, start: int = 0) -> Catalog:
    """`episodes` invented episodes with about 1.5 KB of show notes each, deterministic."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))  # Zipf
    shows = [
        Podcast(slug=f"show-{n}", title=f"Show {n}", feed_url=f"{n}.xml") for n in range(podcasts)
    ]
    topics = tuple(Topic(w, w.title(), (w,)) for w in PLATFORM_WORDS[:9])
    rng = random.Random(seed + start)
    items = []
    first = datetime(2015, 1, 1, tzinfo=UTC)
    for number in range(start, start + episodes):
        words = rng.choices(vocabulary, cum_weights=cumulative, k=195)
        text = " ".join(words)
        title = " ".join(rng.choices(vocabulary[:400], k=6)).capitalize()
        items.append(
            Episode(
                id=f"ep{number:06d}",
                podcast=shows[number % podcasts].slug,
                guid=str(number),
                title=title,
                published=first + timedelta(hours=3 * number),
                summary=text[:280],
                text=text,
                duration=600 + number % 4000,
                people=(Person(name=f"Host {number % 97}", slug=f"host-{number % 97}"),),
                language="en",
                topics=tuple(t.slug for t in topics if t.slug in words[:40]),
                content_hash=f"h{number}",
                slug=f"episode-{number}",
            )
        )
    items.sort(key=lambda e: e.published, reverse=True)
    return Catalog(
        site=SiteConfig(title="bench", base_url="https://example.org/devcasts/"),
        topics=topics,
        podcasts=tuple(shows),
        episodes=tuple(items),
    )


def _queries(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    vocabulary = _vocabulary(random.Random(7))
    forms = [
        lambda: rng.choice(PLATFORM_WORDS),
        lambda: f"{rng.choice(PLATFORM_WORDS)} {rng.choice(PLATFORM_WORDS)}",
        lambda: f'"{rng.choice(vocabulary[:300])} {rng.choice(vocabulary[:300])}"',
        lambda: f"{rng.choice(PLATFORM_WORDS)} NOT {rng.choice(PLATFORM_WORDS)}",
        lambda: rng.choice(vocabulary[200:2000]),
        lambda: f"{rng.choice(vocabulary[:150])} {rng.choice(PLATFORM_WORDS)}",
    ]
    return [rng.choice(forms)() for _ in range(count)]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _cpu_seconds() -> float:
    """User and system time of this process and its finished children: on a shared machine
    this moves less than wall time when others are busy."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb() -> int:
    """The largest resident set of this process or any child it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) // 1024


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def run_search_benchmark(
    episodes: int = 20_000, new_episodes: int = 100, processes: int = 100, queries: int = 100
) -> dict[str, Any]:
    """Build, update and query an index of synthetic episodes; return the measurements."""
    catalog = synthetic_catalog(episodes)
    with tempfile.TemporaryDirectory(prefix="devcasts-bench-") as scratch:
        cache = Path(scratch)
        index_dir = cache / "index"
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        update_index(catalog, index_dir)
        build = time.perf_counter() - started
        build_cpu = _cpu_seconds() - cpu_started

        grown = _grown(catalog, synthetic_catalog(new_episodes, start=episodes))
        started = time.perf_counter()
        report = update_index(grown, index_dir)
        update = time.perf_counter() - started
        assert report.added == new_episodes and not report.rebuilt

        started = time.perf_counter()
        unchanged = update_index(grown, index_dir)
        noop = time.perf_counter() - started
        assert unchanged.added == unchanged.updated == 0

        in_process = []
        for text in _queries(queries):
            started = time.perf_counter()
            search(index_dir, SearchRequest(text))
            in_process.append(time.perf_counter() - started)

        whole = _process_latencies(cache, _queries(processes, seed=13))
        return {
            "episodes": episodes,
            "index_build_s": round(build, 2),
            "index_build_cpu_s": round(build_cpu, 2),
            "peak_rss_mb": _peak_rss_mb(),
            "update_new_s": round(update, 2),
            "new_episodes": new_episodes,
            "update_unchanged_s": round(noop, 2),
            "index_bytes": _size(index_dir),
            "search_in_process_p50_ms": round(1000 * statistics.median(in_process), 1),
            "search_in_process_p95_ms": round(1000 * _percentile(in_process, 0.95), 1),
            "search_process_p50_ms": round(1000 * statistics.median(whole), 1),
            "search_process_p95_ms": round(1000 * _percentile(whole, 0.95), 1),
        }


def _process_latencies(cache: Path, texts: list[str]) -> list[float]:
    """Each query as its own `python build.py search` process."""
    entry = [str(ROOT / "build.py"), "search"]
    # Bytecode cached as an installed devcasts would have it (in the scratch folder, even
    # where PYTHONDONTWRITEBYTECODE is set); the first, untimed run writes it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(ROOT / "src"), "PYTHONPYCACHEPREFIX": str(cache / "pycache")}
    latencies = []
    for text in [texts[0], *texts]:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, *entry, text, "--json", "--cache", str(cache)],
            capture_output=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
        latencies.append(time.perf_counter() - started)
    return latencies[1:]


def _grown(catalog: Catalog, fresh: Catalog) -> Catalog:
    """`catalog` with `fresh`'s episodes published after all of its own."""
    return Catalog(
        site=catalog.site,
        topics=catalog.topics,
        podcasts=catalog.podcasts,
        episodes=fresh.episodes + catalog.episodes,
    )


def _reset_peak_rss() -> int:
    """Start a new peak of resident memory (Linux: VmHWM) and return the current one in MB,
    so a peak measured next is the built index's, not the catalog generator's."""
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    return _proc_status_mb("VmRSS")


def _proc_status_mb(key: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    raise LookupError(key)


def broad_words(catalog: Catalog, count: int = 30) -> list[str]:
    """The `count` show-notes words (over three letters, no stop words) found in the most
    episodes: as `run.py` picks the words of its broad pairs from the whoosh index (in the
    synthetic catalog each is in more than half of the episodes; in real notes, fewer)."""
    documents: Counter[str] = Counter()
    for episode in catalog.episodes:
        documents.update(set(episode.text.lower().split()))
    usable = [
        (word, n)
        for word, n in documents.most_common()
        if len(word) > 3 and word.isalpha() and word not in STOP_WORDS
    ]
    return sorted(word for word, _ in usable[:count])


def corpus_catalog(folder: Path) -> Catalog:
    """The catalog of a site's folder (its feeds.yaml and content/archive/), read only."""
    from devcasts.archive.files import load_archive
    from devcasts.catalog.build import build_catalog
    from devcasts.catalog.overrides import load_overrides
    from devcasts.config.load import load_config

    config = load_config(folder / "feeds.yaml")
    archive = load_archive(config.content_dir)
    return build_catalog(archive, config, load_overrides(config.content_dir))


def run_browser_index_benchmark(
    episodes: int = 20_000, queries: int = 100, corpus: Path | None = None
) -> dict[str, Any]:
    """The in-browser index of `episodes` synthetic episodes (or of a real site's archive):
    its build from scratch, its files, what one new episode changes, and (in Node, when
    installed) what a visitor's first search fetches and how long the engine takes."""
    from devcasts.search.browser_index import build_browser_index

    catalog = synthetic_catalog(episodes) if corpus is None else corpus_catalog(corpus)
    rss_before = _reset_peak_rss()
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    first = build_browser_index(catalog)
    build, build_cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    peak = _proc_status_mb("VmHWM")

    grown = _grown(catalog, _one_new_episode(catalog))
    started = time.perf_counter()
    second = build_browser_index(grown)
    one_new = time.perf_counter() - started
    changed = {p for p, data in second.files.items() if first.files.get(p) != data}
    changed |= set(first.files) - set(second.files)  # removed files count as changed
    with tempfile.TemporaryDirectory(prefix="devcasts-bench-") as scratch:
        incremental = _incremental_update(first, grown, second.files, Path(scratch))
    assert incremental.pop("same_bytes_as_from_scratch"), "the update differs from a full build"
    sizes = {path: len(data) for path, data in first.files.items()}
    largest = max(sizes, key=sizes.__getitem__)
    result: dict[str, Any] = {
        "episodes": len(catalog.episodes),
        "browser_index_build_s": round(build, 2),
        "browser_index_build_cpu_s": round(build_cpu, 2),
        "browser_index_one_new_s": round(one_new, 2),
        "browser_index_peak_rss_mb": peak,
        "browser_index_peak_rss_added_mb": peak - rss_before,
        "browser_index_bytes": first.size,
        "browser_index_files": len(first.files),
        "browser_index_largest_file": largest,
        "browser_index_largest_bytes": sizes[largest],
        "one_new_changed_files": len(changed),
        "one_new_changed_bytes": sum(len(second.files.get(p, b"")) for p in changed),
        "one_new_changed_by_kind": _count_by_kind(changed),
        **incremental,
    }
    if browser_queries.node_available():
        mixes = _browser_mixes(catalog, queries, synthetic=corpus is None)
        with tempfile.TemporaryDirectory(prefix="devcasts-bench-") as scratch:
            browser_queries.write_index(first.files, Path(scratch))
            result["browser_queries"] = browser_queries.measure(Path(scratch), mixes)
    return result


def _incremental_update(
    first: Any, grown: Catalog, from_scratch: dict[str, bytes], scratch: Path
) -> dict[str, Any]:
    """One new episode as a build does it: the previous build's files and state on disk, the
    state loaded, the index updated from it, its changed files and new state written."""
    from devcasts.search.browser_index import update_browser_index
    from devcasts.search.browser_state import IndexState

    site = scratch / "site"
    browser_queries.write_index(first.files, site)
    state_file = scratch / "state.json"
    state_file.write_bytes(first.state.to_bytes())

    def read(path: str) -> bytes | None:
        try:
            return (site / path).read_bytes()
        except OSError:
            return None

    started, cpu_started = time.perf_counter(), _cpu_seconds()
    state = IndexState.from_bytes(state_file.read_bytes())
    loaded = time.perf_counter() - started
    update = update_browser_index(grown, {}, state, read)
    updated = time.perf_counter() - started - loaded
    for path, data in update.written.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(data)
    for path in set(first.files) - set(update.kept) - set(update.written):
        (site / path).unlink()
    state_file.write_bytes(update.state.to_bytes())
    total, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    after = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    return {
        "one_new_incremental_s": round(total, 3),
        "one_new_incremental_cpu_s": round(cpu, 3),
        "one_new_incremental_update_s": round(updated, 3),
        "one_new_incremental_rebuilt": update.reason,
        "one_new_incremental_files_written": len(update.written),
        "one_new_incremental_bytes_written": sum(len(d) for d in update.written.values()),
        "state_bytes": state_file.stat().st_size,
        "state_load_s": round(loaded, 3),
        "same_bytes_as_from_scratch": after == from_scratch,
    }


def _one_new_episode(catalog: Catalog) -> Catalog:
    """A copy of the newest episode, published an hour after it: as many words, and as
    common, as a real new episode brings."""
    newest = catalog.episodes[0]
    assert newest.published is not None
    episode = replace(
        newest,
        id=f"{newest.id}-again",
        guid=f"{newest.guid}-again",
        slug=f"{newest.slug}-again",
        published=newest.published + timedelta(hours=1),
        content_hash=f"{newest.content_hash}-again",
    )
    return replace(catalog, episodes=(episode,))


def _count_by_kind(paths: set[str]) -> dict[str, int]:
    """search-index/t/ab.bin -> "t", search-index/meta.json -> "meta.json"."""
    kinds = Counter(path.split("/")[1] for path in paths)
    return dict(sorted(kinds.items()))


def _browser_mixes(catalog: Catalog, count: int, synthetic: bool) -> dict[str, list[str]]:
    """`run.py`'s two mixes over this catalog, with this benchmark's own queries for the
    synthetic catalog or the judged queries for a real one."""
    daily = query_mixes.everyday(count)
    broad = query_mixes.pairs(broad_words(catalog), count // 2)
    own = {"bench_search queries": _queries(count)} if synthetic else _judged_queries()
    return own | {
        "everyday queries": daily,
        "half broad pairs": query_mixes.half_broad(daily, broad),
    }


def _judged_queries() -> dict[str, list[str]]:
    import yaml

    judged = ROOT / "tests" / "data" / "search" / "judged_corpus.yaml"
    entries = yaml.safe_load(judged.read_text(encoding="utf-8"))["queries"]
    return {"judged corpus queries": [entry["query"] for entry in entries]}


def _print_browser_index(result: dict[str, Any]) -> None:
    figures = result.pop("browser_queries", None)
    for key, value in result.items():
        print(f"{key:34} {value}")
    if figures is None:
        print("browser search queries: not measured (node is not installed)")
        return
    print(f"browser search over {result['episodes']:,} episodes (targets for 4,565):")
    for line in browser_queries.report_lines(figures):
        print(line)


BROWSER_INDEX_SIZES = (4_565, 20_000)  # the site, and the benchmark's usual archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--episodes",
        type=int,
        help="20,000; with --browser-index, 4,565 and then 20,000",
    )
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--processes", type=int, default=100)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--corpus",
        type=Path,
        help="with --browser-index: a built site's folder (feeds.yaml, content/) to index",
    )
    parser.add_argument(
        "--browser-index",
        action="store_true",
        help="measure the in-browser search index instead of the whoosh index",
    )
    args = parser.parse_args()
    if args.browser_index:
        _browser_index_main(args)
        return
    result = run_search_benchmark(args.episodes or 20_000, args.new, args.processes, args.queries)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


def _browser_index_main(args: argparse.Namespace) -> None:
    sizes = [args.episodes] if args.episodes or args.corpus else list(BROWSER_INDEX_SIZES)
    results = [run_browser_index_benchmark(n or 0, args.queries, args.corpus) for n in sizes]
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
        return
    for result in results:
        _print_browser_index(result)


if __name__ == "__main__":
    main()
