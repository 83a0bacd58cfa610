"""Writing the site: only files whose bytes changed, and never a half-written site."""

from __future__ import annotations

from pathlib import Path


class SiteWriter:
    """Collects the files of one build.

    `write` puts a file's bytes in place only when they differ from what is there, so an
    unchanged page keeps its mtime. `keep` marks a file the build did not need to regenerate.
    `finish` removes every file that was neither written nor kept (pages that no longer exist).
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.seen: set[str] = set()
        self.changed: list[str] = []

    def write(self, relpath: str, data: bytes) -> bool:
        relpath = _safe_relpath(relpath)
        self.seen.add(relpath)
        target = self.out_dir / relpath
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        self.changed.append(relpath)
        return True

    def write_text(self, relpath: str, text: str) -> bool:
        return self.write(relpath, text.encode("utf-8"))

    def keep(self, relpath: str) -> None:
        self.seen.add(_safe_relpath(relpath))

    def exists(self, relpath: str) -> bool:
        return (self.out_dir / _safe_relpath(relpath)).is_file()

    def finish(self) -> list[str]:
        """Remove files this build did not produce; return their paths."""
        removed: list[str] = []
        if not self.out_dir.is_dir():
            return removed
        for path in sorted(self.out_dir.rglob("*")):
            if path.is_file():
                rel = path.relative_to(self.out_dir).as_posix()
                if rel not in self.seen:
                    path.unlink()
                    removed.append(rel)
        return removed


def _safe_relpath(relpath: str) -> str:
    """Reject absolute paths and `..` so no feed-derived name escapes the output folder."""
    parts = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise ValueError(f"unsafe output path: {relpath!r}")
    return "/".join(parts)
