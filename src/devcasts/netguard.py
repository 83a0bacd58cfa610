"""Refuse connections to the local machine and private networks, after DNS resolution.

The check runs inside the connection itself: the host name is resolved once, every address is
vetted, and the socket connects to a vetted address. A name that resolves to a public address
for the check and to 127.0.0.1 for the connection (DNS rebinding) therefore cannot slip through,
and every redirect target goes through the same door. HTTPS verifies the certificate against the
host name while the socket is connected to the vetted address.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], str | None]  # None: allowed, else why not
Resolver = Callable[[str, int], list[str]]

_HINT = "use --allow-private-network to allow it"


class BlockedAddressError(Exception):
    """A connection to a refused address was attempted; str() says which and why."""


class ConnectError(Exception):
    """No connection could be made (unknown host, refused, TLS failure); str() says why."""


class ConnectTimeoutError(ConnectError):
    """The connection was not made within the connect timeout."""


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


def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses, in the order the system resolver prefers, without duplicates."""
    try:
        return [str(ipaddress.ip_address(host))]  # a literal address: no lookup
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    return list(dict.fromkeys(addresses))


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle takes a moment: one context, made when the first HTTPS host needs
    it, shared by every connection (certifi's bundle, as browsers' own stores vary)."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with the dependencies
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True, slots=True)
class Guard:
    """Opens the connections of a fetch: resolve, vet every address, connect to a vetted one."""

    policy: AddressPolicy
    resolve: Resolver = system_resolve
    ssl_context: ssl.SSLContext | None = None  # None: default_ssl_context()

    def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        """A connected TCP socket. Raises BlockedAddressError, ConnectError, ConnectTimeoutError."""
        last_error: OSError | None = None
        for address in self.vetted_addresses(host, port):
            try:
                return socket.create_connection((address, port), timeout)
            except TimeoutError as error:
                raise ConnectTimeoutError(f"{host}: connection timed out") from error
            except OSError as error:  # try the next address of the host
                last_error = error
        assert last_error is not None
        raise ConnectError(last_error.strerror or str(last_error)) from last_error

    def wrap_tls(self, sock: socket.socket, host: str) -> ssl.SSLSocket:
        """TLS over a connected socket, the certificate checked against `host`."""
        context = self.ssl_context or default_ssl_context()
        try:
            return context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as error:
            sock.close()
            raise ConnectTimeoutError(f"{host}: TLS handshake timed out") from error
        except (ssl.SSLError, OSError) as error:
            sock.close()
            raise ConnectError(str(error)) from error

    def vetted_addresses(self, host: str, port: int) -> list[str]:
        try:
            resolved = self.resolve(host, port)
        except (OSError, UnicodeError) as error:
            raise ConnectError(f"cannot resolve host {host}") from error
        allowed: list[str] = []
        refusals: list[str] = []
        for address in resolved:
            problem = self.policy(ipaddress.ip_address(address.split("%", 1)[0]))
            if problem is None:
                allowed.append(address)
            else:
                refusals.append(f"{address} is a {problem} address")
        if allowed:
            return allowed
        if not refusals:
            raise ConnectError(f"cannot resolve host {host}")
        raise BlockedAddressError(f"refused to connect to {host}: {refusals[0]} ({_HINT})")
