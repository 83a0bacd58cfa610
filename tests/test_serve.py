"""`serve` previews the site under its base path, on 127.0.0.1 only."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcasts.cli.serve import make_server


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (tmp_path / "404.html").write_text("<p>not here</p>", encoding="utf-8")
    (tmp_path / "podcasts" / "a").mkdir(parents=True)
    (tmp_path / "podcasts" / "a" / "index.html").write_text("<p>show a</p>", encoding="utf-8")
    server = make_server(tmp_path, port=0, base_path="/repo/")
    assert server.server_address[0] == "127.0.0.1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_pages_are_served_under_the_base_path(preview: str) -> None:
    assert fetch(f"{preview}/repo/") == (200, "<p>home</p>")
    assert fetch(f"{preview}/repo/podcasts/a/") == (200, "<p>show a</p>")


def test_root_redirects_to_base_path(preview: str) -> None:
    status, body = fetch(f"{preview}/")  # urllib follows the redirect
    assert (status, body) == (200, "<p>home</p>")


def test_missing_pages_get_the_site_404(preview: str) -> None:
    assert fetch(f"{preview}/repo/nope/") == (404, "<p>not here</p>")
    assert fetch(f"{preview}/elsewhere/x") == (404, "<p>not here</p>")
    assert fetch(f"{preview}/repo/../../etc/passwd")[0] == 404


@pytest.mark.parametrize(
    "path", ["/repo/a%00b", "/repo/%00", "/repo/podcasts/%00/index.html", "/%00"]
)
def test_a_nul_in_the_path_is_a_400_not_a_traceback(
    preview: str, path: str, capfd: pytest.CaptureFixture[str]
) -> None:
    status, _ = fetch(f"{preview}{path}")
    assert status == 400
    assert "Traceback" not in capfd.readouterr().err
    assert fetch(f"{preview}/repo/")[0] == 200  # and the server still answers


def test_a_path_is_percent_decoded_once(preview: str) -> None:
    assert fetch(f"{preview}/repo/%2500")[0] == 404  # the file "%00", not a NUL
    assert fetch(f"{preview}/repo/podcasts/%61/")[0] == 200  # %61 is "a"
