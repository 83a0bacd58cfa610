"""The few exceptions devcasts raises on purpose; each carries a message a user can act on."""

from __future__ import annotations

from pathlib import Path


class DevcastsError(Exception):
    """Base class: the CLI prints str(error) and exits non-zero, with no traceback."""


class ConfigError(DevcastsError):
    """A user-written file (feeds.yaml, overrides, front matter) is wrong.

    str() reads `FILE:LINE: KEY: MESSAGE`, the way compilers report, so editors can jump to it.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None, key: str = ""):
        self.path = Path(path)
        self.line = line
        self.key = key
        self.message = message
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class BuildError(DevcastsError):
    """The site could not be built (exit code 1)."""


class BuildLockedError(BuildError):
    """Another build holds the lock."""


class OutputFolderError(DevcastsError):
    """The output folder is one a build must not replace (exit code 2, like a bad flag)."""

    def __init__(self, out_dir: Path, reason: str):
        super().__init__(
            f"refused: --out {out_dir}: {reason}. Nothing was moved or deleted (the default: site)"
        )
