"""Run many Alma calls at once so network latency hides behind the rate limit.

Design decision: threads, not asyncio. The client is synchronous `requests`; the token bucket
is what keeps the pace, so the worker count only needs to cover latency * rate (for example
0.3 s * 20/s = 6 calls in flight) and more workers would only queue at the bucket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_WORKERS = 8


def map_concurrently(
    fn: Callable[[T], R], items: Iterable[T], *, max_workers: int = DEFAULT_WORKERS
) -> list[R]:
    """`[fn(item) for item in items]`, run on `max_workers` threads, results in item order.

    The first exception (in item order) is raised once every started call has finished; a
    caller that must carry on past one failure (one user's move) catches inside `fn`.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="alma") as pool:
        futures = [pool.submit(fn, item) for item in items]
    return [future.result() for future in futures]


def iter_concurrently(
    fn: Callable[[T], R], items: Iterable[T], *, max_workers: int = DEFAULT_WORKERS
) -> Iterator[R]:
    """`fn` over `items` on worker threads, yielded in item order as they complete.

    At most twice `max_workers` calls are started ahead of the one the caller waits for, so
    a long walk (every page of a large institution) holds a few results, never all of them.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    window = 2 * max_workers
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="alma") as pool:
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
