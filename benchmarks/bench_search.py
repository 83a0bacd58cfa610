"""Search benchmark: index build and update times, search latency, index size.

    python benchmarks/bench_search.py [--episodes 20000] [--processes 100] [--json]

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
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

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

        fresh = synthetic_catalog(new_episodes, start=episodes)
        grown = Catalog(
            site=catalog.site,
            topics=catalog.topics,
            podcasts=catalog.podcasts,
            episodes=fresh.episodes + catalog.episodes,
        )
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


def _episode_page(episode: Episode, podcast_title: str) -> str:
    day = episode.published.date().isoformat()
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{episode.title}'
        f'</title></head><body><header><a href="/">devcasts</a></header><main>'
        f'<article data-pagefind-body data-pagefind-sort="date:{day}">'
        f'<span data-pagefind-filter="podcast">{podcast_title}</span>'
        f'<h1 data-pagefind-meta="title">{episode.title}</h1>'
        f'<time data-pagefind-meta="date:{day}">{day}</time>'
        + "".join(f'<a data-pagefind-filter="topic">{t}</a>' for t in episode.topics)
        + f"<p>{episode.text}</p></article></main></body></html>"
    )


def run_browser_index_benchmark(pages: int = 20_000) -> dict[str, Any]:
    """Pagefind over `pages` synthetic episode pages (years 2015 on, in yearly shards): the
    first build, one new episode, and a build where nothing changed."""
    from devcasts.search.browser_index import build_browser_index

    catalog = synthetic_catalog(pages)
    titles = {p.slug: p.title for p in catalog.podcasts}
    with tempfile.TemporaryDirectory(prefix="devcasts-bench-") as scratch:
        site, cache = Path(scratch) / "site", Path(scratch) / "cache"
        for episode in catalog.episodes:
            path = site / episode.path / "index.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_episode_page(episode, titles[episode.podcast]), encoding="utf-8")
        first = build_browser_index(site, cache, None)
        newest = catalog.episodes[0]
        extra = Episode(
            id="extra",
            podcast=newest.podcast,
            guid="extra",
            title="One more episode",
            published=newest.published + timedelta(hours=1),
            text=newest.text,
            slug="one-more-episode",
        )
        relpath = extra.path + "index.html"
        (site / relpath).parent.mkdir(parents=True)
        (site / relpath).write_text(_episode_page(extra, titles[extra.podcast]), encoding="utf-8")
        one_new = build_browser_index(site, cache, [relpath])
        unchanged = build_browser_index(site, cache, None)
        return {
            "pages": pages,
            "shards": len(first.shards),
            "pagefind_all_s": first.seconds,
            "pagefind_one_new_s": one_new.seconds,
            "pagefind_one_new_pages": one_new.pages,
            "pagefind_unchanged_s": unchanged.seconds,
            "pagefind_bytes": _size(site / "pagefind"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--processes", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pagefind", action="store_true", help="also time the browser index")
    args = parser.parse_args()
    result = run_search_benchmark(args.episodes, args.new, args.processes)
    if args.pagefind:
        result |= run_browser_index_benchmark(args.episodes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
