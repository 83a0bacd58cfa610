"""Work in other processes: forked workers over items, and one background child."""

from __future__ import annotations

import os
import threading

import pytest

from devcasts.errors import BuildError
from devcasts.util import processes
from devcasts.util.processes import map_in_forks, start_in_background

two_cores = pytest.mark.skipif(processes.usable_cores() < 2, reason="needs two usable cores")


@pytest.fixture
def forks_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test runner may keep a thread of its own; these children run no thread code."""
    monkeypatch.setattr(processes, "fork_is_safe", lambda: True)


@two_cores
def test_items_are_shared_among_workers_and_come_back_in_order(forks_allowed: None) -> None:
    results = map_in_forks(lambda n: (n * n, os.getpid()), range(40), max_workers=4)
    assert [square for square, _ in results] == [n * n for n in range(40)]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= processes.usable_cores()


@two_cores
def test_work_reaches_the_workers_through_the_fork_not_pickled(forks_allowed: None) -> None:
    lock = threading.Lock()  # cannot be pickled
    jobs = [lambda n=n: (lock.locked(), n) for n in range(10)]  # nor can lambdas
    assert map_in_forks(lambda job: job(), jobs, max_workers=2) == [(False, n) for n in range(10)]


def test_one_core_or_an_unsafe_fork_means_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "usable_cores", lambda: 1)
    assert map_in_forks(lambda _: os.getpid(), range(20), max_workers=4) == [os.getpid()] * 20
    assert start_in_background(os.getpid, "a job").result() == os.getpid()
    monkeypatch.setattr(processes, "usable_cores", lambda: 2)
    monkeypatch.setattr(processes, "fork_is_safe", lambda: False)
    assert map_in_forks(lambda _: os.getpid(), range(20), max_workers=4) == [os.getpid()] * 20
    assert start_in_background(os.getpid, "a job").result() == os.getpid()


@two_cores
def test_a_workers_exception_is_raised_here_with_its_traceback(forks_allowed: None) -> None:
    def picky(n: int) -> int:
        if n == 7:
            raise ValueError("seven is not allowed")
        return n

    with pytest.raises(ValueError, match="seven is not allowed") as raised:
        map_in_forks(picky, range(20), max_workers=2)
    assert any("picky" in note for note in raised.value.__notes__)


@two_cores
def test_a_worker_that_dies_fails_the_map_clearly(forks_allowed: None) -> None:
    def fatal(n: int) -> int:
        if n == 3:
            os._exit(9)
        return n

    with pytest.raises(BuildError, match="stopped before its work was done"):
        map_in_forks(fatal, range(10), max_workers=2)


@two_cores
def test_a_background_child_runs_beside_this_process(forks_allowed: None) -> None:
    parent = os.getpid()
    child = start_in_background(lambda: (os.getpid(), [1, 2, 3]), "a job")
    pid, value = child.result()
    assert pid != parent and value == [1, 2, 3]
    assert child.result() == (pid, value)  # kept once received


@two_cores
def test_a_background_childs_failure_is_raised_here(forks_allowed: None) -> None:
    def broken() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        start_in_background(broken, "the search index").result()
    with pytest.raises(
        BuildError, match=r"the search index stopped before it finished \(exit code 3\)"
    ):
        start_in_background(lambda: os._exit(3), "the search index").result()
