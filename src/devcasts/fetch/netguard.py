"""Refuse connections to the local machine and private networks, after DNS resolution.

The check runs inside the connection itself (an httpcore network backend): the host name is
resolved once, every address is vetted, and the socket connects to a vetted address. A name that
resolves to a public address for the check and to 127.0.0.1 for the connection (DNS rebinding)
therefore cannot slip through, and every redirect target goes through the same door.

Plain connections are driven by asyncio's own socket calls: httpcore's anyio streams cost a
cancel scope per read and write and a task group per connect: a fifth of the fetch CPU of a
build whose 200 feeds all answer 304. TLS is still anyio's TLSStream, as in httpcore's backend.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import select
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import httpcore
import httpx

from devcasts.util.addresses import IPAddress, address_problem

if TYPE_CHECKING:
    from anyio.streams.tls import TLSStream

AddressPolicy = Callable[[IPAddress], str | None]  # None: allowed, else why not
Resolver = Callable[[str, int], Awaitable[list[str]]]

_HINT = "use --allow-private-network to allow it"


class BlockedAddressError(Exception):
    """A connection to a refused address was attempted; str() says which and why."""


def public_only(ip: IPAddress) -> str | None:
    """The default policy: only globally routable unicast addresses."""
    return address_problem(ip)


def allow_all(ip: IPAddress) -> str | None:
    """The policy of --allow-private-network."""
    return None


async def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses, in the order the system resolver prefers, without duplicates."""
    try:
        return [str(ipaddress.ip_address(host))]  # a literal address: no lookup in a thread
    except ValueError:
        pass
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    return list(dict.fromkeys(addresses))


