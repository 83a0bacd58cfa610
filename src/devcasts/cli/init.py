"""`devcasts init DIR`: a new site that checks, builds and deploys as it is.

The files come from starter/ beside this module. Its workflow is the one this project deploys
its own site with (.github/workflows/pages.yml; a test keeps the two the same), and it installs
the devcasts named in the new site's requirements.txt.
"""

from __future__ import annotations

from pathlib import Path

from devcasts import PROJECT_URL, __version__

STARTER_DIR = Path(__file__).parent / "starter"
# Each file of a new site and the starter file it is copied from. Starter names have no leading
# dot: package data leaves dotfiles out.
STARTER_FILES = (
    ("feeds.yaml", "feeds.yaml"),
    ("content/about.md", "about.md"),
    ("templates/README.md", "templates-README.md"),
    (".github/workflows/pages.yml", "pages.yml"),
    (".gitignore", "gitignore"),
)


class SiteExistsError(Exception):
    """The folder already holds a file init would write."""


def new_site_files() -> dict[str, bytes]:
    """Every file of a new site, by its path in the site's folder."""
    files = {target: (STARTER_DIR / source).read_bytes() for target, source in STARTER_FILES}
    files["requirements.txt"] = requirements().encode()
    return files


def requirements() -> str:
    """The new site builds with the devcasts release that made it, until the line is edited."""
    return (
        "# The devcasts this site builds with: the GitHub Pages workflow installs this file.\n"
        f"devcasts @ git+{PROJECT_URL}@v{__version__}\n"
    )


def init_site(folder: Path) -> list[str]:
    """Write a new site into `folder` (created if missing) and return the paths written. Other
    files already there (a README, .git/) are left alone; if any file init writes exists,
    nothing is written."""
    files = new_site_files()
    if folder.exists() and not folder.is_dir():
        raise SiteExistsError(f"{folder} is a file, not a folder")
    taken = [name for name in files if (folder / name).exists() or (folder / name).is_symlink()]
    if taken:
        raise SiteExistsError(
            f"{folder} already has {', '.join(taken)}: init never overwrites a file; "
            "choose a new folder, or move these away first"
        )
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:  # "x": a file that appeared meanwhile is not replaced
            handle.write(data)
    return list(files)
