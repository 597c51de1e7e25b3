"""Faults while syncer writes: a fault-injecting proxy in front of each Production tenant, and kill -9.

Every run starts from a new Git commit that changes every flow (so each target has writes to do),
records each flow's live state, runs ``python -m syncer apply`` or ``reconcile`` through the proxies
with one fault (or kills the process with SIGKILL at a random moment among its writes), records the
live state again, and then reruns without faults. A flow is **half-applied** when its state after the
faulted run is neither the state before nor the state the clean rerun converged to; the rerun must exit
0 and a plan after it must find nothing to do.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import git

from syncer import yamlio
from syncer.model import ANN_LAST_APPLIED_HASH
from tests.e2e.landscape import ENVIRONMENTS, write_environment
from tests.faultserver import PASS, Fault, FaultProxy, Proxied

from .world import Outcome, World

TARGETS = ("production-eu", "production-us")
TIMEOUT = "2"  # SYNCER_HTTP_TIMEOUT for these runs: a hang costs seconds, not minutes
HINTS = ("try again", "check that", "run again", "plan again", "run it again")

# (method, route) -> the faults it gets: every kind on writes, the read faults on reads.
PLAN: tuple[tuple[str, str, Fault], ...] = (
    *(("PUT", "flow", Fault(kind, status=503)) for kind in ("status", "reset_before", "hang")),
    *(("PUT", "flow", Fault(kind, status=502)) for kind in ("reset_after", "status_after")),
    *(("PUT", "flow", Fault(kind)) for kind in ("truncate", "garbage", "garbage_after")),
    ("PUT", "flow", Fault("status", status=429)),
    *(("GET", "flow", Fault(kind, status=500)) for kind in ("status", "reset_before", "hang")),
    *(("GET", "flow", Fault(kind)) for kind in ("truncate", "garbage")),
    *(("GET", "list", Fault(kind, status=503)) for kind in ("status", "reset_after")),
    *(("GET", "list", Fault(kind)) for kind in ("truncate", "garbage")),
)


@dataclass
class Run:
    """One faulted run and its judgement."""

    name: str
    command: str
    outcome: Outcome
    flows: int = 0
    half_applied: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults_hit: int = 0
    landed: int = 0  # flows the faulted run had written when it ended (or was killed)


class FaultRig:
    """A world's repository with both targets behind fault proxies."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.repo = world.repository("faults")
        self.generation = 0
        self._stack = ExitStack()
        self.proxies: dict[str, FaultProxy] = {}

    def __enter__(self) -> FaultRig:
        for name in TARGETS:
            proxy = self._stack.enter_context(FaultProxy(self.world.tenants[name].url))
            self.proxies[name] = proxy
            write_environment(self.repo, name, proxy.url, ENVIRONMENTS[name])
        handle = git.Repo(self.repo)
        handle.git.add("--all")
        handle.git.commit("-m", "targets behind the chaos proxies")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    # -- the moves ------------------------------------------------------------------------------

    def change_every_flow(self) -> None:
        """A new commit in which every flow's first step has a new title (an update everywhere)."""
        self.generation += 1
        for path in sorted((self.repo / "flows").glob("*/flow.yaml")):
            document = yamlio.load_file(path).data
            step = document["spec"]["tracks"][0]["steps"][0]
            step["title"] = f"{str(step['title']).split(' · ')[0]} · run {self.generation}"
            from syncer.canonical import render_flow

            yamlio.write_text_atomically(path, render_flow(document))
        handle = git.Repo(self.repo)
        handle.git.add("--all")
        handle.git.commit("-m", f"chaos run {self.generation}")

    def live(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(environment, flow) -> (content hash, last-applied hash): what a write changes at once."""
        found = {}
        for name in TARGETS:
            for record in self.world.tenants[name].store.list_flows():
                summary = record.summary
                annotations = summary["annotations"]
                found[(name, summary["key"])] = (
                    summary["content_hash"],
                    str(annotations.get(ANN_LAST_APPLIED_HASH, "")),
                )
        return found

    def rule(self, rule: object) -> None:
        for proxy in self.proxies.values():
            proxy.rule = rule  # type: ignore[assignment]

    def faults_hit(self) -> int:
        return sum(len(p.faults()) for p in self.proxies.values())

    def clear_logs(self) -> None:
        for proxy in self.proxies.values():
            proxy.log.clear()

    # -- judging ----------------------------------------------------------------------------------

    def converge(self, run: Run, before: dict[tuple[str, str], tuple[str, str]]) -> Run:
        """Rerun without faults; judge every flow's state in between."""
        self.rule(lambda _request: PASS)
        middle = self.live()
        again = self.world.syncer(self.repo, "apply", "--yes", env={"SYNCER_HTTP_TIMEOUT": TIMEOUT})
        after = self.live()
        plan = self.world.syncer(self.repo, "plan", env={"SYNCER_HTTP_TIMEOUT": TIMEOUT})
        run.flows = len(after)
        run.landed = sum(1 for flow, state in middle.items() if state != before.get(flow))
        for flow, state in middle.items():
            if state not in (before.get(flow), after.get(flow)):
                run.half_applied.append(f"{flow[0]}/{flow[1]}")
        if set(middle) - set(after):
            run.half_applied += [f"{e}/{k} vanished" for e, k in set(middle) - set(after)]
        if again.code != 0:
            run.problems.append(f"the clean rerun exited {again.code}: {again.err[-600:]}")
        if plan.code != 0:
            run.problems.append(f"the plan after the rerun exited {plan.code}: not converged")
        for outcome in (again, plan):
            run.problems += (
                [f"rerun printed a traceback: {outcome.err[-400:]}"]
                if "Traceback" in outcome.text
                else []
            )
            run.problems += [f"rerun leaked {leak}" for leak in self.world.leaks(outcome.text)]
        return run


def _route(request: Proxied) -> str:
    path = request.path.split("?")[0].rstrip("/")
    return "list" if path == "/v1/care-flows" else "flow"


def _nth(method: str, route: str, fault: Fault, nth: int, targets: tuple[str, ...]) -> object:
    """A rule: ``fault`` on the ``nth`` request of ``method`` ``route`` (counted across targets)."""
    seen = [0]

    def rule(request: Proxied) -> Fault:
        if request.method == method and _route(request) == route:
            seen[0] += 1
            if seen[0] == nth:
                return fault
        return PASS

    return rule


def proxy_runs(rig: FaultRig, plan: tuple[tuple[str, str, Fault], ...] = PLAN) -> list[Run]:
    """One run per planned fault, alternating apply and reconcile, each on a random request."""
    runs = []
    for index, (method, route, fault) in enumerate(plan):
        rig.change_every_flow()
        before = rig.live()
        command = "apply" if index % 2 == 0 else "reconcile"
        nth = rig.rng.randint(1, 2 if route == "list" else 5)
        rig.clear_logs()
        rig.rule(_nth(method, route, fault, nth, TARGETS))
        argv = ("apply", "--yes") if command == "apply" else ("reconcile",)
        outcome = rig.world.syncer(rig.repo, *argv, env={"SYNCER_HTTP_TIMEOUT": TIMEOUT})
        name = f"{command}: {fault.kind}{f' {fault.status}' if 'status' in fault.kind else ''} on {method} {route} #{nth}"
        run = Run(name, command, outcome, faults_hit=rig.faults_hit())
        _judge_faulted(rig, run)
        runs.append(rig.converge(run, before))
    return runs


def _judge_faulted(rig: FaultRig, run: Run) -> None:
    outcome = run.outcome
    if outcome.code not in (0, 1):  # nothing here needs a person: 3 would be a false alarm
        run.problems.append(f"exit code {outcome.code}")
    if outcome.code == 1:
        said = outcome.err
        if "[environment production-" not in said or not any(h in said for h in HINTS):
            run.problems.append(f"unclear failure message: {said[-500:]}")
    if "Traceback" in outcome.text:
        run.problems.append("printed a traceback")
    run.problems += [f"leaked {leak}" for leak in rig.world.leaks(outcome.text)]


def kill_runs(rig: FaultRig, count: int) -> list[Run]:
    """``count`` runs killed with SIGKILL after a random number of writes (each write slowed down so
    that the kill lands among them), alternating apply and reconcile."""
    runs = []
    for index in range(count):
        rig.change_every_flow()
        before = rig.live()
        command = "apply" if index % 2 == 0 else "reconcile"
        argv = ("apply", "--yes") if command == "apply" else ("reconcile",)
        rig.rule(_slow_writes)
        rig.clear_logs()
        writes = rig.rng.randint(0, 4)
        pause = rig.rng.uniform(0.0, 0.3)
        outcome = _killed(rig, argv, writes, pause)
        run = Run(f"{command}: kill -9 after {writes} write(s) + {pause:.2f}s", command, outcome)
        if "Traceback" in outcome.text:
            run.problems.append("printed a traceback before it was killed")
        run.problems += [f"leaked {leak}" for leak in rig.world.leaks(outcome.text)]
        runs.append(rig.converge(run, before))
    return runs


SLOW = Fault("slow", seconds=0.25)


def _slow_writes(request: Proxied) -> Fault:
    return SLOW if request.method == "PUT" else PASS


def _killed(rig: FaultRig, argv: tuple[str, ...], writes: int, pause: float) -> Outcome:
    world = rig.world
    process = subprocess.Popen(
        world.command(rig.repo, *argv),
        cwd=world.root,
        env=world.environment({"SYNCER_HTTP_TIMEOUT": TIMEOUT}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        started = sum(1 for p in rig.proxies.values() for r in list(p.log) if r.method == "PUT")
        if started > writes:
            break
        time.sleep(0.01)
    time.sleep(pause)
    killed = process.poll() is None
    if killed:
        os.killpg(process.pid, signal.SIGKILL)
    out, err = process.communicate(timeout=30)
    return Outcome(process.returncode, out, err, killed=killed)
