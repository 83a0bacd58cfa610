"""Hostile feeds through the whole pipeline, then every page of the site opened in Chromium.

The project's own set (tests/data/xss) always runs: each payload of notes.yaml becomes an
episode's show notes, its title, its author, a person's name and a chapter title; each URL of
urls.yaml goes into every URL an item can carry, in RSS and in a JSON Feed; and the
hand-written feeds put markup and URLs into channel fields, CDATA, Atom's html and xhtml
constructs and JSON Feed's fields. The corpus's 223 payloads run the same way when the corpus
is there. The site is built with the real CLI and every page is opened in headless Chromium:
no dialog may open, no injected code may run or throw, no page may navigate away or load
scripts, styles or frames from elsewhere, and no element may keep an event handler, a
`javascript:`, `vbscript:` or `data:` URL, or anything else that runs code.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from test_sanitize_xss import XSS_DATA, Named, corpus_notes, own_notes, own_urls

from devcasts.cli.main import main
from devcasts.cli.serve import make_server

CHROMIUM = Path("/usr/bin/chromium")
BASE_PATH = "/xss/"
HAND_WRITTEN = ("channel.rss", "atom.xml", "feed.json")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="Debian's chromium is not installed"),
]

# Any of these being called means injected code ran.
TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + ":" + String(args[0])); };
}
"""

# After a frame has been drawn (handlers that wait for layout or an animation, such as
# onanimationstart, SVG onbegin or autofocus, have had their chance), what ran and what the
# page holds that could run code: one line per finding.
PAGE_AUDIT = r"""
async () => {
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const found = window.__xss.map((call) => "ran " + call);
  const here = location.origin;
  const runs = (value) => {
    const squashed = value.replace(/[\u0000-\u0020\u007f-\u00a0\u200b-\u200f\ufeff]/g, "");
    if (/^(javascript|vbscript|data):/i.test(squashed)) return true;
    try {
      return ["javascript:", "vbscript:", "data:"].includes(new URL(value, document.baseURI).protocol);
    } catch (error) {
      return false;
    }
  };
  const urlAttributes = new Set(["href", "src", "action", "formaction", "xlink:href", "poster",
    "background", "cite", "longdesc", "data", "codebase", "ping", "manifest", "icon", "lowsrc",
    "dynsrc", "usemap", "itemtype"]);
  const foreign = (value) => new URL(value, document.baseURI).origin !== here;
  for (const element of document.querySelectorAll("*")) {
    const tag = element.localName;
    const where = tag + (element.id ? "#" + element.id : "");
    if (["iframe", "frame", "frameset", "object", "embed", "applet", "base", "svg", "math",
         "template", "style", "portal"].includes(tag)) found.push("element " + where);
    if (element.shadowRoot) found.push("shadow root on " + where);
    if (tag === "script" && element.type !== "application/ld+json"
        && !(element.src && !foreign(element.src))) found.push("script " + element.outerHTML.slice(0, 80));
    if (tag === "meta" && element.httpEquiv) found.push("meta http-equiv " + element.httpEquiv);
    if (tag === "link" && /stylesheet|import|preload|modulepreload/i.test(element.rel)
        && foreign(element.href)) found.push("foreign " + element.rel + " " + element.href);
    if (tag === "form" && foreign(element.action)) found.push("form to " + element.action);
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value;
      if (name.startsWith("on")) found.push(where + " handler " + name);
      else if (name === "srcdoc") found.push(where + " srcdoc");
      else if (urlAttributes.has(name) && runs(value)) found.push(where + " " + name + "=" + value);
      else if (name === "srcset" && value.split(",").some((part) => runs(part.trim()))) {
        found.push(where + " srcset=" + value);
      } else if (name === "style" && /javascript:|expression\(|url\(|@import|binding/i.test(value)) {
        found.push(where + " style=" + value);
      }
    }
  }
  return found;
}
"""
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ITEM_NAMESPACES = (
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:podcast="https://podcastindex.org/namespace/1.0" '
    'xmlns:psc="http://podlove.org/simple-chapters"'
)


