"""Parse and normalize speed on the benchmark's synthetic feeds, without HTTP or the sinks.

    python benchmarks/bench_normalize.py --feeds 20 --episodes 50
    python benchmarks/bench_normalize.py --feeds 200 --episodes 100 --workers 2
    python benchmarks/bench_normalize.py --profile      # pyinstrument, when installed
    python benchmarks/bench_normalize.py --cpu          # CPU seconds: steadier on a busy machine

Prints MB/s and milliseconds per episode for each stage. With --workers N it also times a
process pool (fork, N workers, one feed per task, NormalizedFeed objects sent back) against the
serial loop on the same bodies, so the two figures come from the same machine state.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from devcasts.ingest.normalize import normalize_feed  # noqa: E402
from devcasts.ingest.parse import parse_feed  # noqa: E402
from devcasts.model import FeedSource, Topic  # noqa: E402
from devcasts.records import NormalizedFeed  # noqa: E402

NOW = datetime(2030, 1, 1, tzinfo=UTC)
TOPICS = tuple(
    Topic(name.lower().replace(".", ""), name, (name,))
    for name in ("Heroku", "Fly.io", "Render", "Railway", "Vercel", "Netlify", "Kubernetes", "AWS")
)
HEADERS = {"content-type": "application/rss+xml"}


def source(index: int) -> FeedSource:
    return FeedSource(url=f"http://127.0.0.1:8000/show{index:03d}.xml", slug=f"show{index:03d}")


def parse_and_normalize(job: tuple[int, bytes]) -> NormalizedFeed:
    index, body = job
    feed_source = source(index)
    parsed = parse_feed(body, HEADERS, feed_source.url)
    return normalize_feed(feed_source, parsed, TOPICS, NOW, feed_source.url)


def serial(bodies: list[bytes], clock: Callable[[], float]) -> tuple[float, float, int]:
    """Seconds (of `clock`) spent in parse and in normalize, and the number of episodes."""
    parse_seconds = normalize_seconds = 0.0
    episodes = 0
    for index, body in enumerate(bodies):
        feed_source = source(index)
        started = clock()
        parsed = parse_feed(body, HEADERS, feed_source.url)
        parsed_at = clock()
        result = normalize_feed(feed_source, parsed, TOPICS, NOW, feed_source.url)
        normalize_seconds += clock() - parsed_at
        parse_seconds += parsed_at - started
        episodes += len(result.episodes)
    return parse_seconds, normalize_seconds, episodes


def pooled(bodies: list[bytes], workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        results = pool.map(parse_and_normalize, enumerate(bodies), chunksize=1)
    return time.perf_counter() - started, sum(len(r.episodes) for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--cpu", action="store_true", help="CPU time of this process (a busy machine's figure)"
    )
    parser.add_argument("--work", type=Path, default=HERE / "out" / "bench-normalize")
    args = parser.parse_args()

    bodies = [path.read_bytes() for path in generate(args.work, args.feeds, args.episodes)]
    megabytes = sum(len(body) for body in bodies) / 1e6
    profiler = None
    if args.profile:
        import pyinstrument

        profiler = pyinstrument.Profiler(interval=0.0005)
        profiler.start()
    started = time.perf_counter()
    clock = time.process_time if args.cpu else time.perf_counter
    parse_seconds, normalize_seconds, episodes = serial(bodies, clock)
    serial_seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(color=False))
    print(
        f"{args.feeds} feeds x {args.episodes} episodes, {megabytes:.1f} MB: "
        f"parse {parse_seconds:.2f} s ({megabytes / parse_seconds:.1f} MB/s, "
        f"{parse_seconds / episodes * 1000:.3f} ms/episode), "
        f"normalize {normalize_seconds:.2f} s ({normalize_seconds / episodes * 1000:.3f} "
        f"ms/episode); serial total {serial_seconds:.2f} s"
    )
    if args.workers:
        pool_seconds, pooled_episodes = pooled(bodies, args.workers)
        assert pooled_episodes == episodes
        print(
            f"process pool, {args.workers} workers (fork): {pool_seconds:.2f} s "
            f"against {serial_seconds:.2f} s serial ({serial_seconds / pool_seconds:.2f}x)"
        )


if __name__ == "__main__":
    main()
