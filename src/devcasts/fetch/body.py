"""Reading a response body: bounded after decompression, or discarded to keep the connection.

A body is counted after Content-Encoding is undone, so a small "gzip bomb" is stopped as soon
as it expands past the limit, never held whole in memory.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import httpx

_DISCARDED_BODY_LIMIT = 64 * 1024
_DISCARD_SECONDS = 1.0


class BodyError(Exception):
    """The body cannot be used (too large, bad compression); str() is the reason."""


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"


def _too_large(max_bytes: int) -> BodyError:
    return BodyError(f"body larger than {human_size(max_bytes)}")


_UNSUPPORTED_CODINGS = frozenset({"br", "zstd", "compress", "x-compress"})  # never asked for


class BoundedDecoder:
    """Undo Content-Encoding (gzip, deflate) without ever producing more than `limit` bytes.

    zlib's `max_length` bounds each step, so a small gzip bomb never expands in memory: output
    beyond the limit is not produced at all.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        unsupported = [c for c in codings if c in _UNSUPPORTED_CODINGS]
        if unsupported:
            raise BodyError(f"unsupported content encoding {unsupported[0]!r}")
        # Codings are listed in the order they were applied, so undo them from the last. Names
        # that are no compression at all ("utf-8", "none": seen on misconfigured servers) are
        # ignored, as browsers do.
        inflatable = [c for c in reversed(codings) if c in ("gzip", "x-gzip", "deflate")]
        self._stages = [_Inflater(c) for c in inflatable]
        self.limit = limit
        self.size = 0

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = self._through(stage, data)
        return self._count(data)

    def finish(self) -> bytes:
        data = b""
        for stage in self._stages:
            data = self._through(stage, data) + stage.finish()
        return self._count(data)

    def _through(self, stage: _Inflater, data: bytes) -> bytes:
        out, capped = stage.feed(data, self.limit - self.size + 1)
        if capped:  # this layer alone would exceed the limit (an inner layer of a bomb)
            raise _too_large(self.limit)
        return out

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise _too_large(self.limit)
        return data


class _Inflater:
    """One gzip or deflate layer; deflate may come with or without its zlib header."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._pending = b""  # deflate: bytes kept until the header can be recognized
        self._zlib: Any = None
        if coding != "deflate":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """At most `limit` bytes of output, and whether input was left over at that point."""
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return b"", False
            data, self._pending = self._pending, b""
            zlib_header = data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        try:
            return self._inflate(data, limit)
        except zlib.error as error:
            raise BodyError(f"damaged {self._coding} body ({error})") from error

    def _inflate(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        out = bytearray()
        while data and len(out) < limit:
            out += self._zlib.decompress(data, limit - len(out))
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:  # another gzip member may follow; other trailing bytes are junk
                rest = self._zlib.unused_data
                data = rest if self._coding != "deflate" and rest[:2] == b"\x1f\x8b" else b""
                if data:
                    self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return bytes(out), bool(data)

    def finish(self) -> bytes:
        if self._zlib is None or not self._zlib.eof:
            raise BodyError(f"truncated body: the {self._coding} stream ends early")
        return b""


async def read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the body, decompressing by hand so the cap applies to the decompressed size."""
    encoding = response.headers.get("content-encoding", "")
    declared = response.headers.get("content-length", "")
    known = declared.isascii() and declared.isdigit()  # int() cannot read every digit
    if not encoding and known and int(declared) > max_bytes:
        raise BodyError(f"body larger than {human_size(max_bytes)} ({human_size(int(declared))})")
    decoder = BoundedDecoder(encoding, max_bytes)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.feed(chunk)
    body += decoder.finish()
    return bytes(body)


async def discard_rest(response: httpx.Response) -> None:
    """Read the rest of a short body (a 304's, a redirect's, an error page's): httpcore keeps a
    connection for the next request only once its response was read to the end, so a feed host
    that answers 304 to every feed is then asked over one connection, not one per feed. A long
    body, or one slow to come, is not worth it: the answer is known, the connection closes."""
    read = 0
    try:
        async with asyncio.timeout(_DISCARD_SECONDS):
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > _DISCARDED_BODY_LIMIT:
                    return
    except (TimeoutError, httpx.HTTPError):
        return
