"""iter_concurrently: results in item order, with a bounded window of calls ahead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.alma.concurrency import iter_concurrently


def test_results_come_in_order_and_only_a_window_ahead() -> None:
    """A thousand items: in order, and never more than 2 x workers started ahead of the caller."""
    pulled: list[int] = []

    def items() -> Iterator[int]:
        for number in range(1_000):
            pulled.append(number)
            yield number

    ahead = []
    results = []
    for result in iter_concurrently(lambda n: n * 2, items(), max_workers=3):
        ahead.append(len(pulled) - len(results))
        results.append(result)
    assert results == [n * 2 for n in range(1_000)]
    assert max(ahead) <= 2 * 3


def test_a_failure_surfaces_in_order() -> None:
    """The first failing call raises when its turn comes; earlier results were yielded."""

    def fail_on_five(n: int) -> int:
        if n == 5:
            raise ValueError("five")
        return n

    seen = []
    with pytest.raises(ValueError, match="five"):
        seen.extend(iter_concurrently(fail_on_five, range(20), max_workers=2))
    assert seen == [0, 1, 2, 3, 4]
