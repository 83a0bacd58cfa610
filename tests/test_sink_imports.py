"""The site and the published feeds take values from the stages before them, not their code."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

PACKAGE = ROOT / "src" / "devcasts"


def devcasts_imports(path: str) -> set[str]:
    """Every devcasts module a file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((PACKAGE / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("devcasts")}


SINKS = sorted(
    path.relative_to(PACKAGE).as_posix()
    for package in ("site", "publish")
    for path in (PACKAGE / package).glob("*.py")
)


@pytest.mark.parametrize("path", SINKS)
def test_site_and_publish_never_import_ingest(path: str) -> None:
    assert {m for m in devcasts_imports(path) if m.startswith("devcasts.ingest")} == set()


def test_the_sinks_are_all_checked() -> None:
    assert {"site/render.py", "site/pages.py", "publish/feeds.py"} <= set(SINKS)
