"""The package layout follows the pipeline: each stage imports only the shared values and itself.

config -> fetch -> ingest -> archive -> catalog -> {search, site, publish}; `pipeline` (the
recipe) and `cli` wire the stages together. A stage that needs something from another stage
receives it as a value (model.py, records.py), so no stage reaches back into another's internals.
docs/architecture.md describes the same rules in prose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "devcasts"

# The values every stage shares, and small helpers with no knowledge of any stage.
FOUNDATION = frozenset({"model", "records", "errors", "util"})

# What each stage may import besides FOUNDATION and its own package.
ALLOWED: dict[str, frozenset[str]] = {
    "util": frozenset(),
    "model": frozenset(),
    "records": frozenset(),
    "errors": frozenset(),
    "config": frozenset({"ingest.topics"}),  # a topic pattern is checked as it will be matched
    "fetch": frozenset(),
    "ingest": frozenset(),
    "archive": frozenset(),
    "catalog": frozenset({"archive.state"}),  # the archive it is built from: values only
    "search": frozenset(
        {"site.urls", "site.pages", "site.filters"}
    ),  # the browser index lists what pages show
    "site": frozenset(),
    "publish": frozenset({"site"}),  # our feeds link to the site's pages
    "tools": frozenset(),
}
RECIPES = frozenset({"pipeline", "state", "health", "cli"})  # wire the stages together


def _modules() -> dict[str, Path]:
    """ "site.render" -> its file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, for_typing: bool = True) -> set[str]:
    """The devcasts modules a file imports, at its top or inside a function; with
    `for_typing=False`, not those imported only for type checking (they never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if not for_typing and id(node) in typing_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import (imports are absolute)"
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            # "from devcasts.site import urls" imports site.urls, not all of site
            names = [m for m in submodules if m.removeprefix("devcasts.") in MODULES]
            names = names or [node.module]
        for name in names:
            module = name.removeprefix("devcasts.")
            if name.startswith("devcasts.") and module in MODULES:
                found.add(module)
    return found


def _stage(module: str) -> str:
    return module.split(".")[0]


def _allowed(importer: str, imported: str) -> bool:
    stage = _stage(importer)
    if stage in RECIPES or _stage(imported) in FOUNDATION | {stage}:
        return True
    return any(imported == a or imported.startswith(a + ".") for a in ALLOWED[stage])


def test_every_module_belongs_to_a_known_stage() -> None:
    unknown = {m for m in MODULES if _stage(m) not in ALLOWED.keys() | RECIPES}
    assert unknown == set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_flow(module: str) -> None:
    backwards = sorted(i for i in _imports(MODULES[module]) if not _allowed(module, i))
    assert backwards == [], f"devcasts.{module} reaches into another stage"


def test_no_import_cycles() -> None:
    graph = {m: _imports(p, for_typing=False) - {m} for m, p in MODULES.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            cycle = " -> ".join((*path[path.index(module) :], module))
            pytest.fail(f"import cycle: {cycle}")
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_package_init_files_import_nothing() -> None:
    """A build with nothing new loads only what it uses: importing a package costs nothing."""
    for init in PACKAGE.rglob("__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert imports == [], f"{init.relative_to(ROOT)} imports"


def test_the_architecture_page_names_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    missing = sorted(p for p in packages if f"`{p}/`" not in text)
    assert missing == []
