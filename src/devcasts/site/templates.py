"""Where a site's templates and static files come from: the site's own templates folder first,
then the theme shipped inside the package, file by file.

A site changes one page by putting a template of the same name in its folder, and one asset by
putting a file at the same path under its `static/`; everything else comes from the theme. A
site template can also extend the theme's own copy as `theme/<name>` and replace one block. The
site's folder may be missing: the theme alone is a whole site.

No jinja2 here: a build that renders nothing still fingerprints these folders.
"""

from __future__ import annotations

from pathlib import Path

THEME_DIR = Path(__file__).parent / "theme"
THEME_PREFIX = "theme"  # `{% extends "theme/base.html" %}` names the theme's copy
STATIC = "static"


def search_path(site_templates: Path) -> tuple[Path, Path]:
    """The folders a template is looked up in, first match wins."""
    return (site_templates, THEME_DIR)


def static_files(site_templates: Path) -> dict[str, Path]:
    """Every static file the site publishes, by its path under static/, sorted; a file in the
    site's static/ replaces the theme's file at the same path."""
    found: dict[str, Path] = {}
    for root in reversed(search_path(site_templates)):  # the theme first, the site over it
        folder = root / STATIC
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.is_file():
                    found[path.relative_to(folder).as_posix()] = path
    return dict(sorted(found.items()))
