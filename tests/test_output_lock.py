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
import sys
from pathlib import Path
from devcasts.util.lock import build_lock
with build_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def start_holder(lock: Path) -> subprocess.Popen[str]:
    """A process that holds the lock until release(holder) (or its end); returns once it has it."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    holder.stdout.close()
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()  # the holder reads the end of its input and lets go
    holder.wait()


def test_a_second_build_gives_up_naming_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / "cache" / "build.lock"
    holder = start_holder(lock)
    try:
        started = time.monotonic()
        with pytest.raises(BuildLockedError) as caught, build_lock(lock, timeout=0.3):
            pytest.fail("the lock was taken twice")
        assert time.monotonic() - started >= 0.3  # a lower bound: only ever true when slower
        assert f"pid {holder.pid}" in str(caught.value)
        assert str(lock) in str(caught.value)
    finally:
        release(holder)


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    holder = start_holder(lock)
    events: list[str] = []
    got_it = threading.Event()

    def second_build() -> None:
        with build_lock(lock, timeout=60, poll=0.01):
            events.append("second build has the lock")
            got_it.set()

    waiter = threading.Thread(target=second_build)
    try:
        waiter.start()
        assert not got_it.wait(0.3)  # still waiting while the first build holds the lock
        events.append("first build lets go")
    finally:
        release(holder)
    waiter.join(60)
    assert events == ["first build lets go", "second build has the lock"]


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    holder = start_holder(lock)
    holder.kill()
    release(holder)  # closes its input, and waits for its end
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
