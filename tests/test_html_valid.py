"""Every generated page is valid HTML, by the Nu HTML Checker (npm package vnu-jar, on Java).

The jar is looked for in $DEVCASTS_VNU_JAR, then in .cache/npm (installed there with
`npm install --prefix .cache/npm vnu-jar` when npm is available); skipped without Java.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from devcasts.model import Catalog, Config
from devcasts.output import SiteWriter
from devcasts.render import render_site

NPM_CACHE = ROOT / ".cache" / "npm"
JAR_IN_CACHE = NPM_CACHE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture(scope="module")
def vnu_jar() -> Path:
    if shutil.which("java") is None:
        pytest.skip("java is not installed")
    if env_jar := os.environ.get("DEVCASTS_VNU_JAR"):
        return Path(env_jar)
    if not JAR_IN_CACHE.is_file() and shutil.which("npm"):
        subprocess.run(
            ["npm", "install", "--prefix", str(NPM_CACHE), "--no-audit", "--no-fund", "vnu-jar"],
            capture_output=True,
            check=False,
            timeout=240,
        )
    if not JAR_IN_CACHE.is_file():
        pytest.skip("vnu-jar is not installed (npm install --prefix .cache/npm vnu-jar)")
    return JAR_IN_CACHE


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
    render_site(sample_catalog, sample_config, SiteWriter(out))
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 80
    assets = [out / "static" / "style.css", out / "static" / "icon.svg"]
    assert vnu_errors(vnu_jar, pages + assets, "--also-check-css", "--also-check-svg") == []


def test_the_checker_reports_invalid_markup(tmp_path: Path, vnu_jar: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html lang=en><title>x</title><ul><div>not a list item</div>")
    assert vnu_errors(vnu_jar, [bad]) != []
