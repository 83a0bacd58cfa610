"""Lighthouse on the offline example: accessibility 100 and performance >= 95.

Runs npm's lighthouse@12.2.3 (installed once into .cache/npm) driving Debian's
/usr/bin/chromium through CHROME_PATH, headless, one run per page, on the example site served
from 127.0.0.1. Pages link to other hosts but request none, so the run stays on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, npm_file, start_server

from devcasts.config.load import load_config

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LIGHTHOUSE = "lighthouse@12.2.3"
PAGES = {
    "home": "",
    "episode": "podcasts/shipping-on-friday/crossover-heroku-to-fly-io-migration-stories/",
}
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
if not shutil.which("node"):
    pytest.skip("Lighthouse needs node and npm", allow_module_level=True)


@pytest.fixture(scope="module")
def lighthouse() -> Path:
    return npm_file(LIGHTHOUSE, "cli/index.js", "DEVCASTS_LIGHTHOUSE_JS")


@pytest.fixture(scope="module")
def example_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("lighthouse-example")
    shutil.copytree(ROOT / "examples", work / "examples")
    feeds = work / "examples" / "feeds.yaml"
    site = work / "site"
    build = [sys.executable, str(ROOT / "build.py"), "--feeds", str(feeds), "--out", str(site)]
    subprocess.run([*build, "--cache", str(work / "cache")], check=True, capture_output=True)
    url, server = start_server(site, load_config(feeds).site.base_path)
    yield url
    server.shutdown()
    server.server_close()


def lighthouse_scores(lighthouse: Path, url: str, report: Path) -> dict[str, float]:
    command = [
        "node",
        str(lighthouse),
        url,
        "--only-categories=accessibility,performance",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
    ]
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    return {name: category["score"] for name, category in result["categories"].items()}


def failed_audits(report: Path) -> list[str]:
    """What cost points, to say why a score fell."""
    result = json.loads(report.read_text(encoding="utf-8"))
    return [
        f"{audit['id']}: {audit['title']} ({audit.get('displayValue', audit['score'])})"
        for audit in result["audits"].values()
        if audit.get("score") is not None and audit["score"] < 0.9
    ]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_lighthouse_scores(lighthouse: Path, example_url: str, tmp_path: Path, name: str) -> None:
    report = tmp_path / f"lighthouse-{name}.json"
    scores = lighthouse_scores(lighthouse, example_url + PAGES[name], report)
    assert scores["accessibility"] == 1, failed_audits(report)
    assert scores["performance"] >= 0.95, failed_audits(report)