def _is_readable(sock: socket.socket) -> bool:
    """Whether a read would not block: on an idle connection, the server closed it (or sent
    something unasked), so httpcore must not reuse it."""
    if sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _SocketStream(httpcore.AsyncNetworkStream):
    """A connected TCP socket, read and written through the running asyncio loop."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.get_running_loop().sock_recv(self._sock, max_bytes)
        except TimeoutError as error:  # before OSError, of which it is a subclass
            raise httpcore.ReadTimeout("timed out while reading") from error
        except OSError as error:
            raise httpcore.ReadError(str(error)) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                await asyncio.get_running_loop().sock_sendall(self._sock, buffer)
        except TimeoutError as error:
            raise httpcore.WriteTimeout("timed out while writing") from error
        except OSError as error:
            raise httpcore.WriteError(str(error)) from error

    async def aclose(self) -> None:
        self._sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """The same socket under anyio's TLSStream (its owner from now on)."""
        from anyio.abc import SocketStream
        from anyio.streams.tls import TLSStream  # imported only when a feed is on https

        try:
            plain = await SocketStream.from_socket(self._sock)
        except BaseException as error:
            self._sock.close()
            # anyio refuses a socket the peer has already reset (ValueError, "not connected")
            if isinstance(error, ValueError | OSError):
                message = "the connection closed before the TLS handshake"
                raise httpcore.ConnectError(message) from error
            raise
        try:
            with anyio.fail_after(timeout):
                tls = await TLSStream.wrap(
                    plain, hostname=server_hostname, ssl_context=ssl_context,
                    standard_compatible=False,
                )  # fmt: skip
        except BaseException as error:
            await anyio.aclose_forcefully(plain)
            if isinstance(error, TimeoutError):
                raise httpcore.ConnectTimeout("timed out during the TLS handshake") from error
            if isinstance(error, OSError | anyio.BrokenResourceError | anyio.EndOfStream):
                raise httpcore.ConnectError(str(error) or type(error).__name__) from error
            raise
        return _TlsStream(tls, self._sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _is_readable(self._sock)
        return _socket_info(self._sock, info)


class _TlsStream(httpcore.AsyncNetworkStream):
    """What httpcore's own anyio stream does for TLS connections."""

    def __init__(self, stream: TLSStream, sock: socket.socket) -> None:
        self._stream = stream
        self._sock = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            with anyio.fail_after(timeout):
                return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            return b""
        except TimeoutError as error:
            raise httpcore.ReadTimeout("timed out while reading") from error
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as error:
            raise httpcore.ReadError(str(error)) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            with anyio.fail_after(timeout):
                await self._stream.send(buffer)
        except TimeoutError as error:
            raise httpcore.WriteTimeout("timed out while writing") from error
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as error:
            raise httpcore.WriteError(str(error)) from error

    async def aclose(self) -> None:
        await self._stream.aclose()

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            from anyio.streams.tls import TLSAttribute

            return self._stream.extra_attributes[TLSAttribute.ssl_object]()
        if info == "is_readable":
            return _is_readable(self._sock)
        return _socket_info(self._sock, info)


def _socket_info(sock: socket.socket, info: str) -> Any:
    try:
        if info == "client_addr":
            return sock.getsockname()
        if info == "server_addr":
            return sock.getpeername()
    except OSError:
        return None
    return sock if info == "socket" else None


async def _connect(
    address: str,
    port: int,
    timeout: float | None,
    local_address: str | None,
    socket_options: Iterable[httpcore.SOCKET_OPTION],
) -> httpcore.AsyncNetworkStream:
    """A TCP connection to one vetted address (a literal: nothing is looked up here)."""
    numeric, stream = socket.AI_NUMERICHOST, socket.SOCK_STREAM
    host = address.encode("ascii")  # as bytes: a str would load the idna codec for nothing
    family, _, proto, _, target = socket.getaddrinfo(host, port, type=stream, flags=numeric)[0]
    sock = socket.socket(family, stream, proto)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's own sockets
        for option in socket_options:
            sock.setsockopt(*option)
        if local_address:
            sock.bind((local_address, 0))
        async with asyncio.timeout(timeout):
            await asyncio.get_running_loop().sock_connect(sock, target)
    except TimeoutError as error:
        sock.close()
        raise httpcore.ConnectTimeout(f"could not connect to {address} in time") from error
    except BaseException as error:
        sock.close()
        if isinstance(error, OSError):  # anyio's words, so a failing feed's reason stays put
            raise httpcore.ConnectError("All connection attempts failed") from error
        raise
    return _SocketStream(sock)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves names itself and connects only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver = system_resolve) -> None:
        self._policy = policy
        self._resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._vetted_addresses(host, port, timeout)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await _connect(address, port, timeout, local_address, socket_options or ())
            except httpcore.ConnectError as error:  # try the next address of the host
                last_error = error
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("refused to connect to a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _vetted_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            async with asyncio.timeout(timeout):
                resolved = await self._resolve(host, port)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(f"DNS lookup for {host} timed out") from error
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve host {host}") from error
        allowed: list[str] = []
        refusals: list[str] = []
        for address in resolved:
            problem = self._policy(ipaddress.ip_address(address.split("%", 1)[0]))
            if problem is None:
                allowed.append(address)
            else:
                refusals.append(f"{address} is a {problem} address")
        if allowed:
            return allowed
        if not refusals:
            raise httpcore.ConnectError(f"cannot resolve host {host}")
        raise BlockedAddressError(f"refused to connect to {host}: {refusals[0]} ({_HINT})")


class _CaLoadedOnFirstUse(ssl.SSLContext):
    """httpx's default client context (certifi's CA bundle, names checked), except that the
    bundle, which takes tens of milliseconds to load, is loaded for the first TLS connection:
    a build whose feeds are all plain http never loads it."""

    _loaded = False

    def _load_trust(self) -> None:
        if not self._loaded:
            import certifi

            self.load_verify_locations(certifi.where())
            self._loaded = True

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load_trust()
        return super().wrap_bio(*args, **kwargs)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load_trust()
        return super().wrap_socket(*args, **kwargs)


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The context is safe to share between builds (and loads its CA bundle once)."""
    return _CaLoadedOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates and host names


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on a GuardedBackend and no proxy."""

    def __init__(
        self,
        policy: AddressPolicy,
        limits: httpx.Limits,
        resolve: Resolver = system_resolve,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        ssl_context = ssl_context or _default_ssl_context()
        # With the context given, httpx does not load the CA bundle a second time.
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx takes no network backend, so the pool it built is replaced by an equal one that
        # has ours (the loopback and DNS-rebinding tests in tests/test_fetch.py prove it engages).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolve),
        )
