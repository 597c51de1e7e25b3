"""The scheduler: one run at a time, a trigger during a run queues exactly one more, the period."""

from __future__ import annotations

import threading

from syncer.serve.scheduler import ALREADY_QUEUED, QUEUED, STARTED, STOPPING, Scheduler, Trigger


class Work:
    """A run that blocks until released, counting how many run at once."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.triggers: list[str] = []
        self.active = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, trigger: Trigger) -> None:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.triggers.append(str(trigger))
        self.started.release()
        self.release.wait(10)
        with self.lock:
            self.active -= 1


def test_a_burst_of_triggers_during_a_run_is_one_more_run() -> None:
    work = Work()
    scheduler = Scheduler(work, every=3600)
    scheduler.start()
    assert work.started.acquire(timeout=10)  # the start run is in flight
    answers = [scheduler.request(Trigger("webhook", f"push {i}")) for i in range(10)]
    assert answers[0] == QUEUED and set(answers[1:]) == {ALREADY_QUEUED}
    work.release.set()
    assert scheduler.wait_idle(2, timeout=10)
    assert work.triggers == ["start", "webhook: push 0"] and work.most == 1
    assert scheduler.request(Trigger("webhook", "later")) == STARTED
    assert scheduler.wait_idle(3, timeout=10)
    scheduler.stop(10)
    assert scheduler.request(Trigger("webhook")) == STOPPING


def test_the_period_starts_after_a_run_ends_and_jitter_only_adds() -> None:
    now = [1000.0]
    work = Work()
    work.release.set()
    scheduler = Scheduler(work, every=60, jitter=5, clock=lambda: now[0])
    scheduler.start()
    assert scheduler.wait_idle(1, timeout=10)
    left = scheduler.seconds_to_next()
    assert 60 <= left <= 65
    now[0] += 70  # time passes; the waiting loop wakes on the next notify or timeout
    scheduler.request(Trigger("webhook"))  # a trigger also wakes it; the schedule is not doubled
    assert scheduler.wait_idle(2, timeout=10)
    assert work.triggers == ["start", "webhook"]
    assert 60 <= scheduler.seconds_to_next() <= 65
    scheduler.stop(10)


def test_a_due_schedule_runs_by_itself() -> None:
    work = Work()
    work.release.set()
    scheduler = Scheduler(work, every=1.0, jitter=0)
    scheduler.start()
    assert scheduler.wait_idle(2, timeout=10)
    assert work.triggers[:2] == ["start", "schedule"]
    scheduler.stop(10)


def test_stop_waits_for_the_run_in_flight_and_no_queued_run_follows() -> None:
    work = Work()
    scheduler = Scheduler(work, every=3600)
    scheduler.start()
    assert work.started.acquire(timeout=10)
    scheduler.request(Trigger("webhook"))
    stopper = threading.Thread(target=scheduler.stop, args=(10,))
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive() and scheduler.stopping  # waiting for the run, which sees the flag
    work.release.set()
    stopper.join(10)
    assert work.triggers == ["start"]


def test_a_run_that_raises_does_not_end_the_loop() -> None:
    """Found by probing: an error outside the run's own handling (the history unwritable for a
    moment, a value the database refused) ended the run thread for good, the service still healthy."""
    calls: list[str] = []

    def work(trigger: Trigger) -> None:
        calls.append(str(trigger))
        if len(calls) == 1:
            raise RuntimeError("disk I/O error")

    scheduler = Scheduler(work, every=1.0, jitter=0)
    scheduler.start()
    assert scheduler.wait_idle(2, timeout=10)
    assert scheduler.alive and calls[:2] == ["start", "schedule"]
    scheduler.stop(10)
    assert not scheduler.alive
