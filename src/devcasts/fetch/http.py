"""Fetch feeds over HTTP (the only module that talks to the network): the sender, redirects
followed by hand, and the fetcher that runs many feeds at once.

The work of one feed is a small pipe:

    load cache -> precheck (gone? offline? Retry-After?) -> download or read -> decide -> save

The cache is in cache.py, the decisions (pure) in decide.py, bounded bodies in body.py and the
address guard in netguard.py. Only `_download` and `_read_local` here ask a server or the disk
for a feed. A feed's failure travels as a FetchResult with status FAILED, never as an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from devcasts import USER_AGENT
from devcasts.fetch.body import BodyError, discard_rest, human_size, read_bounded
from devcasts.fetch.cache import CacheEntry, HttpCache, aware
from devcasts.fetch.decide import (
    CONTROL_CHARACTERS,
    BodyCheck,
    Exchange,
    answer_without_body,
    decide,
    precheck,
    status_text,
)
from devcasts.fetch.netguard import BlockedAddressError, GuardedTransport, allow_all, public_only
from devcasts.model import FeedSource, FetchResult, FetchStatus

if TYPE_CHECKING:
    from rich.console import Console

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "application/feed+json;q=0.8, */*;q=0.1"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# A host that failed to connect or timed out this many times in a row is not asked again in
# the same build: its other feeds fail at once with the same reason.
HOST_STRIKES = 2
_PERMANENT = frozenset({301, 308})
_MAX_ERROR_LENGTH = 300


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How to fetch: the CLI's --cache, --offline, --allow-private-network, --max-feed-size and
    --concurrency, plus limits that tests shrink."""

    cache_dir: Path  # the HTTP cache itself: <slug>.json and <slug>.body (e.g. .cache/http)
    offline: bool = False  # no network: last good copies only (status DEFERRED)
    allow_private_network: bool = False
    max_bytes: int = 20 * 1024 * 1024  # counted after decompression
    concurrency: int = 8  # global; one request at a time per host
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    deadline: float = 30.0  # whole fetch of one feed, redirects included
    build_deadline: float = 600.0  # the whole fetch stage; feeds not fetched by then fail
    max_redirects: int = 5
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    # What is asked for and kept: feeds by default; fetch/sidecar.py fetches other files.
    accept: str = FEED_ACCEPT
    check_body: BodyCheck | None = None  # None: decide.feed_problem


# --- talking to servers ---------------------------------------------------------------------


def _request_headers(entry: CacheEntry, has_body: bool, accept: str) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    if has_body and entry.etag:
        headers["If-None-Match"] = entry.etag
    if has_body and entry.last_modified:
        headers["If-Modified-Since"] = entry.last_modified
    return headers


