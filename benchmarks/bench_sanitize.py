"""Sanitizing hostile show notes: the worst nesting shapes, beside their targets.

    python benchmarks/bench_sanitize.py             # each shape at about 256 KiB
    python benchmarks/bench_sanitize.py --kib 1024 --repeat 5

Prints, for each shape, the CPU seconds of notes_to_html (the best of --repeat runs: other
work on the machine only ever adds time), the published depth and size, and the seconds a
20 MiB feed of such notes would take at that rate (target: under 10 s).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from devcasts.ingest.sanitize import MAX_DEPTH, notes_to_html

FEED_BYTES = 20 * 1024 * 1024
TARGET_FEED_SECONDS = 10.0


def shapes(size: int) -> dict[str, str]:
    def repeat(unit: str) -> str:
        return unit * (size // len(unit))

    numbered = "".join(f"<p><b title={i}>x</p>" for i in range(size // 24))
    links = "".join(f"<em title={i}><a href=/x{i}>y" for i in range(size // 30))
    return {
        "<div>": repeat("<div>"),
        "<b><i>": repeat("<b><i>") + "x",
        "<ul><li>": repeat("<ul><li>") + "x",
        "<blockquote>x": repeat("<blockquote>x"),
        "<div><b>x": repeat("<div><b>x"),
        "<table><tr><td>x": repeat("<table><tr><td>x"),
        "<p><b title=N>x</p>": numbered,
        "<em title=N><a href>y": links,
        "<div (unclosed)": repeat("<div "),
        "<!-- (unclosed)": repeat("<!--"),
        "<b many attributes>": "<b " + repeat(" a=1") + ">x",
        "<div>...</div>": repeat("<div>") + "x" + repeat("</div>"),
    }


_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")


def depth(sanitized: str) -> int:
    current = deepest = 0
    for match in _TAG.finditer(sanitized):
        if match.group(2) not in ("br", "img"):
            current += -1 if match.group(1) else 1
            deepest = max(deepest, current)
    return deepest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=256, help="size of each shape's notes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per shape; the best counts")
    arguments = parser.parse_args()
    size = arguments.kib * 1024
    print(f"{'shape':24} {'KiB':>6} {'CPU s':>7} {'depth':>6} {'out KiB':>8} {'20 MiB feed s':>14}")
    worst = 0.0
    for name, notes in shapes(size).items():
        seconds = float("inf")
        for _ in range(max(1, arguments.repeat)):
            started = time.process_time()
            published = notes_to_html(notes, "https://example.org/")
            seconds = min(seconds, time.process_time() - started)
        feed_seconds = seconds * FEED_BYTES / len(notes)
        worst = max(worst, feed_seconds)
        print(
            f"{name:24} {len(notes) / 1024:6.0f} {seconds:7.3f} {depth(published):6d}"
            f" {len(published) / 1024:8.0f} {feed_seconds:14.1f}"
        )
    print(
        f"depth target <= {MAX_DEPTH}; worst 20 MiB feed {worst:.1f} s (target < {TARGET_FEED_SECONDS:.0f} s)"
    )


if __name__ == "__main__":
    main()
