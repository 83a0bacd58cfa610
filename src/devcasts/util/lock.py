"""One build at a time: flocks on what a build writes.

`build_lock` holds a lock file in the cache (and records the holder's pid there).
`folder_locks` holds the folders themselves, so two builds with different caches that would
write the same archive or the same site are still refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from devcasts.errors import BuildLockedError

__all__ = ["build_lock", "build_locks", "folder_locks"]

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
        _acquire(fd, path, timeout, time.monotonic() + timeout, poll)
        try:
            _record_holder(fd)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def folder_locks(
    folders: Sequence[Path],
    timeout: float = DEFAULT_WAIT,
    poll: float = 0.1,
    deadline: float | None = None,
) -> Iterator[None]:
    """Hold an exclusive flock on each folder (created if missing) for the duration.

    The lock is on the folder itself, so no file is added to it. A folder named twice (or
    through a symlink) is locked once, and the folders are locked in one order, so two builds
    never each hold what the other waits for. All of them share one wait of `timeout` seconds
    (or until the monotonic `deadline`, when given).
    """
    deadline = time.monotonic() + timeout if deadline is None else deadline
    with contextlib.ExitStack() as held:
        opened: dict[tuple[int, int], tuple[int, Path]] = {}
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            held.callback(os.close, fd)
            status = os.fstat(fd)
            opened.setdefault((status.st_dev, status.st_ino), (fd, folder.absolute()))
        for _, (fd, folder) in sorted(opened.items()):
            _acquire(fd, folder, timeout, deadline, poll, _folder_message)
            held.callback(fcntl.flock, fd, fcntl.LOCK_UN)
        yield


@contextlib.contextmanager
def build_locks(
    lock_file: Path, folders: Sequence[Path], timeout: float = DEFAULT_WAIT
) -> Iterator[None]:
    """The cache's lock file, then the folders a build writes, within one wait of `timeout`
    seconds in all (not one wait per lock)."""
    deadline = time.monotonic() + timeout
    with build_lock(lock_file, timeout), folder_locks(folders, timeout, deadline=deadline):
        yield


def _acquire(
    fd: int,
    path: Path,
    timeout: float,
    deadline: float,
    poll: float,
    message: Callable[[int, Path, float], str] | None = None,
) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BuildLockedError((message or _locked_message)(fd, path, timeout)) from None
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


def _folder_message(fd: int, path: Path, timeout: float) -> str:
    waited = f"; gave up after waiting {timeout:g} s" if timeout > 0 else ""
    return (
        f"another build is writing {path} (perhaps with another --cache){waited}. "
        "Try again when it has finished."
    )