class _Sender:
    """One GET at a time through the transport itself. httpx's client would add cookies, auth,
    redirects and event hooks, none of which a feed fetch uses (redirects are followed by hand,
    to report them), for about a tenth of the CPU of a request that answers 304."""

    def __init__(self, transport: httpx.AsyncBaseTransport, options: FetchOptions) -> None:
        self.transport = transport
        timeout = httpx.Timeout(
            connect=options.connect_timeout,
            read=options.read_timeout,
            write=options.read_timeout,
            pool=options.deadline,
        )
        self.extensions = {"timeout": timeout.as_dict()}

    @contextlib.asynccontextmanager
    async def get(self, url: httpx.URL, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        request = httpx.Request("GET", url, headers=headers, extensions=self.extensions)
        response = await self.transport.handle_async_request(request)
        try:
            yield response
        finally:
            await response.aclose()


async def _download(
    sender: _Sender,
    url: httpx.URL,
    entry: CacheEntry,
    has_body: bool,
    options: FetchOptions,
    now: datetime,
) -> Exchange:
    """GET the feed, following at most max_redirects redirects by hand (to report them)."""
    visited = {str(url)}
    moved_to: str | None = None
    permanent_so_far = True
    headers = _request_headers(entry, has_body, options.accept)
    for _ in range(options.max_redirects + 1):
        async with sender.get(url, headers) as response:
            if response.status_code not in _REDIRECTS:
                return await _answer(response, str(url), moved_to, options, now)
            target = _redirect_target(response, url)
            await discard_rest(response)
        if isinstance(target, str):
            return Exchange("failed", str(url), error=target, moved_to=moved_to)
        permanent_so_far = permanent_so_far and response.status_code in _PERMANENT
        if permanent_so_far:
            moved_to = str(target)
        if str(target) in visited:
            return Exchange("failed", str(url), error=f"redirect loop at {target}")
        visited.add(str(target))
        url = target
    error = f"too many redirects (more than {options.max_redirects})"
    return Exchange("failed", str(url), error=error, moved_to=moved_to)


def _redirect_target(response: httpx.Response, url: httpx.URL) -> httpx.URL | str:
    """The next URL, or why there is none."""
    location = response.headers.get("location", "").strip()
    if not location:
        return f"{status_text(response.status_code)} without a Location header"
    try:
        target = url.join(location)
    except httpx.InvalidURL:
        return "redirect to an invalid URL"
    if target.scheme not in ("http", "https"):
        return f"redirect to a {target.scheme[:20]!r} URL refused (only http and https)"
    return target.copy_with(fragment=None)


async def _answer(
    response: httpx.Response, url: str, moved_to: str | None, options: FetchOptions, now: datetime
) -> Exchange:
    code = response.status_code
    headers = dict(response.headers.items())
    if 200 <= code < 300:
        body = await read_bounded(response, options.max_bytes)
        return Exchange("body", url, body=body, headers=headers, moved_to=moved_to)
    await discard_rest(response)
    return answer_without_body(code, headers, url, moved_to, now)


def _parse_url(url: str) -> tuple[httpx.URL, str] | str:
    """A feeds.yaml http(s) URL, parsed once, and the host its requests queue on; or why it
    cannot be fetched at all."""
    try:
        parsed = httpx.URL(url)
        host = urlsplit(url).hostname  # stricter about brackets than httpx
        has_host = bool(parsed.host)  # decodes an xn-- label: IDNAError is a ValueError
    except (httpx.InvalidURL, ValueError) as error:
        return f"invalid URL: {_clean(str(error))}"
    if not has_host:
        return "invalid URL: no host"
    return parsed, (host or "").lower()


def _read_local(source: FeedSource, max_bytes: int) -> Exchange:
    path = Path(source.url)
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return Exchange("failed", source.url, error=f"file not found: {path}")
    except OSError as error:
        return Exchange("failed", source.url, error=f"cannot read {path}: {error.strerror}")
    if len(body) > max_bytes:
        return Exchange("failed", source.url, error=f"file larger than {human_size(max_bytes)}")
    return Exchange("body", source.url, body=body)


def describe_error(error: BaseException, options: FetchOptions) -> str:
    """A short reason a user can act on, for any exception a download may raise."""
    message = _clean(str(error))
    if isinstance(error, BodyError | BlockedAddressError):
        return message
    if isinstance(error, httpx.ConnectTimeout):
        return f"could not connect within {options.connect_timeout:g} s"
    if isinstance(error, httpx.ReadTimeout):
        return f"no data for {options.read_timeout:g} s (read timeout)"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.RemoteProtocolError):
        return _describe_protocol_error(message)
    if isinstance(error, httpx.ReadError | httpx.WriteError):
        # anyio reports a reset as a BrokenResourceError, whose text is empty
        if not message or "reset" in message.lower() or "broken pipe" in message.lower():
            return "connection reset by the server"
        return f"network error: {message}"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect: {message}"
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return f"invalid URL: {message}"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _describe_protocol_error(message: str) -> str:
    lowered = message.lower()
    if "incomplete" in lowered or "complete message body" in lowered:
        return "truncated body: the connection closed before the whole body arrived"
    if "without sending" in lowered and "response" in lowered:
        return "the server closed the connection without answering"
    return f"HTTP protocol error: {message}"


def _clean(text: str) -> str:
    """Exception text may quote server bytes: no control characters, bounded length."""
    text = CONTROL_CHARACTERS.sub(" ", text).replace("\n", " ").replace("\r", " ").strip()
    return text[:_MAX_ERROR_LENGTH]


