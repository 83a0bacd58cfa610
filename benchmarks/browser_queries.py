"""What a visitor's first search costs on the site's search page: the requests and bytes
needed to show the first ten results, and the in-browser engine's time, measured in Node
(`browser_queries.mjs`) over a written search index.

The requests count the page's own files (the HTML, the style sheet, the icon and the three
scripts) and every file the engine fetches from a fresh start, each once.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "src" / "devcasts" / "site" / "theme" / "static"
RUNNER = HERE / "browser_queries.mjs"
PAGE_STATIC = ("style.css", "icon.svg", "search.js", "search-engine.js", "stem.js")
HTML_BYTES = 5_000  # the search page itself, where no built page is at hand
TARGET_REQUESTS = 25  # from the issue, for a site of 4,565 episodes
TARGET_KB = 400


def node_available() -> bool:
    return shutil.which("node") is not None


def page_files(html_bytes: int = HTML_BYTES) -> list[tuple[str, int]]:
    """The search page and the static files it loads, with their sizes."""
    files = [("search/index.html", html_bytes)]
    files += [(f"static/{name}", (STATIC / name).stat().st_size) for name in PAGE_STATIC]
    return files


def write_index(files: dict[str, bytes], site: Path) -> None:
    for relpath, data in files.items():
        path = site / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run_queries(site: Path, mixes: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    """Each query of each mix from a fresh engine over `site`'s search-index/ (see the .mjs)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as queries:
        json.dump(mixes, queries)
        queries.flush()
        done = subprocess.run(
            ["node", str(RUNNER), str(site), str(STATIC / "search-engine.js"), queries.name],
            capture_output=True,
            text=True,
            check=True,
        )
    result: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return result


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summarize(runs: list[dict[str, Any]], page: list[tuple[str, int]]) -> dict[str, Any]:
    """Requests, kilobytes and engine milliseconds of one mix: median, p95 and the worst."""
    page_bytes = sum(size for _, size in page)
    requests = [len(page) + len(run["files"]) for run in runs]
    kilobytes = [(page_bytes + sum(size for _, size in run["files"])) / 1000 for run in runs]
    millis = [run["ms"] for run in runs]
    worst = max(runs, key=lambda run: sum(size for _, size in run["files"]))
    return {
        "queries": len(runs),
        "requests_p50": statistics.median(requests),
        "requests_p95": percentile(requests, 0.95),
        "requests_max": max(requests),
        "kb_p50": round(statistics.median(kilobytes), 1),
        "kb_p95": round(percentile(kilobytes, 0.95), 1),
        "kb_max": round(max(kilobytes), 1),
        "page_kb": round(page_bytes / 1000, 1),
        "kb_by_kind_mean": _bytes_by_kind(runs),
        "engine_ms_p50": round(statistics.median(millis), 1),
        "engine_ms_p95": round(percentile(millis, 0.95), 1),
        "heaviest_query": worst["query"],
        "no_hits": sum(1 for run in runs if not run["hits"]),
    }


def _bytes_by_kind(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Mean kilobytes per query by index file kind (meta, t, d, v, facets, entities)."""
    totals: dict[str, float] = {}
    for run in runs:
        for path, size in run["files"]:
            name = path.removeprefix("/search-index/")
            kind = name.split("/")[0] if "/" in name else name.split(".")[0]
            totals[kind] = totals.get(kind, 0) + size
    return {kind: round(total / len(runs) / 1000, 1) for kind, total in sorted(totals.items())}


def measure(
    site: Path, mixes: dict[str, list[str]], html_bytes: int = HTML_BYTES
) -> dict[str, dict[str, Any]]:
    page = page_files(html_bytes)
    figures = {}
    for mix, runs in run_queries(site, mixes).items():
        figures[mix] = summarize(runs, page) | shard_bytes(site, runs)
    return figures


def shard_bytes(site: Path, runs: list[dict[str, Any]]) -> dict[str, float]:
    """The term shards' kilobytes per query, stored and uncompressed (mean): how much of the
    stored figure the index's compression takes off. Generated notes repeat far more than
    real ones, so on the benchmark's text it takes off far more than on a real archive's."""
    stored, inflated = [], []
    for run in runs:
        shards = [path for path, _ in run["files"] if "/t/" in path]
        data = [(site / path.lstrip("/").split("?")[0]).read_bytes() for path in shards]
        stored.append(sum(map(len, data)) / 1000)
        inflated.append(sum(len(zlib.decompress(d)) for d in data) / 1000)
    return {
        "shards_kb_mean": round(statistics.mean(stored), 1) if runs else 0.0,
        "shards_uncompressed_kb_mean": round(statistics.mean(inflated), 1) if runs else 0.0,
        "shards_uncompressed_kb_max": round(max(inflated, default=0.0), 1),
    }


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def report_lines(figures: dict[str, dict[str, Any]]) -> list[str]:
    """Each mix's figures beside the targets, judged on the worst query."""
    lines = []
    for mix, f in figures.items():
        lines.append(
            f"browser search, {mix} ({f['queries']} queries; heaviest {f['heaviest_query']!r})"
        )
        lines.append(
            f"  requests for the first results: p50 {f['requests_p50']:.0f}, "
            f"p95 {f['requests_p95']:.0f}, max {f['requests_max']} "
            f"(target <= {TARGET_REQUESTS}: {verdict(f['requests_max'], TARGET_REQUESTS)})"
        )
        lines.append(
            f"  KB for the first results:       p50 {f['kb_p50']:.0f}, p95 {f['kb_p95']:.0f}, "
            f"max {f['kb_max']:.0f} (target <= {TARGET_KB}: {verdict(f['kb_max'], TARGET_KB)}); "
            f"page {f['page_kb']:.0f} KB, index files by kind (mean KB) {f['kb_by_kind_mean']}"
        )
        if "shards_kb_mean" in f:
            lines.append(
                f"  term shards per query, mean:    {f['shards_kb_mean']:.0f} KB stored, "
                f"{f['shards_uncompressed_kb_mean']:.0f} KB uncompressed (max "
                f"{f['shards_uncompressed_kb_max']:.0f} KB); real notes compress less "
                "than generated ones (RESULTS.md)"
            )
        lines.append(
            f"  engine time, fresh engine:      p50 {f['engine_ms_p50']:.1f} ms, "
            f"p95 {f['engine_ms_p95']:.1f} ms (no target)"
        )
    return lines
