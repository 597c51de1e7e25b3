"""Progress on a terminal (SPEC 7: long work shows a progress bar on a TTY), silent elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def bar(description: str, total: int) -> Iterator[Callable[[str], None]]:
    """Yield a ``step(message)`` callback that advances a bar of ``total`` steps on stderr."""
    if not interactive() or total <= 1:
        yield lambda _message: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)

        def step(message: str) -> None:
            progress.update(task, advance=1, description=f"{description} {message}"[:60])

        yield step


@contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner for work without a count (reading many flows at once)."""
    if not interactive():
        yield
        return
    with Console(stderr=True).status(message):
        yield
