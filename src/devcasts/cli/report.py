"""The build summary: printed at the end of a build and, for CI, written as Markdown."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from devcasts.model import Config, FeedHealth, FetchStatus
from devcasts.pipeline import BuildReport
from devcasts.site.artwork import ART_BYTES_BUDGET


def summary_line(report: BuildReport) -> str:
    counts = Counter(h.status.value for h in report.health)
    statuses = ", ".join(f"{counts[s.value]} {s.value}" for s in FetchStatus if counts[s.value])
    if report.up_to_date:
        return f"{len(report.health)} feeds ({statuses}); nothing new, site up to date"
    # The archive counts an episode once per feed; the site shows one published by two feeds
    # (or hidden by an override) once (or not at all), so the two numbers may differ.
    return (
        f"{len(report.health)} feeds ({statuses}); {report.episodes} episodes on the site "
        f"({report.new_episodes} new, {report.updated_episodes} updated in the archive); "
        f"{report.pages_written} files written, {report.pages_unchanged} unchanged, "
        f"{report.files_removed} removed; {art_line(report)}{_transcripts(report)}"
    )


def art_line(report: BuildReport) -> str:
    """Covers: how many images were fetched, came from the cache or failed, and the art/
    folder's weight against its budget."""
    return (
        f"covers: {report.art_fetched} fetched, {report.art_kept} kept, "
        f"{report.art_failed} failed, {report.art_waiting} not fetched yet; "
        f"art/ {_mib(report.art_bytes)} of {_mib(ART_BYTES_BUDGET)}"
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _transcripts(report: BuildReport) -> str:
    if not report.transcripts_shown:
        return ""
    return f"; {report.transcripts_shown} transcripts shown ({report.transcript_bytes:,} bytes)"


def print_report(
    report: BuildReport, config: Config, *, quiet: bool = False, out: TextIO | None = None
) -> None:
    """Print problems always; the summary unless quiet. Problems name the feed and the reason."""
    out = out or sys.stderr
    for health in report.health:
        if health.status in (FetchStatus.FAILED, FetchStatus.GONE):
            print(
                f"{health.status.value}: {health.title} <{health.url}>: {health.reason}", file=out
            )
        if health.moved_to:
            print(_moved_message(health, config), file=out)
    if not quiet:
        print(summary_line(report), file=out)


def _moved_message(health: FeedHealth, config: Config) -> str:
    """A permanent redirect is followed quietly at first; once it repeats, the user is asked to
    update feeds.yaml (a single 301 may be a mistake the publisher undoes)."""
    if health.moved_count < 2:
        return f"moved: {health.title} redirects permanently to {health.moved_to} (followed)"
    line = next((f.line for f in config.feeds if f.slug == health.slug), 0)
    return (
        f"moved: {health.title} now lives at {health.moved_to} "
        f"({health.moved_count} builds in a row); update its url in {config.path}:{line}"
    )


def summary_markdown(report: BuildReport) -> str:
    rows = ["| feed | status | episodes | new | reason |", "|---|---|---:|---:|---|"]
    for h in sorted(report.health, key=_problems_first):
        reason = (h.reason or "").replace("|", "\\|").replace("\n", " ")
        if h.moved_to:
            reason = f"{reason} moved to {h.moved_to}".strip()
        title = h.title.replace("|", "\\|")
        rows.append(f"| {title} | {h.status.value} | {h.episodes} | {h.new_episodes} | {reason} |")
    return f"### devcasts build\n\n{summary_line(report)}\n\n" + "\n".join(rows) + "\n"


def write_summary_markdown(report: BuildReport, path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(summary_markdown(report))


def report_json(report: BuildReport) -> dict[str, object]:
    return {
        "up_to_date": report.up_to_date,
        "episodes": report.episodes,
        "new_episodes": report.new_episodes,
        "updated_episodes": report.updated_episodes,
        "parsed_feeds": report.parsed_feeds,
        "files_written": report.pages_written,
        "files_unchanged": report.pages_unchanged,
        "files_removed": report.files_removed,
        "site": {"bytes": report.site_bytes, "folders": dict(report.site_folders)},
        "art": {
            "fetched": report.art_fetched,
            "kept": report.art_kept,
            "failed": report.art_failed,
            "waiting": report.art_waiting,
            "bytes": report.art_bytes,
            "budget_bytes": ART_BYTES_BUDGET,
        },
        "transcripts_shown": report.transcripts_shown,
        "transcript_bytes": report.transcript_bytes,
        "browser_index": {
            "documents_indexed": report.browser_index_readded,
            "files_written": report.browser_index_written,
            "built_from_scratch": report.browser_index_rebuilt,
        },
        "seconds": {name: round(value, 4) for name, value in sorted(report.timings.items())},
        "feeds": [
            {
                "slug": h.slug,
                "title": h.title,
                "url": h.url,
                "status": h.status.value,
                "reason": h.reason,
                "episodes": h.episodes,
                "new_episodes": h.new_episodes,
                "moved_to": h.moved_to,
            }
            for h in report.health
        ],
    }


def write_report_json(report: BuildReport, path: Path) -> None:
    path.write_text(json.dumps(report_json(report), indent=2) + "\n", encoding="utf-8")


def _problems_first(health: FeedHealth) -> tuple[int, str]:
    order = {FetchStatus.FAILED: 0, FetchStatus.GONE: 1, FetchStatus.DEFERRED: 2}
    return (order.get(health.status, 3), health.title.lower())
