"""Replacing a file so that a reader, or a build killed halfway, sees the old bytes or the new."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_file(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to a new file beside `path` (mode 0644, whatever the umask) and rename it
    over `path`. A hard-linked original is never written to. `durable` flushes the bytes to
    disk before the rename, for files that are the only copy of something (the archive)."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
