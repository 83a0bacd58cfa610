"""Running work in other processes, and whether this process may fork, onto how many cores
(one answer for every stage that forks).

`map_in_forks` shares a function over items among forked workers (the parse of the changed
feeds); `start_in_background` runs one function in a forked child while this process goes on
(the search index, written while the site renders). Both run the work in this process instead
where a fork is unsafe or would not pay.

Work reaches a child through the fork itself: the function (often a partial or closure made just
before) and its items are inherited, never pickled. Only results travel back, pickled through a
pipe, and a child's exception is raised again here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from devcasts.errors import BuildError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from multiprocessing.sharedctypes import Synchronized

T = TypeVar("T")
R = TypeVar("R")


def fork_is_safe() -> bool:
    """fork exists and no other thread runs: a child would inherit the locks another thread
    held at the fork, never to be released."""
    return hasattr(os, "fork") and threading.active_count() == 1


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system keeps one (a
    container or `taskset` may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def map_in_forks(function: Callable[[T], R], items: Sequence[T], max_workers: int) -> list[R]:
    """`[function(item) for item in items]`, shared among up to `max_workers` forked workers.

    Never more workers than usable cores or items; in this process when that leaves one, or
    when fork is unsafe. Whichever worker is free takes the next item, so a long one does not
    hold the others back.
    """
    workers = min(max_workers, usable_cores(), len(items))
    if workers <= 1 or not fork_is_safe():
        return [function(item) for item in items]
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    next_item = context.Value("q", 0)
    children: list[tuple[BaseProcess, Connection]] = []
    results: dict[int, R] = {}
    try:
        for _ in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            worker = context.Process(target=_work, args=(function, items, next_item, sender))
            worker.start()
            sender.close()
            children.append((worker, receiver))
        receiving = [receiver for _, receiver in children]
        while receiving:
            for ready in cast("list[Connection]", wait(receiving)):
                try:
                    index, ok, value = ready.recv()
                except EOFError:  # this worker is done
                    receiving.remove(ready)
                    continue
                if not ok:
                    raise value
                results[index] = value
    finally:
        for child, receiver in children:
            receiver.close()
            if child.is_alive() and len(results) < len(items):
                child.terminate()
            child.join()
    if len(results) < len(items):
        codes = ", ".join(str(child.exitcode) for child, _ in children)
        raise BuildError(f"a worker process stopped before its work was done (exit codes {codes})")
    return [results[index] for index in range(len(items))]


def _work(
    function: Callable[[T], R], items: Sequence[T], next_item: Synchronized[int], out: Connection
) -> None:
    """A worker: take the next item until none is left, send back each result."""
    while True:
        with next_item.get_lock():
            index = next_item.value
            next_item.value = index + 1
        if index >= len(items):
            break
        try:
            out.send((index, True, function(items[index])))
        except Exception as error:
            out.send((index, False, _sendable(error)))
            break
    out.close()


class Background(Generic[R]):
    """A function running in a forked child, or the result it gave when it ran in this process."""

    def __init__(
        self, what: str, child: tuple[BaseProcess, Connection] | None, done: tuple[R] | None
    ) -> None:
        self.what = what
        self._child = child
        self._done = done

    @classmethod
    def finished(cls, what: str, result: R) -> Background[R]:
        """The result of work that ran in this process."""
        return cls(what, None, (result,))

    @property
    def pending(self) -> bool:
        """Whether the child's result is still to be taken (result() not called yet)."""
        return self._child is not None

    def result(self) -> R:
        """Wait for the child: its result, or its exception raised here."""
        if self._child is not None:
            child, receiver = self._child
            self._child = None
            self._done = (self._receive(child, receiver),)
        assert self._done is not None
        return self._done[0]

    def _receive(self, child: BaseProcess, receiver: Connection) -> R:
        try:
            message = receiver.recv()
        except EOFError:  # the child ended without a word: killed, or out of memory
            message = None
        finally:
            receiver.close()
            child.join()
        if message is None:
            raise BuildError(f"{self.what} stopped before it finished (exit code {child.exitcode})")
        ok, value = message
        if not ok:
            raise value
        return cast("R", value)


def start_in_background(function: Callable[[], R], what: str) -> Background[R]:
    """Start `function` in a forked child, beside this process; `what` names it in errors.
    Where fork is unsafe, or this process has one core to run on, it runs here and now."""
    if usable_cores() < 2 or not fork_is_safe():
        return Background.finished(what, function())
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(function, sender))
    child.start()
    sender.close()
    return Background(what, (child, receiver), None)


def _run(function: Callable[[], R], out: Connection) -> None:
    try:
        message: tuple[bool, object] = (True, function())
    except Exception as error:
        message = (False, _sendable(error))
    out.send(message)
    out.close()


def _sendable(error: Exception) -> Exception:
    """The exception with the child's traceback noted on it (a pickled exception loses its
    traceback); a RuntimeError with its text if it cannot be pickled."""
    import pickle
    import traceback

    error.add_note("in a forked child:\n" + "".join(traceback.format_exception(error)).rstrip())
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
