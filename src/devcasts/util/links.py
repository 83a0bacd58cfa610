"""Which URLs from feeds our pages and feeds may point readers at: pure functions, no I/O.

`http_url` is the shape (absolute http(s), a host, no white space inside); `public_url` adds
that the host is not a private or local address written literally (169.254.169.254, 10.0.0.1,
localhost), so neither a page's links and JSON-LD nor our feeds send a reader's browser or
podcast app into their own network. Both publish/feeds.py and site/discovery.py use them.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from devcasts.util.addresses import host_problem

_WHITESPACE = re.compile(r"\s")


def http_url(value: str | None) -> str | None:
    """`value` without its surrounding white space if it is an absolute http(s) URL with a
    host and no white space inside, else None (no javascript:, data:, paths)."""
    url = (value or "").strip()
    if not url or _WHITESPACE.search(url):
        return None
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return None
    return url


def public_url(value: str | None) -> str | None:
    """`http_url(value)`, unless its host is a private or local address written literally."""
    return _public_url(value) if value is None or len(value) <= _CACHED_CHARS else _check(value)


# Pages ask again and again about the same few URLs (an episode's audio once per chapter, a
# show's cover on every card): 4 to 8 % of a cold render before these answers were kept.
_CACHED_CHARS = 2048


def _check(value: str | None) -> str | None:
    url = http_url(value)
    if url is None or host_problem(urlsplit(url).hostname or ""):
        return None
    return url


_public_url = functools.lru_cache(maxsize=16384)(_check)
