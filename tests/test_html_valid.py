"""Every generated page is valid HTML, by the Nu HTML Checker (npm package vnu-jar, on Java).

The jar is looked for in $DEVCASTS_VNU_JAR, then in .cache/npm (installed there with
`npm install --prefix .cache/npm vnu-jar` when npm is available); skipped without Java.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import npm_file

from devcasts.model import Config
from devcasts.records import Catalog
from devcasts.site.artwork import Artwork
from devcasts.site.content_pages import load_content_pages
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter


@pytest.fixture(scope="module")
def vnu_jar() -> Path:
    if shutil.which("java") is None:
        pytest.skip("java is not installed")
    return npm_file("vnu-jar", "build/dist/vnu.jar", "DEVCASTS_VNU_JAR")


def vnu_errors(jar: Path, files: list[Path], *flags: str) -> list[str]:
    result = subprocess.run(
        ["java", "-jar", str(jar), "--errors-only", "--format", "json", *flags, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')} [{m.get('extract', '')}]"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]


def test_every_page_is_valid_html(
    tmp_path: Path, vnu_jar: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    out = tmp_path / "site"
    content = load_content_pages(sample_config.content_dir, sample_config.site.base_path)
    render_site(sample_catalog, sample_config, SiteWriter(out), content)
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 80
    assets = [out / "static" / "style.css", out / "static" / "icon.svg"]
    assert vnu_errors(vnu_jar, pages + assets, "--also-check-css", "--also-check-svg") == []


def test_pages_with_covers_are_valid_html(
    tmp_path: Path, vnu_jar: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    """Covers as a build with fetched images shows them: <picture> with WebP sources."""
    out = tmp_path / "site"
    images = {p.image: f"{n:020x}" for n, p in enumerate(sample_catalog.podcasts) if p.image}
    art = Artwork(images, "f" * 20, touch_icon=True)
    render_site(sample_catalog, sample_config, SiteWriter(out), [], art=art)
    pages = [
        out / "index.html",
        out / "podcasts" / "index.html",
        *sorted(out.glob("podcasts/*/index.html"))[:3],
        *sorted(out.glob("podcasts/*/*/index.html"))[:3],
        *sorted(out.glob("people/*/index.html"))[:2],
    ]
    assert all("<picture" in page.read_text() for page in pages)
    assert vnu_errors(vnu_jar, pages) == []


def test_the_checker_reports_invalid_markup(tmp_path: Path, vnu_jar: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html lang=en><title>x</title><ul><div>not a list item</div>")
    assert vnu_errors(vnu_jar, [bad]) != []
