"""Refuse connections to the local machine and private networks, after DNS resolution.

The check runs inside the connection itself (an httpcore network backend): the host name is
resolved once, every address is vetted, and the socket connects to a vetted address. A name that
resolves to a public address for the check and to 127.0.0.1 for the connection (DNS rebinding)
therefore cannot slip through, and every redirect target goes through the same door.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], str | None]  # None: allowed, else why not
Resolver = Callable[[str, int], Awaitable[list[str]]]

_HINT = "use --allow-private-network to allow it"


class BlockedAddressError(Exception):
    """A connection to a refused address was attempted; str() says which and why."""


def address_problem(ip: IPAddress) -> str | None:
    """Why a connection to `ip` is refused ("loopback", "private", ...), or None if public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    # Order matters: 127/8 and 169.254/16 are also "private" to the ipaddress module.
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "non-public"),
    )
    return next((name for refused, name in checks if refused), None)


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


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves names itself and connects only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver = system_resolve) -> None:
        self._policy = policy
        self._resolve = resolve
        self._inner = httpcore.AnyIOBackend()

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
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
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
        await self._inner.sleep(seconds)

    async def _vetted_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            with anyio.fail_after(timeout):
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


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle takes a moment; the context is safe to share between builds."""
    return httpx.create_ssl_context(trust_env=False)


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