# --- many feeds at once ---------------------------------------------------------------------

ResultCallback = Callable[[FetchResult], None]


TransportFactory = Callable[[], httpx.AsyncBaseTransport]
_Target = tuple[httpx.URL, str] | str | None  # URL and host; why there is none; a local file


@dataclass(slots=True)
class _Host:
    """One host's feeds: asked one at a time, over a connection pool of its own that closes
    after its last feed. One pool per host, because httpcore's pool weighs every waiting
    request against every connection it holds; a pool of one connection has nothing to weigh."""

    waiting: int  # feeds of this host not done yet
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sender: _Sender | None = None
    strikes: int = 0  # connection failures and timeouts in a row
    given_up: str | None = None  # why the host's remaining feeds are not asked

    def note(self, name: str, exchange: Exchange, unreachable: bool) -> None:
        """Count a failure to connect or a timeout; any answer resets the count."""
        self.strikes = self.strikes + 1 if unreachable else 0
        if self.strikes >= HOST_STRIKES:
            self.given_up = (
                f"{exchange.error} (not asked: {name} failed {self.strikes} times in a row)"
            )


class _Fetcher:
    """Fetches feeds concurrently: a global limit and one request at a time per host."""

    def __init__(
        self,
        new_transport: TransportFactory,
        options: FetchOptions,
        now: datetime,
        on_done: ResultCallback | None,
    ) -> None:
        self.new_transport = new_transport
        self.options = options
        self.now = now
        self.on_done = on_done
        self.cache = HttpCache(options.cache_dir)
        self.slots = asyncio.Semaphore(max(1, options.concurrency))
        self.hosts: dict[str, _Host] = {}
        self.ends_at = time.monotonic() + options.build_deadline

    async def fetch_all(self, sources: Sequence[FeedSource]) -> list[FetchResult]:
        targets: list[_Target] = [
            None if source.is_local else _parse_url(source.url) for source in sources
        ]
        for target in targets:
            if isinstance(target, tuple):
                host = self.hosts.setdefault(target[1], _Host(waiting=0))
                host.waiting += 1
        try:
            fetches = (self.fetch(s, t) for s, t in zip(sources, targets, strict=True))
            return list(await asyncio.gather(*fetches))
        finally:
            for host in self.hosts.values():
                await _close(host)

    async def fetch(self, source: FeedSource, target: _Target) -> FetchResult:
        try:
            result = await self._fetch(source, target)
        except Exception as error:  # a bug or a full disk must not stop the other feeds
            log.exception("fetching %s failed unexpectedly", source.url)
            reason = f"internal error: {describe_error(error, self.options)}"
            result = FetchResult(source, FetchStatus.FAILED, None, None, error=reason)
        if isinstance(target, tuple):
            host = self.hosts[target[1]]
            host.waiting -= 1
            if not host.waiting:
                await _close(host)
        if self.on_done is not None:
            self.on_done(result)
        return result

    async def _fetch(self, source: FeedSource, target: _Target) -> FetchResult:
        entry, cached_body = self.cache.load(source)
        early = precheck(source, entry, cached_body, self.options.offline, self.now)
        if early is not None:
            return early
        exchange, elapsed = await self._exchange(source, target, entry, cached_body is not None)
        check = self.options.check_body
        result, new_entry, new_body = decide(source, entry, cached_body, exchange, self.now, check)
        try:
            self.cache.save(source, new_entry, new_body)
        except OSError as error:  # the fetch itself worked: report it, remember it next time
            log.warning("could not write the cache of %s: %s", source.slug, error)
        return replace(result, elapsed=round(elapsed, 3))

    async def _exchange(
        self, source: FeedSource, target: _Target, entry: CacheEntry, has_body: bool
    ) -> tuple[Exchange, float]:
        """What the server or the disk answered, and how long that took (queueing excluded)."""
        started = time.monotonic()
        if target is None:
            exchange = await asyncio.to_thread(_read_local, source, self.options.max_bytes)
            return exchange, time.monotonic() - started
        if isinstance(target, str):
            return Exchange("failed", source.url, error=target), time.monotonic() - started
        url, name = target
        host = self.hosts[name]
        async with host.lock:
            refusal = host.given_up or self._past_deadline()
            if refusal is not None:  # decided without a slot: the host's queue empties at once
                return Exchange("failed", source.url, error=refusal), 0.0
            async with self.slots:
                started = time.monotonic()
                if host.sender is None:
                    host.sender = _Sender(self.new_transport(), self.options)
                exchange, unreachable = await self._download(
                    source, host.sender, url, entry, has_body
                )
            host.note(name, exchange, unreachable)
        return exchange, time.monotonic() - started

    def _past_deadline(self) -> str | None:
        if time.monotonic() < self.ends_at:
            return None
        return self._deadline_reason()

    def _deadline_reason(self) -> str:
        return f"build deadline: fetching stopped after {self.options.build_deadline:g} s"

    async def _download(
        self, source: FeedSource, sender: _Sender, url: httpx.URL, entry: CacheEntry, has_body: bool
    ) -> tuple[Exchange, bool]:
        """What the server answered, and whether it failed to connect or timed out."""
        remaining = self.ends_at - time.monotonic()
        try:
            async with asyncio.timeout(min(self.options.deadline, remaining)):
                exchange = await _download(sender, url, entry, has_body, self.options, self.now)
                return exchange, False
        except TimeoutError:
            if remaining < self.options.deadline:
                return Exchange("failed", source.url, error=self._deadline_reason()), False
            error = f"timed out after {self.options.deadline:g} s"
            return Exchange("failed", source.url, error=error), True
        except (httpx.HTTPError, BodyError, BlockedAddressError, ValueError, OSError) as exc:
            unreachable = isinstance(exc, httpx.TimeoutException | httpx.ConnectError)
            error = describe_error(exc, self.options)
            return Exchange("failed", source.url, error=error), unreachable


