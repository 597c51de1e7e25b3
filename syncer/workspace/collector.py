"""Python's cyclic garbage collector, paused while large documents are worked on.

Flow documents are plain data (mappings, lists, scalars) without reference cycles, so reference counting
frees them. But with a few million of their objects alive, every automatic collection walks them all:
that was a third of the time of planning a 2,000-step flow. Pausing changes when cyclic garbage is
collected, never what is computed; it is used only around short, bounded work (a plan's classification
of the flows it fetched, reading the repository), because garbage in cycles (HTTP responses) waits
while it lasts.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_collector_lock = threading.Lock()
_collector_pauses = [0, False]  # sections inside, and whether the collector was on before the first


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the duration of the block; threads may nest it, and the last one out
    turns it back on (if it was on)."""
    with _collector_lock:
        if _collector_pauses[0] == 0:
            _collector_pauses[1] = gc.isenabled()
            gc.disable()
        _collector_pauses[0] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses[0] -= 1
            if _collector_pauses[0] == 0 and _collector_pauses[1]:
                gc.enable()
