"""One build at a time: a second build waits, then gives up with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devcasts.errors import BuildLockedError
from devcasts.util.lock import build_lock

SRC = Path(__file__).resolve().parents[1] / "src"

HOLDER = """
import sys, time
from pathlib import Path
from devcasts.util.lock import build_lock
with build_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def start_holder(lock: Path, seconds: float) -> subprocess.Popen[str]:
    """A process that holds the lock for `seconds`; returns once it has it."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    holder.stdout.close()
    return holder


def test_a_second_build_gives_up_naming_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / "cache" / "build.lock"
    holder = start_holder(lock, 30)
    try:
        started = time.monotonic()
        with pytest.raises(BuildLockedError) as caught, build_lock(lock, timeout=0.3):
            pytest.fail("the lock was taken twice")
        assert time.monotonic() - started >= 0.3
        assert f"pid {holder.pid}" in str(caught.value)
        assert str(lock) in str(caught.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    holder = start_holder(lock, 0.5)
    started = time.monotonic()
    try:
        with build_lock(lock, timeout=20):
            waited = time.monotonic() - started
    finally:
        holder.wait()
    assert 0.3 < waited < 20  # got it only once the holder was done


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    holder = start_holder(lock, 30)
    holder.kill()
    holder.wait()
    with build_lock(lock, timeout=0):
        assert lock.read_text().strip() == str(os.getpid())


def test_the_lock_is_released_after_the_block_and_after_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    with pytest.raises(RuntimeError), build_lock(lock, timeout=0):
        raise RuntimeError("boom")
    with build_lock(lock, timeout=0):
        pass


def test_two_threads_take_turns(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    inside: list[int] = []
    overlaps: list[int] = []

    def build(n: int) -> None:
        with build_lock(lock, timeout=20, poll=0.01):
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(n)
            time.sleep(0.05)
            inside.remove(n)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


BUILD = """
import sys, time
from pathlib import Path
from devcasts.util.lock import build_lock
from devcasts.site.writer import site_transaction
root, name = Path(sys.argv[1]), sys.argv[2]
with build_lock(root / "cache" / "build.lock", timeout=60, poll=0.02):
    started = time.monotonic()
    with site_transaction(root / "site") as writer:
        for i in range(200):
            writer.write_text(f"pages/{i}.html", f"{name} {i}")
            time.sleep(0.002)
        writer.write_text("built-by.txt", name)
    print(started, time.monotonic(), flush=True)
"""


def test_two_builds_at_once_take_turns_and_leave_one_whole_site(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    builds = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD, str(tmp_path), name],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("first", "second")
    ]
    spans = []
    for build in builds:
        out, _ = build.communicate(timeout=120)
        assert build.returncode == 0
        spans.append(tuple(float(x) for x in out.split()))
    (_, first_end), (second_start, _) = sorted(spans)
    assert first_end <= second_start  # never inside the transaction together
    site = tmp_path / "site"
    winner = (site / "built-by.txt").read_text()
    pages = sorted(site.glob("pages/*.html"))
    assert len(pages) == 200
    assert {p.read_text().split()[0] for p in pages} == {winner}