async def _close(host: _Host) -> None:
    """Close the host's connections; a server that hangs up badly changes no result."""
    sender, host.sender = host.sender, None
    if sender is not None:
        try:
            await sender.transport.aclose()
        except Exception as error:  # the feeds are fetched by now
            log.debug("closing a connection failed: %s", error)


def _transport(options: FetchOptions) -> httpx.AsyncBaseTransport:
    """A host's own guarded pool: one connection, kept between its feeds."""
    policy = allow_all if options.allow_private_network else public_only
    return GuardedTransport(policy, httpx.Limits(max_connections=1, max_keepalive_connections=1))


async def fetch_all_async(
    sources: Sequence[FeedSource],
    options: FetchOptions,
    now: datetime | None = None,
    *,
    on_done: ResultCallback | None = None,
    new_transport: TransportFactory | None = None,
) -> list[FetchResult]:
    """`fetch_all` inside a running event loop; `new_transport` makes each host's transport
    instead of the guarded one."""
    moment = aware(now) if now is not None else datetime.now(UTC)
    factory = new_transport or functools.partial(_transport, options)
    return await _Fetcher(factory, options, moment, on_done).fetch_all(sources)


def fetch_all(
    sources: Sequence[FeedSource], options: FetchOptions, now: datetime | None = None
) -> list[FetchResult]:
    """Fetch every source; one result per source, in the same order. Never raises per feed."""
    with _reporter(len(sources), options.progress) as on_done:
        return asyncio.run(fetch_all_async(sources, options, now, on_done=on_done))


# --- telling the user -----------------------------------------------------------------------


@contextlib.contextmanager
def _reporter(
    total: int, progress: bool | None, console: Console | None = None
) -> Iterator[ResultCallback]:
    """A rich progress bar on a terminal; otherwise one INFO log line per feed."""
    show = sys.stderr.isatty() if progress is None else progress
    if not show or total == 0:
        yield _log_result
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task("fetching feeds", total=total)

        def advance(result: FetchResult) -> None:
            bar.update(task, advance=1, description=f"{result.source.slug}: {result.status}")

        yield advance


def _log_result(result: FetchResult) -> None:
    reason = f" ({result.error})" if result.error else ""
    log.info("%s: %s%s", result.source.slug, result.status, reason)
