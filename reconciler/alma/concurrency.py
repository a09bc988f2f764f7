"""Run many Alma calls at once so network latency hides behind the rate limit.

Design decision: threads, not asyncio. The transport is synchronous; the token bucket is what
keeps the pace, so the worker count only needs to cover latency * rate (for example
0.3 s * 20/s = 6 calls in flight) and more workers would only queue at the bucket.

Design decision: `FanOutPool`, not `concurrent.futures.ThreadPoolExecutor`. The standard
executor starts each worker inside `submit`, under a lock that every executor in the process
shares (`_global_shutdown_lock`), and `Thread.start` waits until the new thread has run, which
takes a turn of the GIL. A read of all 40 institutions opens a pool per institution at the
same moment, so some 300 thread starts queued on that one lock, each waiting up to a 5 ms
switch interval: institutions sat in `submit` for 1-1.7 s with their rate limits idle
(sampled thread stacks of the plan benchmark). Starting them under a lock of each pool's own
was no better: each `Thread.start` still waited for its thread's first turn of the GIL, about
30 ms in that crowd. `FanOutPool` starts workers without waiting for them to run.

Design decision, `coarse_thread_switching` while many institutions fan out: a thread that
waits for the GIL asks the holder to drop it after the interpreter's switch interval (5 ms by
default), and with hundreds of worker threads whose answers keep arriving, the GIL changed
hands so often that the handing over cost more than the work. Survey of all 40 at scale 0.1
against the local sandbox (107,000 users, 1,386 calls, three runs each): at 5 ms the client
spent 6.1-9.1 s of CPU, 1.1-3.0 s of it in the kernel, with 50,000-210,000 context switches; at
20 ms 5.3-5.7 s, 0.7 s in the kernel, 31,000-33,000 switches; at 1 ms 12-40 s. The cost is
that a worker may wait up to 20 ms for the GIL once its answer is in, against Alma round trips
of 100 ms and more, and calls paced 50 ms apart (a call held back 20 ms leaves at most one more
call in any second: 22 of Alma's 25).
"""

from __future__ import annotations

import _thread
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

DEFAULT_WORKERS = 8
FAN_OUT_SWITCH_INTERVAL = 0.02  # seconds; see the module docstring

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class FanOutPool:
    """A thread pool with `ThreadPoolExecutor`'s `submit` and `with`, without its start-up waits.

    Workers are started when work is waiting and no worker is idle, up to `max_workers`, with
    `_thread.start_new_thread`: the submitter goes on at once instead of waiting, as
    `Thread.start` does, for the new thread's first turn of the GIL (with a few hundred threads
    in the process that wait was 30 ms a thread, and an institution starts eight). Leaving the
    `with` block waits until every task has finished and every worker has left. A task that
    raises (even a BaseException, such as a test's simulated crash) fails its own future, as
    with the standard executor.
    """

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._state = threading.Condition(threading.Lock())  # this pool's alone
        self._started = 0
        self._running = 0  # workers started and not yet finished
        self._closed = False

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        future: Future[R] = Future()
        with self._state:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that has shut down")
            self._tasks.put((future, fn, args, kwargs))
            if self._idle.acquire(blocking=False) or self._started >= self._max_workers:
                return future
            self._started += 1
            self._running += 1
        _thread.start_new_thread(self._work, ())
        return future

    def _work(self) -> None:
        try:
            while (task := self._tasks.get()) is not None:
                future, fn, args, kwargs = task
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as error:
                        future.set_exception(error)
                    else:
                        future.set_result(result)
                del task, future, fn, args, kwargs  # hold nothing of a finished task
                self._idle.release()
        finally:
            with self._state:
                self._running -= 1
                self._state.notify_all()

    def shutdown(self, *, cancel_pending: bool = False) -> None:
        """Stop taking work, optionally cancel what has not started, and wait for the rest."""
        with self._state:
            self._closed = True
            started = self._started
        if cancel_pending:
            while True:
                try:
                    task = self._tasks.get_nowait()
                except queue.Empty:
                    break
                if task is not None:
                    task[0].cancel()
        for _ in range(started):
            self._tasks.put(None)  # after every task already queued: those run first
        with self._state:
            self._state.wait_for(lambda: self._running == 0)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.shutdown()


def map_concurrently(
    fn: Callable[[T], R], items: Iterable[T], *, max_workers: int = DEFAULT_WORKERS
) -> list[R]:
    """`[fn(item) for item in items]`, run on `max_workers` threads, results in item order.

    The first exception (in item order) is raised once every started call has finished; a
    caller that must carry on past one failure (one user's move) catches inside `fn`.
    """
    with FanOutPool(max_workers) as pool:
        futures = [pool.submit(fn, item) for item in items]
    return [future.result() for future in futures]


def iter_concurrently(
    fn: Callable[[T], R], items: Iterable[T], *, max_workers: int = DEFAULT_WORKERS
) -> Iterator[R]:
    """`fn` over `items` on worker threads, yielded in item order as they complete.

    At most twice `max_workers` calls are started ahead of the one the caller waits for, so
    a long walk (every page of a large institution) holds a few results, never all of them.
    """
    window = 2 * max_workers
    pending: deque[Future[R]] = deque()
    with FanOutPool(max_workers) as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # the caller stopped early or a call failed
                future.cancel()


_switching_lock = threading.Lock()
_switching_depth = 0
_switching_before = 0.0


@contextmanager
def coarse_thread_switching(interval: float = FAN_OUT_SWITCH_INTERVAL) -> Iterator[None]:
    """While inside, the thread holding the GIL keeps it up to `interval` seconds when others
    want it (`sys.setswitchinterval`); the interpreter's own interval comes back after the
    outermost of overlapping uses ends. Never shortens an interval that is already longer."""
    global _switching_depth, _switching_before  # noqa: PLW0603 - one interpreter, one setting
    with _switching_lock:
        if _switching_depth == 0:
            _switching_before = sys.getswitchinterval()
            sys.setswitchinterval(max(interval, _switching_before))
        _switching_depth += 1
    try:
        yield
    finally:
        with _switching_lock:
            _switching_depth -= 1
            if _switching_depth == 0:
                sys.setswitchinterval(_switching_before)
