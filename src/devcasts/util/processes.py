"""Whether this process may fork workers, and onto how many cores (one answer for every stage
that forks: the parse pool, the indexer, its segment writers, the page writer)."""

from __future__ import annotations

import os
import threading


def fork_is_safe() -> bool:
    """fork exists and no other thread runs: a child would inherit the locks another thread
    held at the fork, never to be released."""
    return hasattr(os, "fork") and threading.active_count() == 1


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system keeps one (a
    container or `taskset` may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
