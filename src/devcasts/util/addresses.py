"""What counts as a private address: pure functions on addresses and host names, no I/O.

fetch/netguard.py refuses connections with `address_problem`; publish/feeds.py drops the URLs
whose host is such an address written literally, so our feeds never point readers' apps at
their own network (169.254.169.254, 10.0.0.1, localhost).
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# One part of an IPv4 address as browsers read it (WHATWG URL): decimal, 0x-hex or 0-octal.
_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


def address_problem(ip: IPAddress) -> str | None:
    """Why a connection to `ip` is refused ("loopback", "private", ...), or None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        elif ip.sixtofour is not None:  # 2002::/16 (6to4) reaches the IPv4 address it embeds
            problem = address_problem(ip.sixtofour)
            return None if problem is None else f"6to4 {problem}"
        elif ip.is_site_local:  # fec0::/10: deprecated, yet still private wherever it is used
            return "site-local"
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


def host_problem(host: str) -> str | None:
    """Why a URL's host (as urlsplit's `hostname` gives it) is not public, judged without DNS:
    a literal address that `address_problem` refuses, or localhost; None otherwise."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    ip = literal_address(name)
    return address_problem(ip) if ip is not None else None


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means, also in the forms browsers accept
    (2852039166, 0xA9.254.169.254, 169.254.43518); None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone names no host
    except ValueError:
        pass
    parts = host.split(".")
    if parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.match(part) for part in parts):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else 1 << 40  # not octal: invalid
    return int(part)
