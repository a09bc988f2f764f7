"""FanOutPool: the standard executor's submit and with, workers capped, every task awaited;
and the coarse thread switching a fan-out runs under."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import CancelledError

import pytest

from reconciler.alma.concurrency import FanOutPool, coarse_thread_switching


class Stop(BaseException):
    """Like a test's simulated crash: not an Exception."""


def test_leaving_the_block_waits_for_every_task_and_results_are_kept() -> None:
    """Fifty tasks on four workers: all have finished when the block ends, each with its result."""
    with FanOutPool(4) as pool:
        futures = [pool.submit(lambda n: n * n, number) for number in range(50)]
    assert all(future.done() for future in futures)
    assert [future.result() for future in futures] == [n * n for n in range(50)]


def test_never_more_workers_than_asked() -> None:
    """Tasks that all wait for each other can only meet as many as there are workers."""
    seen: set[int] = set()
    lock = threading.Lock()
    gate = threading.Barrier(3, timeout=30)  # a liveness limit, not a timing assertion

    def task() -> None:
        with lock:
            seen.add(threading.get_ident())
        gate.wait()

    with FanOutPool(3) as pool:
        futures = [pool.submit(task) for _ in range(9)]
    for future in futures:
        future.result()
    assert len(seen) == 3


def test_a_base_exception_fails_its_own_future_only() -> None:
    """A task that raises a BaseException fails its future; the others still run."""

    def task(number: int) -> int:
        if number == 2:
            raise Stop
        return number

    with FanOutPool(2) as pool:
        futures = [pool.submit(task, number) for number in range(5)]
    with pytest.raises(Stop):
        futures[2].result()
    assert [futures[n].result() for n in (0, 1, 3, 4)] == [0, 1, 3, 4]


def test_cancelled_tasks_never_run_and_a_closed_pool_takes_no_more() -> None:
    """Shutting down with cancel_pending drops queued work; submitting afterwards is an error."""
    started, release = threading.Event(), threading.Event()
    ran: list[int] = []

    def busy() -> bool:
        started.set()
        return release.wait(30)

    pool = FanOutPool(1)
    first = pool.submit(busy)
    assert started.wait(30)  # the one worker is now busy, so what follows stays queued
    queued = [pool.submit(ran.append, number) for number in range(5)]
    closing = threading.Thread(target=pool.shutdown, kwargs={"cancel_pending": True})
    closing.start()  # it cancels what is queued, then waits for the busy worker
    for future in queued:
        with pytest.raises(CancelledError):
            future.result(timeout=30)
    release.set()
    closing.join(30)
    assert not closing.is_alive()
    assert first.result() is True
    assert ran == []
    with pytest.raises(RuntimeError):
        pool.submit(ran.append, 9)


def test_coarse_thread_switching_sets_the_interval_and_gives_it_back() -> None:
    """Inside, the switch interval is the coarse one; after, even after an error, the old one."""
    before = sys.getswitchinterval()
    inside: list[float] = []

    def failing_fan_out() -> None:
        with coarse_thread_switching(0.02):
            inside.append(sys.getswitchinterval())
            raise RuntimeError("a failed fan-out")

    with pytest.raises(RuntimeError):
        failing_fan_out()
    assert inside == [pytest.approx(max(0.02, before), abs=1e-5)]
    assert sys.getswitchinterval() == pytest.approx(before, abs=1e-5)


def test_coarse_thread_switching_nests_and_never_shortens() -> None:
    """Overlapping uses restore only at the outermost end; a longer interval is kept."""
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.05)
        with coarse_thread_switching(0.02):
            assert sys.getswitchinterval() == pytest.approx(0.05, abs=1e-5)  # already coarser: kept
            with coarse_thread_switching(0.02):
                pass
            assert sys.getswitchinterval() == pytest.approx(0.05, abs=1e-5)
        assert sys.getswitchinterval() == pytest.approx(0.05, abs=1e-5)
        sys.setswitchinterval(0.005)
        with coarse_thread_switching(0.02):
            with coarse_thread_switching(0.02):
                assert sys.getswitchinterval() == pytest.approx(0.02, abs=1e-5)
            assert sys.getswitchinterval() == pytest.approx(
                0.02, abs=1e-5
            )  # the outer one still runs
        assert sys.getswitchinterval() == pytest.approx(0.005, abs=1e-5)
    finally:
        sys.setswitchinterval(before)
