"""What search engines and podcast apps read: JSON-LD, sitemap.xml, robots.txt, opml.xml,
health.json. Pure functions from the Catalog to text; every feed-derived string is escaped.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape as _xml_escape

from markupsafe import Markup

from devcasts.model import FeedHealth, SiteConfig
from devcasts.records import Catalog, Podcast
from devcasts.site import urls
from devcasts.util import links

# "<" and friends must never appear raw inside <script>: "</script>" in a title would end it.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, by the sitemaps.org protocol
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ET.register_namespace("", _SITEMAP_NS[1:-1])
# Characters XML 1.0 forbids even when escaped; a feed title carrying one must not break opml.xml.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def external_url(value: str | None) -> str | None:
    """The URL if it is absolute http(s) with a host (no javascript:, data:, paths) that is
    not a private or local address: pages and their JSON-LD link out as our feeds do."""
    return links.public_url(value)


def script_json(data: object) -> Markup:
    """JSON for a <script type="application/ld+json"> block, safe against early </script>."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.translate(_SCRIPT_SAFE).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 -- every character that could end the script is escaped


def iso_duration(seconds: int | None) -> str | None:
    """schema.org durations: PT1H2M3S."""
    if seconds is None or seconds < 0:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def podcast_series_ld(podcast: Podcast, site: SiteConfig) -> dict[str, object]:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "PodcastSeries",
        "name": podcast.title,
        "url": urls.absolute(site.base_url, urls.podcast(podcast.slug)),
    }
    if podcast.summary:
        data["description"] = podcast.summary
    if feed := external_url(podcast.feed_url):
        data["webFeed"] = feed
    if image := external_url(podcast.image):
        data["image"] = image
    if podcast.author:
        data["author"] = {"@type": "Person", "name": podcast.author}
    return data


def sitemap_files(
    site: SiteConfig, pages: Mapping[str, datetime | None], limit: int = SITEMAP_LIMIT
) -> list[tuple[str, str]]:
    """The sitemap for every HTML page; past `limit` URLs (the protocol's cap), an index of
    numbered sitemaps. Returns (path, text) pairs."""
    ordered = sorted(pages)
    if len(ordered) <= limit:
        return [(urls.sitemap(), _urlset(site, ordered, pages))]
    chunks = [ordered[i : i + limit] for i in range(0, len(ordered), limit)]
    files = [
        (urls.sitemap_part(n), _urlset(site, chunk, pages)) for n, chunk in enumerate(chunks, 1)
    ]
    index = ET.Element(f"{_SITEMAP_NS}sitemapindex")
    for name, _ in files:
        ET.SubElement(
            ET.SubElement(index, f"{_SITEMAP_NS}sitemap"), f"{_SITEMAP_NS}loc"
        ).text = urls.absolute(site.base_url, name)
    return [(urls.sitemap(), _xml_text(index)), *files]


def _urlset(site: SiteConfig, relpaths: Sequence[str], pages: Mapping[str, datetime | None]) -> str:
    """Written as text, not through ElementTree: 20,000 entries cost milliseconds this way.
    The escaping works character by character, so the base URL is escaped once, and a path
    with nothing to escape or remove (a slug's) is taken as it is."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{_SITEMAP_NS[1:-1]}">']
    base = _loc_text(urls.absolute(site.base_url, ""))
    for relpath in relpaths:
        loc = base + (_loc_text(relpath) if _TO_ESCAPE.search(relpath) else relpath)
        if (changed := pages[relpath]) is None:
            lines.append(f"  <url>\n    <loc>{loc}</loc>\n  </url>")
        else:
            day = changed.date().isoformat()
            lines.append(f"  <url>\n    <loc>{loc}</loc>\n    <lastmod>{day}</lastmod>\n  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


_TO_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _loc_text(url: str) -> str:
    return _xml_escape(_NOT_XML.sub("", url))


def website_ld(site: SiteConfig) -> dict[str, object]:
    """The site, with the search box search engines may offer (schema.org SearchAction)."""
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.title,
        "url": urls.absolute(site.base_url, urls.home()),
        "potentialAction": {
            "@type": "SearchAction",
            "target": urls.absolute(site.base_url, urls.search()) + "?q={search_term_string}",
            "query-input": "required name=search_term_string",
        },
    }


def robots_txt(site: SiteConfig) -> str:
    sitemap = urls.absolute(site.base_url, urls.sitemap())
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n"


def opml_xml(site: SiteConfig, podcasts: Sequence[Podcast], built_at: datetime | None) -> str:
    """Every source feed with a public URL (feeds read from local files have none to share)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _NOT_XML.sub("", f"{site.title}: source feeds")
    if built_at is not None:
        ET.SubElement(head, "dateCreated").text = _rfc822(built_at)
    body = ET.SubElement(root, "body")
    for podcast in sorted(podcasts, key=lambda p: (p.title.casefold(), p.slug)):
        if feed := external_url(podcast.feed_url):
            title = _NOT_XML.sub("", podcast.title)
            outline = ET.SubElement(body, "outline", type="rss", text=title, title=title)
            outline.set("xmlUrl", feed)
            if site_link := external_url(podcast.link):
                outline.set("htmlUrl", site_link)
    return _xml_text(root)


def health_json(catalog: Catalog) -> str:
    """The feed health table as data, for monitors: one object per source feed."""
    feeds = [_health_record(h) for h in sorted(catalog.health, key=lambda h: h.slug)]
    summary: dict[str, int] = {}
    for record in feeds:
        status = str(record["status"])
        summary[status] = summary.get(status, 0) + 1
    document = {
        "built_at": _iso(catalog.built_at),
        "counts": dict(sorted(summary.items())),
        "feeds": feeds,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _health_record(health: FeedHealth) -> dict[str, object]:
    return {
        "slug": health.slug,
        "title": health.title,
        "url": health.url,
        "status": health.status.value,
        "reason": health.reason,
        "episodes": health.episodes,
        "new_episodes": health.new_episodes,
        "failures": health.failures,
        "first_failure": _iso(health.first_failure),
        "last_failure": _iso(health.last_failure),
        "last_success": _iso(health.last_success),
        "moved_to": health.moved_to,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment)  # English names whatever the locale


def _xml_text(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
