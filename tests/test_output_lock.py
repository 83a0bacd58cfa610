"""One build at a time: a second build waits, then gives up with a clear message."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
import types
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


# --- the lock covers what a build writes, whatever its cache ----------------------------------

ITEM = (
    "<item><title>Episode {n}</title><guid>ep-{n}</guid>"
    "<pubDate>Mon, 0{n} Jan 2024 08:00:00 +0000</pubDate>"
    '<enclosure url="https://media.example.com/{n}.mp3" type="audio/mpeg" length="1"/></item>'
)
FEED = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Slow Show</title>'
    "<link>https://slow.example/</link><description>d</description>"
    + "".join(ITEM.format(n=n) for n in range(1, 4))
    + "</channel></rss>"
).encode()


class HeldFeedServer:
    """A feed on 127.0.0.1 that is answered only once `answer` is set: a build fetching it
    holds its locks until then."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.answer = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.asked.set()
                outer.answer.wait(120)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                self.wfile.write(FEED)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/slow.xml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.answer.set()
        self.server.shutdown()
        self.server.server_close()


def devcasts_build(project: Path, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "devcasts.cli.main", "build", "-q", "--no-browser-index"]
    return subprocess.Popen(
        [*command, "--allow-private-network", *argv],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("second_out", ["site", "public"])
def test_a_build_with_another_cache_is_refused_while_one_runs(
    tmp_path: Path, second_out: str
) -> None:
    """Two real builds of one project with different caches: the second is refused with a
    message (it would write the same archive), and the first finishes a whole site."""
    server = HeldFeedServer()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "feeds.yaml").write_text(
        f"site: {{title: t, base_url: 'https://example.github.io/t/'}}\n"
        f"feeds: [{{url: '{server.url}', title: Slow Show}}]\n",
        encoding="utf-8",
    )
    try:
        first = devcasts_build(project, "--cache", "cache-one")
        assert server.asked.wait(60), "the first build never fetched its feed"
        second = devcasts_build(project, "--cache", "cache-two", "--out", second_out)
        _, second_err = second.communicate(timeout=120)
        server.answer.set()
        _, first_err = first.communicate(timeout=120)
    finally:
        server.close()
    assert second.returncode == 1, second_err
    assert "another build is writing" in second_err
    assert f"another build is writing {project}" in second_err  # its site's folder, or content
    assert "Traceback" not in second_err
    assert first.returncode == 0, first_err
    assert not (project / "public").exists()
    archive = sorted(p.name for p in (project / "content" / "archive").iterdir())
    assert archive == ["slow-show"]
    assert (project / "site" / "index.html").is_file()


def test_the_output_folder_is_locked_for_another_project(tmp_path: Path) -> None:
    """Two projects writing one output folder: the folder that holds it is locked."""
    from devcasts.util.lock import folder_locks

    out_parent = tmp_path / "www"
    with folder_locks([out_parent, out_parent / ".", tmp_path / "content"], timeout=0):
        with pytest.raises(BuildLockedError) as caught, folder_locks([out_parent], timeout=0):
            pytest.fail("the folder was locked twice")
        assert f"another build is writing {out_parent}" in str(caught.value)
    with folder_locks([out_parent], timeout=0):
        pass  # released


HOLD_FOLDER = """
import sys
from pathlib import Path
from devcasts.util.lock import folder_locks
with folder_locks([Path(sys.argv[1])]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_build_is_refused_while_another_process_writes_its_site_folder(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "feeds.yaml").write_text(
        "site: {title: t, base_url: 'https://example.github.io/t/'}\n"
        "feeds: [{url: 'https://feeds.example.com/x.xml'}]\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOLDER, str(tmp_path / "www")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        build = devcasts_build(project, "--offline", "--out", str(tmp_path / "www" / "site"))
        _, err = build.communicate(timeout=120)
    finally:
        release(holder)
        if holder.stdout is not None:
            holder.stdout.close()
    assert build.returncode == 1, err
    assert f"another build is writing {tmp_path / 'www'}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "www" / "site").exists()


def test_the_cache_lock_and_the_folder_locks_share_one_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that waited 0.6 s for the cache's lock waits only what is left of its timeout
    for the folders, not a whole timeout more. A fake clock: sleeping moves it on."""
    import fcntl

    from devcasts.util import lock as lock_module

    lock_file, folder = tmp_path / "cache" / "build.lock", tmp_path / "content"
    lock_file.parent.mkdir()
    folder.mkdir()
    cache_fd = os.open(lock_file, os.O_RDWR | os.O_CREAT)
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(cache_fd, fcntl.LOCK_EX)  # another open file: flock refuses it to the build
    fcntl.flock(folder_fd, fcntl.LOCK_EX)
    clock = [100.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        if clock[0] >= 100.6:
            fcntl.flock(cache_fd, fcntl.LOCK_UN)  # the other build lets the cache go

    fake_time = types.SimpleNamespace(monotonic=lambda: clock[0], sleep=sleep)
    monkeypatch.setattr(lock_module, "time", fake_time)
    try:
        with (
            pytest.raises(BuildLockedError, match="is writing"),
            lock_module.build_locks(lock_file, [folder], timeout=1.0),
        ):
            pytest.fail("the folder was locked twice")
        assert 100.6 <= clock[0] <= 101.0 + 0.2  # one shared second, not 1.6 s
    finally:
        os.close(cache_fd)
        os.close(folder_fd)
