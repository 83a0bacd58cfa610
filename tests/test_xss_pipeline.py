"""Hostile feeds through the whole pipeline, then the pages opened in headless Chromium.

Each of the 223 payloads of ../shared/corpus/xss becomes an episode's show notes, its title,
a person's name and a chapter title. The site is built with the real CLI and every page that
shows them is opened in Chromium: no dialog may open, no injected script may run, and no
request may leave 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from devcasts.cli.main import main
from devcasts.cli.serve import make_server

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "xss" / "dompurify-expect.json"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_file(), reason="../shared/corpus is absent"),
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="Debian's chromium is not installed"),
]

# Any of these being called means injected code ran.
TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + ":" + String(args[0])); };
}
"""


def hostile_feed(payloads: list[str]) -> str:
    items = []
    for n, payload in enumerate(payloads):
        items.append(
            f"""<item>
  <title>{escape(payload[:300])}</title>
  <guid isPermaLink="false">xss-{n}</guid>
  <link>javascript:alert({n})</link>
  <pubDate>Mon, 01 Jan 2024 {n // 60 % 24:02d}:{n % 60:02d}:00 GMT</pubDate>
  <itunes:author>{escape(payload[:200])}</itunes:author>
  <podcast:person role="guest" href={quoteattr("javascript:alert(1)")}>{escape(payload[:200])}</podcast:person>
  <enclosure url="https://media.example.com/{n}.mp3" type="audio/mpeg" length="1"/>
  <description>{escape("<p>(00:00) " + payload[:200] + "<br>(01:00) Next</p>" + payload)}</description>
</item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
<title>{escape("Hostile <script>alert('channel')</script> Show")}</title>
<link>https://hostile.example/</link>
<description>{escape('<img src=x onerror="alert(1)">notes')}</description>
{"".join(items)}
</channel>
</rss>
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("xss")
    payloads = [entry["payload"] for entry in json.loads(CORPUS.read_text(encoding="utf-8"))]
    (work / "hostile.xml").write_text(hostile_feed(payloads), encoding="utf-8")
    (work / "feeds.yaml").write_text(
        "site:\n  title: xss check\n  base_url: https://example.github.io/xss/\n"
        "topics:\n  - {slug: heroku, name: Heroku, patterns: [Heroku]}\n"
        "feeds:\n  - url: hostile.xml\n",
        encoding="utf-8",
    )
    status = main(
        [
            "build",
            "--feeds",
            str(work / "feeds.yaml"),
            "--out",
            str(work / "site"),
            "--cache",
            str(work / "cache"),
            "--no-browser-index",
            "--quiet",
        ]
    )
    assert status == 0
    yield work / "site"
    shutil.rmtree(work, ignore_errors=True)


def test_no_payload_executes_in_a_browser(hostile_site: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = sorted(hostile_site.glob("podcasts/*/*/index.html"))
    assert len(pages) >= 200  # every payload became a page
    pages += [hostile_site / "index.html", *sorted(hostile_site.glob("podcasts/*/index.html"))]
    pages += sorted(hostile_site.glob("people/*/index.html"))[:20]

    server = make_server(hostile_site, port=0, base_path="/xss/")
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    executed: list[str] = []
    outside: list[str] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-gpu",
                ],
            )
            context = browser.new_context()
            context.add_init_script(TRAP)

            def guard(route: object) -> None:
                request = route.request  # type: ignore[attr-defined]
                if request.url.startswith(origin):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(request.url)
                    route.abort()  # type: ignore[attr-defined]

            context.route("**/*", guard)
            page = context.new_page()
            page.on("dialog", lambda dialog: (executed.append(dialog.message), dialog.dismiss()))
            for path in pages:
                url = f"{origin}/xss/{path.parent.relative_to(hostile_site).as_posix()}/"
                if path.parent == hostile_site:
                    url = f"{origin}/xss/"
                page.goto(url, wait_until="load")
                page.wait_for_timeout(20)
                executed.extend(page.evaluate("window.__xss"))
                injected = page.evaluate(
                    "[...document.querySelectorAll('script:not([src]), script[src]')]"
                    ".filter(s => s.src && !s.src.startsWith(location.origin))"
                    ".map(s => s.src)"
                )
                assert injected == [], f"{url}: foreign script {injected}"
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert executed == []
    # Show-note images may point at other hosts (they are allowed http(s) images), but never
    # scripts, frames or styles.
    assert not [u for u in outside if u.split("?")[0].endswith((".js", ".css", ".html"))]
