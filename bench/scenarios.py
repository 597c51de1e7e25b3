"""The scenarios of ``make bench``, each measured beside its floor (see ``bench/floors.py``).

Order matters and is kept by ``SCENARIOS``: the export validates, and so caches, every file the later
plans read; the changed and drifted scenarios change the tenants for the ones after them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import landscape, stage
from bench.landscape import KEYS, TARGETS
from bench.measure import spawn
from bench.stage import Stage

CHANGED = 10  # flows changed in Git, and flows drifted in each Production tenant
MB = 1024 * 1024


@dataclass
class Row:
    """One line of the results table: syncer's median run beside the floor's."""

    scenario: str
    section: str
    syncer: dict[str, Any]
    floor: dict[str, Any] | None
    runs: int
    targets: list[tuple[str, bool]] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.syncer["wall"] / self.floor["wall"] if self.floor else None


class Bench:
    def __init__(self, here: Stage, args: argparse.Namespace) -> None:
        self.here = here
        self.args = args
        self.rows: list[Row] = []
        self.env = here.env()
        self.tenants = {name: here.tenants[name].url for name in TARGETS}

    def measure(
        self,
        label: str,
        section: str,
        argv: list[str],
        floor: tuple[str, dict[str, Any]] | None,
        *,
        runs: int | None = None,
        expect: tuple[int, ...] = (0,),
        before: Callable[[], None] | None = None,
        note: str = "",
    ) -> Row:
        runs = runs or self.args.repeat
        mine: list[dict[str, Any]] = []
        floors: list[dict[str, Any]] = []
        for index in range(runs):
            if before:
                before()
            if floor:
                floors.append(spawn({"kind": "floor", "floor": floor[0], "params": floor[1]}, {}))
            spec: dict[str, Any] = {"kind": "syncer", "argv": argv}
            if self.args.profile and index == 0:
                words = label.split(",")[0].replace(":", "").split()
                spec["profile"] = "-".join([f"{len(self.rows):02d}", section, *words[:2]])
            outcome = spawn(spec, self.env)
            if outcome["exit"] not in expect:
                raise RuntimeError(f"{argv} exited {outcome['exit']}, expected {expect}")
            mine.append(outcome)
        row = Row(
            label, section, _median(mine), _median(floors) if floors else None, runs, note=note
        )
        self.rows.append(row)
        ratio = f" = {row.ratio:.2f}x the floor ({row.floor['wall']:.2f}s)" if row.floor else ""
        print(
            f"  {label}: {row.syncer['wall']:.2f}s{ratio}, {row.syncer['rss'] / MB:.0f} MB, "
            f"{row.syncer['requests']} requests {row.syncer.get('routes', {})}",
            flush=True,
        )
        return row

    def syncer_argv(self, command: str, repo: Path, *extra: str) -> list[str]:
        return [command, *extra, "--repo", str(repo)]


def _median(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time; peak RSS is the largest of all runs."""
    ordered = sorted(outcomes, key=lambda o: o["wall"])
    chosen = dict(ordered[len(ordered) // 2])  # of two runs, the slower
    chosen["rss"] = max(o["rss"] for o in outcomes)
    chosen["rss_children"] = max(o.get("rss_children", 0) for o in outcomes)
    chosen["walls"] = [round(o["wall"], 3) for o in outcomes]
    chosen["wall_median"] = statistics.median(o["wall"] for o in outcomes)
    return chosen


def _route(row: Row, route: str) -> int:
    return int(row.syncer.get("routes", {}).get(route, 0))


GET_FLOW = "GET /v1/care-flows/{id}"
PUT_FLOW = "PUT /v1/care-flows/{id}"
LIST = "GET /v1/care-flows"
HISTORY = "GET /v1/care-flows/{id}/history"


def scenario_export(bench: Bench) -> None:
    here = bench.here
    n = len(here.data.keys)
    print(f"export of {n} flows from Sandbox", flush=True)
    floor = ("export", {"url": here.tenants["sandbox"].url, "key": KEYS["syncer-ci"]})
    argv = bench.syncer_argv("export", here.export_repo, "--env", "sandbox")
    first = bench.measure(
        f"export: {n} flows into an empty repository (cold parse cache)",
        "export",
        argv,
        (floor[0], {**floor[1], "out": str(here.root / "floor-export-0")}),
        runs=1,
        note="renders, validates and writes every flow",
    )
    same = _same_files(here.export_repo, here.repo)
    first.targets = [
        ("concurrent requests", first.syncer["max_in_flight"] > 1),
        (f"one GET per flow ({n})", _route(first, GET_FLOW) == n),
        ("<= 1.5x the floor", (first.ratio or 99) <= 1.5),
        ("files byte-identical to the generated repository", same),
    ]
    again = bench.measure(
        f"export: {n} flows, nothing changed (warm parse cache)",
        "export",
        argv,
        (floor[0], {**floor[1], "out": str(here.root / "floor-export-1")}),
        runs=min(2, bench.args.repeat),
        note="every file proven unchanged, none written",
    )
    again.targets = [
        ("concurrent requests", again.syncer["max_in_flight"] > 1),
        ("<= 2x the floor", (again.ratio or 99) <= 2),
    ]


def _same_files(exported: Path, generated: Path) -> bool:
    left = sorted(exported.glob("flows/*/flow.yaml"))
    right = sorted(generated.glob("flows/*/flow.yaml"))
    if [p.relative_to(exported) for p in left] != [p.relative_to(generated) for p in right]:
        return False
    return all(a.read_bytes() == b.read_bytes() for a, b in zip(left, right, strict=True))


def scenario_validate(bench: Bench) -> None:
    here, n = bench.here, len(bench.here.data.keys)
    print(f"validate of {n} flows", flush=True)
    cache = here.root / "cache-validate"
    shutil.rmtree(cache, ignore_errors=True)
    saved = bench.env["SYNCER_CACHE_DIR"]
    bench.env["SYNCER_CACHE_DIR"] = str(cache)
    argv = bench.syncer_argv("validate", here.repo)
    try:
        cold = bench.measure(
            f"validate: the whole repository ({n} flows, 3 targets), cold parse cache",
            "validate",
            argv,
            ("parse", {"repo": str(here.repo)}),
            runs=1,
            note="schema and meaning checks of every flow, in worker processes; floor: libyaml's "
            "C loader (PyYAML CSafeLoader) parsing every file in one process",
        )
        again = bench.measure(
            f"validate: the whole repository ({n} flows, 3 targets), nothing changed since",
            "validate",
            argv,
            ("read", {"repo": str(here.repo)}),
            note="every file known unchanged from the work tree index and the parse cache",
        )
    finally:
        bench.env["SYNCER_CACHE_DIR"] = saved
    total = cold.syncer["rss"] + 2 * cold.syncer.get("rss_children", 0)
    cold.targets = [
        ("<= 1.5x the floor", (cold.ratio or 99) <= 1.5),
        ("peak RSS < 300 MB (main and 2 workers)", total < 300 * MB),
    ]
    again.targets = [
        ("<= 1 s", again.syncer["wall"] <= 1.0),
        ("peak RSS < 300 MB", again.syncer["rss"] < 300 * MB),
    ]


def scenario_noop(bench: Bench) -> None:
    here, n = bench.here, len(bench.here.data.keys)
    envs = len(TARGETS)
    print(f"no-op plan and reconcile of {n} flows x {envs} targets", flush=True)
    floor = ("lists", {"tenants": bench.tenants, "key": KEYS["syncer-ci"]})
    for command in ("plan", "reconcile"):
        row = bench.measure(
            f"{command}: {n} flows x {envs} targets, nothing changed",
            "noop",
            bench.syncer_argv(command, here.repo),
            floor,
            note="warm parse cache",
        )
        row.targets = [
            (f"exactly {envs} requests (one per environment)", row.syncer["requests"] == envs),
            ("<= 2x the floor", (row.ratio or 99) <= 2),
            ("peak RSS < 300 MB", row.syncer["rss"] < 300 * MB),
        ]
    cache = Path(bench.env["SYNCER_CACHE_DIR"])

    def fresh_checkout() -> None:
        for index in cache.glob("*/worktrees/*.json"):
            index.unlink()

    row = bench.measure(
        f"reconcile: {n} flows x {envs} targets, nothing changed, fresh checkout",
        "noop",
        bench.syncer_argv("reconcile", here.repo),
        floor,
        before=fresh_checkout,
        note="parse cache kept (e.g. by CI), work tree index gone: every file read and hashed",
    )
    row.targets = [
        (f"exactly {envs} requests (one per environment)", row.syncer["requests"] == envs),
        ("peak RSS < 300 MB", row.syncer["rss"] < 300 * MB),
    ]


def scenario_changed(bench: Bench) -> None:
    here, keys = bench.here, bench.here.data.keys
    n, envs = len(keys), len(TARGETS)
    changed = keys[1 : 1 + CHANGED * 7 : 7][:CHANGED]
    print(f"{len(changed)} flows changed in Git", flush=True)
    stage.change_in_git(here.repo, changed)
    stage.commit_all(here.repo, f"{len(changed)} flows changed")
    floor_params = {"tenants": bench.tenants, "key": KEYS["syncer-ci"], "flows": changed}
    plan = bench.measure(
        f"plan: {n} flows x {envs} targets, {len(changed)} changed in Git",
        "changed",
        bench.syncer_argv("plan", here.repo),
        ("fetch", floor_params),
        expect=(2,),
    )
    want = len(changed) * envs
    plan.targets = [
        (f"fetches exactly the changed flows ({want})", _route(plan, GET_FLOW) == want),
        ("peak RSS < 300 MB", plan.syncer["rss"] < 300 * MB),
    ]
    reconcile = bench.measure(
        f"reconcile: {n} flows x {envs} targets, {len(changed)} changed in Git",
        "changed",
        bench.syncer_argv("reconcile", here.repo),
        ("fetch_put", floor_params),
        runs=1,
        note="writes each changed flow to each target",
    )
    reconcile.targets = [
        (f"fetches exactly the changed flows ({want})", _route(reconcile, GET_FLOW) == want),
        (f"writes exactly the changed flows ({want})", _route(reconcile, PUT_FLOW) == want),
        ("peak RSS < 300 MB", reconcile.syncer["rss"] < 300 * MB),
    ]
    after = spawn({"kind": "syncer", "argv": bench.syncer_argv("plan", here.repo)}, bench.env)
    reconcile.targets.append(
        ("the next plan is a no-op again", after["exit"] == 0 and after["requests"] == envs)
    )
    _tenant_put(bench, changed)


def _tenant_put(bench: Bench, flows: list[str]) -> None:
    """The reference tenant's PUT of a 50-step flow (parse, concealed split, schema check, 412)."""
    url = bench.tenants[next(iter(TARGETS))]
    outcomes = []
    for _ in range(bench.args.repeat):
        outcome = spawn(
            {
                "kind": "floor",
                "floor": "puts",
                "params": {"url": url, "key": KEYS["syncer-ci"], "flows": flows},
            },
            {},
        )
        outcome["wall"] = outcome["put_wall"]
        outcomes.append(outcome)
    chosen = _median(outcomes)
    count = max(1, chosen["puts"])
    per_put = chosen["wall"] / count * 1000
    checks = chosen["check_wall"] / count * 1000
    schema = chosen["schema_wall"] / count * 1000
    row = Row(
        f"tenant PUT: {chosen['puts']} flows of about 50 steps, one at a time (reference server)",
        "changed",
        chosen,
        None,
        len(outcomes),
        targets=[
            (f"schema check <= 5 ms per flow ({schema:.1f} ms)", schema <= 5.0),
            (f"all body checks <= 5 ms per flow ({checks:.1f} ms)", checks <= 5.0),
            (f"the whole PUT over HTTP <= 5 ms ({per_put:.1f} ms)", per_put <= 5.0),
        ],
        note="each body parsed, its concealed values split off, schema-checked, then refused with "
        "412 (If-Match names no revision), so nothing changes; the time is the PUTs over HTTP from "
        "a client, the checks are the tenant's own functions timed in one process",
    )
    bench.rows.append(row)
    print(f"  {row.scenario}: {per_put:.1f} ms per PUT, checks {checks:.1f} ms", flush=True)


def scenario_drift(bench: Bench) -> None:
    here, keys = bench.here, bench.here.data.keys
    n, envs = len(keys), len(TARGETS)
    drifted = keys[3 : 3 + CHANGED * 7 : 7][:CHANGED]
    print(f"{len(drifted)} flows drifted in each Production tenant", flush=True)
    for name in TARGETS:
        stage.hotfix(here.tenants[name], drifted)
    floor = ("fetch", {"tenants": bench.tenants, "key": KEYS["syncer-ci"], "flows": drifted})
    want = len(drifted) * envs
    for command in ("plan", "reconcile"):
        row = bench.measure(
            f"{command}: {n} flows x {envs} targets, {len(drifted)} drifted in Production",
            "drift",
            bench.syncer_argv(command, here.repo),
            floor,
            expect=(3,),
            note="drift is reported (who, when) and never overwritten",
        )
        row.targets = [
            (f"fetches exactly the drifted flows ({want})", _route(row, GET_FLOW) == want),
            ("writes nothing", _route(row, PUT_FLOW) == 0),
            ("peak RSS < 300 MB", row.syncer["rss"] < 300 * MB),
        ]


def scenario_big(bench: Bench) -> None:
    here, steps = bench.here, bench.here.data.size.big_steps
    print(f"plan of one flow of {steps} steps with one changed action", flush=True)
    stage.change_in_git(here.big, [landscape.BIG_KEY])
    stage.commit_all(here.big, "one action changed")
    tenants = {landscape.BIG_TARGET: here.tenants[landscape.BIG_TARGET].url}
    floor = ("fetch", {"tenants": tenants, "key": KEYS["syncer-ci"], "flows": [landscape.BIG_KEY]})
    argv = bench.syncer_argv("plan", here.big)
    cold_cache = here.root / "cache-big-cold"

    def forget() -> None:
        shutil.rmtree(cold_cache, ignore_errors=True)

    saved = bench.env["SYNCER_CACHE_DIR"]
    bench.env["SYNCER_CACHE_DIR"] = str(cold_cache)
    try:
        cold = bench.measure(
            f"plan: one flow of {steps} steps, one action changed (cold parse cache)",
            "big",
            argv,
            floor,
            runs=1,
            expect=(2,),
            before=forget,
            note="parses and validates the changed file first",
        )
    finally:
        bench.env["SYNCER_CACHE_DIR"] = saved
    cold.targets = [("< 1 s", cold.syncer["wall"] < 1.0)]
    spawn({"kind": "syncer", "argv": argv}, bench.env)  # parses the changed file into the cache
    warm = bench.measure(
        f"plan: one flow of {steps} steps, one action changed (warm parse cache)",
        "big",
        argv,
        floor,
        expect=(2,),
        note="the changed file already parsed and validated (e.g. by an earlier plan)",
    )
    warm.targets = [
        ("< 1 s", warm.syncer["wall"] < 1.0),
        ("one list and one GET", warm.syncer["requests"] == 2),
    ]


def warm(bench: Bench) -> None:
    """Without the export scenario (which validates, and so caches, every file), parse once first."""
    print("warming the parse cache with one unmeasured plan", flush=True)
    spawn({"kind": "syncer", "argv": bench.syncer_argv("plan", bench.here.repo)}, bench.env)


SCENARIOS: dict[str, Callable[[Bench], None]] = {
    "export": scenario_export,
    "validate": scenario_validate,
    "noop": scenario_noop,
    "changed": scenario_changed,
    "drift": scenario_drift,
    "big": scenario_big,
}
