"""The theme ships inside the package: the site's own templates/ overrides it file by file, and
an installed wheel (not an editable checkout) builds a site from a folder that has none."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT
from test_render import render

from devcasts import state
from devcasts.config.load import load_config
from devcasts.model import Config
from devcasts.records import Catalog
from devcasts.site import templates
from devcasts.site.templates import THEME_DIR, static_files

EPISODE_PAGE = "podcasts/ship-it-weekly/episode-9/index.html"


# --- the site's own files over the theme's --------------------------------------------------


def _write(root: Path, relpath: str, data: str | bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def test_without_a_site_folder_the_theme_gives_every_static_file(tmp_path: Path) -> None:
    theme = {p.relative_to(THEME_DIR / "static").as_posix() for p in THEME_DIR.glob("static/*")}
    found = static_files(tmp_path / "missing")
    assert set(found) == theme >= {"style.css", "cover.png", "search.js"}
    assert all(path.parent == THEME_DIR / "static" for path in found.values())
    assert list(found) == sorted(found)


def test_a_site_static_file_replaces_the_theme_one_and_new_ones_are_added(tmp_path: Path) -> None:
    cover = _write(tmp_path, "static/cover.png", b"our own cover")
    extra = _write(tmp_path, "static/fonts/extra.woff2", b"font")
    found = static_files(tmp_path)
    assert found["cover.png"] == cover
    assert found["fonts/extra.woff2"] == extra
    assert found["style.css"] == THEME_DIR / "static" / "style.css"


def test_the_templates_folder_defaults_to_the_one_beside_feeds_yaml(tmp_path: Path) -> None:
    feeds = _write(
        tmp_path,
        "site/feeds.yaml",
        'site: {title: t, base_url: "https://example.org/"}\n'
        "feeds:\n  - url: https://feeds.example.com/a.xml\n",
    )
    config = load_config(feeds)
    assert config.templates_dir == tmp_path / "site" / "templates"
    assert not config.templates_dir.exists()  # missing is fine: the theme alone is a site


def test_rendered_pages_use_the_site_overrides_file_by_file(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    own = tmp_path / "own-templates"
    _write(own, "card.html", "<p class=own-card>{{ episode.title }}</p>\n")
    _write(own, "static/cover.png", b"our own cover")
    config = dataclasses.replace(sample_config, templates_dir=own)
    out = tmp_path / "site"
    render(sample_catalog, config, out)

    home = (out / "index.html").read_text(encoding="utf-8")
    assert "<p class=own-card>" in home  # the site's card.html
    assert 'class="skip-link"' in home  # the theme's base.html, which the site did not replace
    assert (out / "static/cover.png").read_bytes() == b"our own cover"
    theme_css = (THEME_DIR / "static/style.css").read_bytes()
    assert (out / "static/style.css").read_bytes() == theme_css


def test_a_site_template_extends_the_theme_copy_by_its_theme_prefix(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    own = tmp_path / "own-templates"
    block = '{% block head %}<meta name="x-own" content="yes">{% endblock %}\n'
    _write(own, "base.html", '{% extends "theme/base.html" %}\n' + block)
    config = dataclasses.replace(sample_config, templates_dir=own)
    out = tmp_path / "site"
    render(sample_catalog, config, out)

    page = (out / EPISODE_PAGE).read_text(encoding="utf-8")
    assert '<meta name="x-own" content="yes">' in page
    assert page.count("<html") == 1 and 'class="skip-link"' in page


def test_the_build_fingerprint_covers_the_overrides_and_the_theme(
    tmp_path: Path, sample_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = _write(tmp_path, "feeds.yaml", "site: {}\n")
    own = tmp_path / "own-templates"
    config = dataclasses.replace(sample_config, path=feeds, templates_dir=own)
    theme = tmp_path / "theme"
    shutil.copytree(THEME_DIR, theme)
    monkeypatch.setattr(templates, "THEME_DIR", theme)

    def fingerprint() -> str:
        return state.inputs_fingerprint(config, tmp_path / "site", browser_index=True)

    before = fingerprint()
    _write(own, "static/cover.png", b"our own cover")
    with_override = fingerprint()
    _write(theme, "card.html", "<p>{{ episode.title }}</p>\n")
    assert len({before, with_override, fingerprint()}) == 3


# --- what a user does: install the wheel, build a site ---------------------------------------


def _run(*argv: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtualenv holding devcasts installed from its wheel."""
    pytest.importorskip("setuptools", minversion="77", reason="building the wheel offline")
    work = tmp_path_factory.mktemp("install")
    source = work / "source"  # a copy: a build in place leaves build/ and egg-info behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
    wheels = work / "wheels"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source)
    (wheel,) = wheels.glob("devcasts-*.whl")

    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(*pip, "--python", python, "install", "--no-index", "--no-deps", "--no-compile", wheel)
    # The dependencies are this environment's: its site-packages, as a plain path after the
    # new one's own. A path in a .pth file is not a site folder, so its .pth files (the
    # editable install of this checkout) do not run.
    venv_site = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    dependencies = Path(venv_site.strip()) / "dependencies.pth"
    dependencies.write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    package = _run(python, "-c", "import devcasts; print(devcasts.__file__)").strip()
    assert Path(package).is_relative_to(venv), f"devcasts imported from {package}"
    return venv / "bin"


@pytest.mark.slow
def test_the_installed_wheel_builds_a_site_from_a_folder_without_templates(
    installed: Path, tmp_path: Path
) -> None:
    site_root = tmp_path / "mysite"
    site_root.mkdir()
    shutil.copyfile(ROOT / "examples/feeds.yaml", site_root / "feeds.yaml")
    shutil.copytree(ROOT / "examples/feeds", site_root / "feeds")  # local files: no network
    assert not (site_root / "templates").exists()

    _run(installed / "devcasts", "build", "--offline", "--no-browser-index", cwd=site_root)

    out = site_root / "site"
    assert "Shipping on Friday" in (out / "index.html").read_text(encoding="utf-8")
    for name in ("style.css", "cover.png", "search.js", "player.js"):
        assert (out / "static" / name).read_bytes() == (THEME_DIR / "static" / name).read_bytes()
    episodes = list((out / "podcasts/shipping-on-friday").glob("*/index.html"))
    assert episodes
    assert "<audio" in episodes[0].read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_installed_wheel_inits_a_site_that_checks_and_builds(
    installed: Path, tmp_path: Path
) -> None:
    devcasts = installed / "devcasts"
    _run(devcasts, "init", "new-site", cwd=tmp_path)
    site_root = tmp_path / "new-site"
    assert "ok: 2 feeds" in _run(devcasts, "check", cwd=site_root)
    _run(devcasts, "build", "--offline", "--no-browser-index", cwd=site_root)
    assert "My podcasts" in (site_root / "site/index.html").read_text(encoding="utf-8")
    assert (site_root / "site/static/style.css").is_file()
