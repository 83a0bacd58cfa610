"""Which addresses and hosts are private: the one classification fetch and publish share."""

from __future__ import annotations

import ipaddress

import pytest

from devcasts.util.addresses import address_problem, host_problem, literal_address


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("fe80::1%eth0", "link-local"),
        ("2852039166", "link-local"),
        ("0xA9.254.169.254", "link-local"),
        ("169.254.43518", "link-local"),
        ("0251.0376.0251.0376", "link-local"),
        ("0x7f.1", "loopback"),
        ("127.1.", "loopback"),
        ("LOCALHOST", "loopback"),
        ("api.localhost.", "loopback"),
        ("example.org", None),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("10.example", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("09.1.1.1", None),
    ],
)
def test_host_problem(host: str, problem: str | None) -> None:
    assert host_problem(host) == problem


def test_literal_address_reads_the_forms_browsers_accept() -> None:
    expected = ipaddress.IPv4Address("169.254.169.254")
    for form in ("2852039166", "0xa9fea9fe", "169.254.43518", "0251.254.169.254"):
        assert literal_address(form) == expected
    assert literal_address("4294967296") is None  # more than 32 bits
    assert literal_address("example") is None


def test_address_problem_is_what_the_fetcher_refuses() -> None:
    from devcasts.fetch import netguard

    assert netguard.public_only(ipaddress.ip_address("169.254.169.254")) == "link-local"
    assert netguard.address_problem is address_problem
