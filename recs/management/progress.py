"""A rich progress bar on stderr behind the engine's ``progress(stage, done, total)`` callback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def rich_progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None] | None]:
    """Yield a callback drawing one bar per stage (or None when disabled, e.g. --verbosity 0)."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description:>14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