def rss(title: str, items: list[str]) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {ITEM_NAMESPACES}>
<channel>
<title>{escape(title)}</title>
<link>https://hostile.example/</link>
<description>{escape('<img src=x onerror="alert(1)">notes')}</description>
{"".join(items)}
</channel>
</rss>
"""


def notes_feed(title: str, payloads: Named, year: int) -> str:
    """An RSS feed with one item a payload: its notes, title, author, person and chapter."""
    items = []
    for n, (name, payload) in enumerate(payloads):
        if _NOT_IN_XML.search(payload):
            continue  # XML cannot carry it: url_json_feed does
        items.append(
            f"""<item>
  <title>{escape(f"{payload[:300]} [{name}]")}</title>
  <guid isPermaLink="false">{escape(name)}</guid>
  <pubDate>Mon, 01 Jan {year} {n // 60 % 24:02d}:{n % 60:02d}:00 GMT</pubDate>
  <itunes:author>{escape(payload[:200])}</itunes:author>
  <podcast:person role="guest">{escape(payload[:200])}</podcast:person>
  <enclosure url="https://media.example.com/{year}/{n}.mp3" type="audio/mpeg" length="1"/>
  <description>{escape("<p>(00:00) " + payload[:200] + "<br>(01:00) Next</p>" + payload)}</description>
</item>"""
        )
    return rss(title, items)


def url_feed(urls: Named) -> str:
    """An RSS feed with one item a hostile URL, in every URL field the item has."""
    items = []
    for n, (name, url) in enumerate(urls):
        if _NOT_IN_XML.search(url):
            continue  # XML cannot carry it: url_json_feed does
        attribute = quoteattr(url)
        items.append(
            f"""<item>
  <title>{escape(f"Every link of this item is {name}")}</title>
  <guid isPermaLink="false">url-{n}</guid>
  <link>{escape(url)}</link>
  <pubDate>Tue, 02 Jan 2024 {n // 60 % 24:02d}:{n % 60:02d}:00 GMT</pubDate>
  <itunes:image href={attribute}/>
  <enclosure url={attribute} type="audio/mpeg" length="1"/>
  <podcast:person role="guest" href={attribute} img={attribute}>Guest {n}</podcast:person>
  <podcast:transcript url={attribute} type="text/html"/>
  <psc:chapters version="1.2"><psc:chapter start="00:00:00" title="Start" href={attribute}/></psc:chapters>
  <description>{escape(f'<p>(00:00) Start</p><p><a href="{url}">link</a> <img src="{url}" alt="x"></p>')}</description>
</item>"""
        )
    return rss("Hostile URLs", items)


def url_json_feed(urls: Named, notes: Named) -> str:
    """A JSON Feed: every hostile URL (control characters too) in every URL field an item
    has, then the show notes XML cannot carry."""
    items: list[dict[str, Any]] = [
        {
            "id": f"json-url-{n}",
            "title": f"Every JSON link of this item is {name}",
            "url": url,
            "external_url": url,
            "image": url,
            "banner_image": url,
            "date_published": f"2023-03-01T{n // 60 % 24:02d}:{n % 60:02d}:00Z",
            "content_html": f'<p><a href="{url}">link</a> <img src="{url}" alt="x"></p>',
            "authors": [{"name": f"Author {n}", "url": url, "avatar": url}],
            "attachments": [{"url": url, "mime_type": "audio/mpeg"}],
        }
        for n, (name, url) in enumerate(urls)
    ]
    items += [
        {
            "id": f"json-notes-{name}",
            "title": f"{payload} [{name}]",
            "date_published": f"2023-02-01T00:{n % 60:02d}:00Z",
            "content_html": payload,
            "authors": [{"name": payload}],
            "attachments": [{"url": f"https://media.example.com/json/{n}.mp3"}],
        }
        for n, (name, payload) in enumerate(notes)
        if _NOT_IN_XML.search(payload)
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile JSON", "items": items}
    return json.dumps(feed)


def build_site(work: Path, feeds: dict[str, str]) -> Path:
    for name, text in feeds.items():
        (work / name).write_text(text, encoding="utf-8")
    (work / "feeds.yaml").write_text(
        "site:\n  title: xss check\n  base_url: https://example.github.io/xss/\n"
        "topics:\n  - {slug: heroku, name: Heroku, patterns: [Heroku]}\n"
        "feeds:\n" + "".join(f"  - url: {name}\n" for name in feeds),
        encoding="utf-8",
    )
    arguments = ["build", "--feeds", str(work / "feeds.yaml"), "--out", str(work / "site")]
    arguments += ["--cache", str(work / "cache"), "--no-browser-index", "--quiet"]
    assert main(arguments) == 0
    return work / "site"


@pytest.fixture(scope="module")
def own_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes, urls = own_notes(), own_urls()
    feeds = {
        "notes.rss": notes_feed("Hostile <script>alert('channel')</script> Show", notes, 2024),
        "url-fields.rss": url_feed(urls),
        "json-fields.json": url_json_feed(urls, notes),
    }
    feeds |= {name: (XSS_DATA / name).read_text("utf-8") for name in HAND_WRITTEN}
    return build_site(tmp_path_factory.mktemp("xss-own"), feeds)


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    feeds = {"corpus.rss": notes_feed("Corpus payloads", corpus_notes(), 2024)}
    return build_site(tmp_path_factory.mktemp("xss-corpus"), feeds)


def site_pages(site: Path) -> list[str]:
    """Every page of the site, as a path under BASE_PATH."""
    pages = [path.parent.relative_to(site).as_posix() + "/" for path in site.rglob("index.html")]
    return [*sorted(page.removeprefix("./") for page in pages), "404.html"]


def browse(site: Path) -> dict[str, list[str]]:
    """Open every page of `site` in Chromium; what each page that misbehaved did, by page.

    Playwright starts here, after the site is built: its event loop would stop the build's."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            return browse_with(browser, site)
        finally:
            browser.close()


def browse_with(browser: Any, site: Path) -> dict[str, list[str]]:
    server = make_server(site, port=0, base_path=BASE_PATH)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    findings: dict[str, list[str]] = {}
    current: list[str] = []

    def guard(route: Any) -> None:
        request = route.request
        if request.url.startswith(origin):
            route.continue_()
            return
        if request.resource_type not in ("image", "media"):  # notes may show other hosts' images
            current.append(f"request {request.resource_type} {request.url}")
        route.abort()

    context = browser.new_context()
    try:
        context.add_init_script(TRAP)
        context.route("**/*", guard)
        page = context.new_page()
        page.on(
            "dialog", lambda dialog: (current.append(f"dialog {dialog.message}"), dialog.dismiss())
        )
        page.on("pageerror", lambda error: current.append(f"error {error}"))
        for path in site_pages(site):
            url = origin + BASE_PATH + path
            page.goto(url, wait_until="load")
            current.extend(page.evaluate(PAGE_AUDIT))
            if page.url != url:
                current.append(f"navigated to {page.url}")
            if current:
                findings[path] = current[:]
                current.clear()
    finally:
        context.close()
        server.shutdown()
        server.server_close()
    return findings


def test_no_payload_of_our_own_set_runs_in_a_browser(own_site: Path) -> None:
    in_xml = [payload for _, payload in own_notes() if not _NOT_IN_XML.search(payload)]
    notes_pages = own_site.glob("podcasts/hostile-show/*/index.html")  # slug from its title
    assert len(list(notes_pages)) == len(in_xml)  # a page each
    assert len(list(own_site.glob("podcasts/*/*/index.html"))) >= len(in_xml) + len(own_urls())
    assert browse(own_site) == {}


@pytest.mark.corpus
def test_no_payload_of_the_corpus_runs_in_a_browser(corpus_site: Path) -> None:
    assert len(list(corpus_site.glob("podcasts/*/*/index.html"))) >= 200
    assert browse(corpus_site) == {}
