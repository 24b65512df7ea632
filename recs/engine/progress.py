"""Progress callbacks and stage timings shared by the long-running engine functions.

The engine never draws anything itself: Django commands and Celery tasks pass a callback
and decide how to render it (rich, tqdm, task state, logs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; called with ``done == total`` when a stage finishes."""


def report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    """Call ``progress`` if one was given, so callers need no ``if`` at every step."""
    if progress is not None:
        progress(stage, done, total)


class Timings:
    """Wall-clock seconds per named stage, in the order the stages ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``name`` (repeated stages accumulate)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def as_dict(self) -> dict[str, float]:
        return dict(self.seconds)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())
