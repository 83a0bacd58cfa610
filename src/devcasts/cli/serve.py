"""Preview the built site on 127.0.0.1, under the same base path it will have when published."""

from __future__ import annotations

import functools
import http.server
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from devcasts.site import urls


class _BasePathHandler(http.server.SimpleHTTPRequestHandler):
    base_path = "/"

    def do_GET(self) -> None:
        if self._refuse_bad_path() or self._redirect_to_base():
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        if self._refuse_bad_path() or self._redirect_to_base():
            return
        super().do_HEAD()

    def _refuse_bad_path(self) -> bool:
        """A NUL (%00) names no file: the file system would raise, not answer 404."""
        if "\x00" in unquote(urlsplit(self.path).path):
            self.send_error(400, "the path contains a NUL character")
            return True
        return False

    def _redirect_to_base(self) -> bool:
        path = urlsplit(self.path).path
        if self.base_path != "/" and not path.startswith(self.base_path):
            if path.rstrip("/") == self.base_path.rstrip("/") or path == "/":
                self.send_response(302)
                self.send_header("Location", self.base_path)
                self.end_headers()
                return True
            self.send_error(404, "outside the site's base path")
            return True
        return False

    def translate_path(self, path: str) -> str:
        # Still percent-encoded: the base class decodes it, once (twice would read %2500 as NUL).
        path = urlsplit(path).path
        if path.startswith(self.base_path):
            path = "/" + path[len(self.base_path) :]
        return super().translate_path(
            posixpath.normpath(path) + ("/" if path.endswith("/") else "")
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / urls.not_found()
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


def make_server(
    site_dir: Path, port: int = 8000, base_path: str = "/"
) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(
        type("Handler", (_BasePathHandler,), {"base_path": base_path}),
        directory=str(site_dir),
    )
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve(site_dir: Path, port: int = 8000, base_path: str = "/") -> None:
    server = make_server(site_dir, port, base_path)
    print(f"Serving {site_dir} at http://127.0.0.1:{server.server_port}{base_path} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
