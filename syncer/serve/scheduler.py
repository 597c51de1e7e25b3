"""When runs happen: once at start, then every period (plus jitter), or sooner when triggered.

One run at a time. A trigger while a run is in flight queues exactly one more run, however many
triggers arrive (a burst of webhook deliveries is one run, not ten); a trigger while one is already
queued is absorbed by it. The next scheduled run is timed from the end of the last run, so a slow
run never makes runs pile up. ``stop()`` lets the run in flight finish its current write (the work
function asks ``stopping``) and joins the thread.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

STARTED, QUEUED, ALREADY_QUEUED, STOPPING = "started", "queued", "already queued", "stopping"


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trigger:
    """Why a run happens: ``start``, ``schedule``, or a webhook with who pushed what."""

    kind: str
    who: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.who}" if self.who else self.kind


class Scheduler:
    """Runs ``work(trigger)`` in one background thread, one run at a time."""

    def __init__(
        self,
        work: Callable[[Trigger], None],
        every: float,
        jitter: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._work = work
        self.every = max(1.0, every)
        self.jitter = max(0.0, jitter)
        self._clock = clock
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._pending: Trigger | None = None
        self._running: Trigger | None = None
        self._stopping = threading.Event()
        self._next_due = clock()
        self._thread: threading.Thread | None = None
        self.runs_done = 0

    @property
    def alive(self) -> bool:
        """Whether the run thread is there to run (``/healthz`` says no when it is not)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def running(self) -> Trigger | None:
        with self._cond:
            return self._running

    @property
    def pending(self) -> Trigger | None:
        with self._cond:
            return self._pending

    def seconds_to_next(self) -> float:
        """Seconds until the next scheduled run (0 when one is due or queued)."""
        with self._cond:
            if self._pending is not None:
                return 0.0
            return max(0.0, self._next_due - self._clock())

    def start(self) -> None:
        """Start the thread; the first run (``start``) begins at once."""
        self.request(Trigger("start"))
        self._thread = threading.Thread(target=self._loop, name="syncer-runs", daemon=True)
        self._thread.start()

    def request(self, trigger: Trigger) -> str:
        """Ask for a run: ``started`` (idle), ``queued`` (one is in flight) or ``already queued``."""
        with self._cond:
            if self._stopping.is_set():
                return STOPPING
            if self._pending is not None:
                return ALREADY_QUEUED
            self._pending = trigger
            self._cond.notify_all()
            return QUEUED if self._running is not None else STARTED

    def request_stop(self) -> None:
        """From now on no run and no write starts (the write in flight finishes)."""
        with self._cond:
            self._stopping.set()
            self._pending = None
            self._cond.notify_all()

    def stop(self, timeout: float | None = None) -> None:
        """No new run starts; the one in flight finishes its write; the thread ends."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            trigger = self._next()
            if trigger is None:
                return
            try:
                self._work(trigger)
            except Exception:
                log.exception("a run ended with an error outside the run's own handling")
            finally:
                with self._cond:
                    self._running = None
                    self.runs_done += 1
                    self._next_due = self._clock() + self.every + self._rng.uniform(0, self.jitter)
                    self._cond.notify_all()

    def _next(self) -> Trigger | None:
        with self._cond:
            while not self._stopping.is_set():
                if self._pending is not None:
                    trigger, self._pending = self._pending, None
                    self._running = trigger
                    return trigger
                wait = self._next_due - self._clock()
                if wait <= 0:
                    self._pending = Trigger("schedule")
                    continue
                self._cond.wait(wait)
            return None

    def wait_idle(self, runs: int, timeout: float) -> bool:
        """For tests and the demo: wait until ``runs`` runs are done and none is in flight."""
        deadline = self._clock() + timeout
        with self._cond:
            while self.runs_done < runs or self._running is not None or self._pending is not None:
                left = deadline - self._clock()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True
