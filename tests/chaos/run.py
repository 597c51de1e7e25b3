"""The chaos suite: ``make chaos`` (``python -m tests.chaos.run``), and ``--smoke`` in ``make test``.

It attacks syncer as a hostile user and a broken network would: the bad inputs of ``corpus`` (files,
flags, environment variables, the tenant API), faults injected by a proxy in front of each Production
tenant while syncer writes (``faults``), and ``kill -9`` of apply and reconcile at random moments. Every
case is judged the same way:

- **clear**: the expected exit code (or HTTP status), and a message that says where (file:line:column,
  or environment, flow and status) and what to do; for a faulted write, a failure names the
  environment and what to do;
- **no traceback**: never exit 4 or a Python traceback, and no internal error in a tenant's log;
- **nothing written** by a bad input: the tenants' flows, histories and versions, and the repository's
  files and refs, are as before;
- **no half-applied flow** after a fault or a kill: each flow is as before or as the clean rerun left
  it, the rerun exits 0 and a plan after it finds nothing to do;
- **no secret**: no concealed value, secret source or API key in any output, in any usual encoding.

It ends with its tally, the line the README quotes, and exits 1 when any case failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import AREAS, CASES, Case
from .faults import PLAN, FaultRig, Run, kill_runs, proxy_runs
from .world import Outcome, World

SMOKE_CASES = (
    "flow-yaml-syntax",
    "flow-id-dots",
    "env-lists-missing-flow",
    "flag-out-missing-folder",
    "flag-every-negative",
    "var-api-key-line-break",
    "tenant-echoes-the-body-at-length",
    "api-if-match-star",
    "api-duplicate-json-keys",
)
SMOKE_FAULTS = 2  # the first planned faults (a 503 and a reset before a write)
SMOKE_KILLS = 1
KILLS = 24


@dataclass
class Verdict:
    """How one case went."""

    name: str
    area: str
    clear: bool = True
    wrote: bool = False
    traceback: bool = False
    leaks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.clear and not self.wrote and not self.traceback and not self.leaks


def judge(world: World, case: Case) -> Verdict:
    """Run one bad input and judge it; a case that cannot even run is a failure, not a crash."""
    try:
        return _judge(world, case)
    except Exception as exc:  # the suite reports every case, whatever one of them does
        verdict = Verdict(case.name, case.area, clear=False)
        verdict.problems.append(f"the case itself failed: {type(exc).__name__}: {exc}")
        return verdict


def _judge(world: World, case: Case) -> Verdict:
    verdict = Verdict(case.name, case.area)
    repo = world.repository(case.name) if case.repo else world.root / "cases" / case.name
    repo.mkdir(parents=True, exist_ok=True)
    if case.edit is not None:
        case.edit(repo, world)
        if case.repo and case.commit:  # apply and reconcile refuse a dirty work tree first
            _commit(repo, case.name)
    errors_before = len(world.tenant_errors())
    with _Tenant(case, repo):
        before = world.state(repo if case.repo else None)
        outcome = _perform(world, case, repo)
        after = world.state(repo if case.repo else None)
    text = outcome.text
    verdict.output = text[-3000:]
    if outcome.code != case.code:
        verdict.clear = False
        verdict.problems.append(f"exit code (or HTTP status) {outcome.code}, expected {case.code}")
    missing = [word for word in case.says if word not in text]
    if missing:
        verdict.clear = False
        verdict.problems.append(f"the message lacks {missing}")
    new_errors = world.tenant_errors()[errors_before:]
    if "Traceback" in text or outcome.code == 4 or new_errors:
        verdict.traceback = True
        verdict.problems.append(
            "a traceback or internal error" + (f": {new_errors}" if new_errors else "")
        )
    if before != after:
        verdict.wrote = True
        verdict.problems.append(f"something was written: {_difference(before, after)}")
    verdict.leaks = world.leaks(text)
    if verdict.leaks:
        verdict.problems.append(f"printed {verdict.leaks}")
    return verdict


def _commit(repo: Path, name: str) -> None:
    import git

    handle = git.Repo(repo)
    handle.git.add("--all")
    handle.git.commit("-m", f"chaos case {name}", "--allow-empty", "--no-verify")


def _perform(world: World, case: Case, repo: Path) -> Outcome:
    if case.request is not None:
        return case.request(world)
    argv = tuple(part.replace("{repo}", str(repo)) for part in case.argv)
    env = {k: None if v is None else v.replace("{repo}", str(repo)) for k, v in case.env.items()}
    if not case.repo:
        return _run_in(world, repo, argv, env)
    return world.syncer(repo, *argv, env=env)


def _run_in(
    world: World, folder: Path, argv: tuple[str, ...], env: dict[str, str | None]
) -> Outcome:
    """A command without --repo, run in the case's own folder (keys files, databases)."""
    import subprocess

    process = subprocess.run(
        world.command(None, *argv),
        cwd=folder,
        env=world.environment(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Outcome(process.returncode, process.stdout, process.stderr)


class _Tenant:
    """Points production-eu at the case's hostile server for the duration of the run."""

    def __init__(self, case: Case, repo: Path) -> None:
        self.case, self.repo = case, repo
        self._context = case.tenant() if case.tenant is not None else None

    def __enter__(self) -> None:
        if self._context is None:
            return
        url = self._context.__enter__()
        from tests.e2e.landscape import ENVIRONMENTS, write_environment

        name = self.case.hostile
        write_environment(self.repo, name, url, ENVIRONMENTS[name])
        _commit(self.repo, f"{self.case.name}: {name} is a hostile server")

    def __exit__(self, *exc_info: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc_info)


def _difference(before: dict[str, object], after: dict[str, object]) -> str:
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return ", ".join(changed)


# -- the whole suite -----------------------------------------------------------------------------------


@dataclass
class Report:
    verdicts: list[Verdict] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0

    def tally(self) -> str:
        cases = len(self.verdicts) + len(self.runs)
        clear = sum(v.clear for v in self.verdicts) + sum(not r.problems for r in self.runs)
        wrote_nothing = sum(not v.wrote for v in self.verdicts)
        tracebacks = sum(v.traceback for v in self.verdicts) + sum(
            any("traceback" in p for p in r.problems) for r in self.runs
        )
        half = sum(len(r.half_applied) for r in self.runs)
        leaks = sum(len(v.leaks) for v in self.verdicts) + sum(
            any("leaked" in p for p in r.problems) for r in self.runs
        )
        return (
            f"{cases} cases, {clear} clear, {wrote_nothing} wrote nothing, {tracebacks} tracebacks, "
            f"{half} half-applied, {leaks} secrets or keys printed"
        )

    def details(self) -> list[str]:
        areas = Counter(v.area for v in self.verdicts)
        by_area = ", ".join(f"{areas[a]} {a}" for a in AREAS if areas[a])
        proxy = [r for r in self.runs if "kill -9" not in r.name]
        kills = [r for r in self.runs if "kill -9" in r.name]
        killed = sum(r.outcome.killed for r in kills)
        between = sum(1 for r in kills if 0 < r.landed < r.flows)
        states = sum(r.flows for r in self.runs)
        codes = Counter(r.outcome.code for r in proxy)
        exits = ", ".join(f"exit {code} ×{n}" for code, n in sorted(codes.items()))
        return [
            f"  {len(self.verdicts)} bad inputs ({by_area}): each refused with its exit code, "
            f"{sum(not v.wrote for v in self.verdicts)} wrote nothing",
            f"  {len(proxy)} proxy faults ({sum(r.faults_hit for r in proxy)} injected; {exits}) "
            f"and {len(kills)} kill -9 runs ({killed} killed mid-run, {between} between two "
            f"writes) of apply and reconcile: {states} flow states checked, each old or new, "
            "every rerun converged",
            f"  seed {self.seed}, {self.seconds:.0f} s",
        ]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts) and all(
            not r.problems and not r.half_applied for r in self.runs
        )

    def failures(self) -> list[str]:
        lines = []
        for verdict in self.verdicts:
            if not verdict.passed:
                lines.append(f"FAIL {verdict.area}: {verdict.name}: {'; '.join(verdict.problems)}")
                lines += [f"    | {line}" for line in verdict.output.strip().splitlines()[-12:]]
        for run in self.runs:
            if run.problems or run.half_applied:
                half = f"; half-applied: {run.half_applied}" if run.half_applied else ""
                lines.append(f"FAIL fault: {run.name}: {'; '.join(run.problems)}{half}")
                lines += [f"    | {line}" for line in run.outcome.err.strip().splitlines()[-8:]]
        return lines


def run(
    root: Path,
    *,
    smoke: bool = False,
    seed: int | None = None,
    only: Sequence[str] = (),
    faults: bool = True,
) -> Report:
    """Run the suite (or its smoke) with worlds under ``root``; corpus and faults run side by side."""
    started = time.monotonic()
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 10**6)
    report = Report(seed=seed)
    cases = [
        c for c in CASES if (not smoke or c.name in SMOKE_CASES) and (not only or c.name in only)
    ]
    plan = PLAN[:SMOKE_FAULTS] if smoke else PLAN
    kills = SMOKE_KILLS if smoke else KILLS
    failures: list[BaseException] = []

    def fault_part() -> None:
        try:
            with World(root / "faults") as world, FaultRig(world, random.Random(seed)) as rig:
                report.runs += proxy_runs(rig, plan)
                report.runs += kill_runs(rig, kills)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    worker = threading.Thread(target=fault_part, name="chaos-faults")
    if faults and not only:
        worker.start()
    with World(root / "corpus") as world:
        report.verdicts = [judge(world, case) for case in cases]
    if worker.is_alive() or worker.ident is not None:
        worker.join()
    if failures:
        raise failures[0]
    report.seconds = time.monotonic() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chaos.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="a few cases of each kind (make test)")
    parser.add_argument("--seed", type=int, help="the seed of the random choices (printed)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="CASE", help="only this case"
    )
    parser.add_argument("--keep", metavar="DIR", help="build the worlds in DIR and keep them")
    parser.add_argument("--no-faults", action="store_true", help="the corpus only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="syncer-chaos-") as scratch:
        root = Path(args.keep) if args.keep else Path(scratch)
        report = run(
            root, smoke=args.smoke, seed=args.seed, only=args.only, faults=not args.no_faults
        )
    for line in report.failures():
        print(line)
    print(f"chaos: {report.tally()}")
    for line in report.details():
        print(line)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
