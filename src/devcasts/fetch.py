"""Fetch feeds over HTTP (the only module that touches the network) and keep the HTTP cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .model import FeedSource, FetchResult


@dataclass(frozen=True, slots=True)
class FetchOptions:
    cache_dir: Path
    offline: bool = False  # no network: last good copies only (status DEFERRED)
    allow_private_network: bool = False
    max_bytes: int = 20 * 1024 * 1024  # counted after decompression
    concurrency: int = 8  # global; one request at a time per host
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    deadline: float = 30.0  # whole fetch of one feed, redirects included
    max_redirects: int = 5
    progress: bool | None = None  # None: a progress bar when stderr is a terminal


def fetch_all(
    sources: Sequence[FeedSource], options: FetchOptions, now: datetime | None = None
) -> list[FetchResult]:
    """Fetch every source; one result per source, in the same order. Never raises per feed."""
    raise NotImplementedError
