"""One build at a time: an flock on a file in the cache directory."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from devcasts.errors import BuildLockedError

__all__ = ["build_lock"]

DEFAULT_WAIT = 60.0  # seconds a second build waits before giving up


@contextlib.contextmanager
def build_lock(path: Path, timeout: float = DEFAULT_WAIT, poll: float = 0.1) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the duration; wait up to `timeout` seconds for it.

    The kernel releases the lock when the holder exits, even on SIGKILL, so a killed build
    never leaves a stale lock behind. Raises BuildLockedError naming the holder's pid.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, timeout, poll)
        try:
            _record_holder(fd)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BuildLockedError(_locked_message(fd, path, timeout)) from None
            time.sleep(poll)


def _record_holder(fd: int) -> None:
    """Write our pid into the lock file, for the message a waiting build prints."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)


def _locked_message(fd: int, path: Path, timeout: float) -> str:
    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    who = f"another build (pid {holder})" if holder.isdigit() else "another build"
    waited = f"; gave up after waiting {timeout:g} s" if timeout > 0 else ""
    return f"{who} is running (lock file {path}){waited}. Try again when it has finished."
