"""Properties of the simulator over generated flows (``tests/strategies.py``) and generated cases.

- every case terminates, with a number of events linear in the size of the flow and the case;
- every step ends activated-and-completed, discarded or never reached, never two of these;
- the simulator never reads the clock, the network or a file: it runs with them all made to raise,
  and its source never names them.

``make test`` runs a few dozen examples; ``make test-all`` (the ``slow`` marker) runs many more.
"""

from __future__ import annotations

import ast
import builtins
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.testcases import Activity, Answer, Case, Delay, Fate, Run, simulate
from syncer.testcases.graph import build

from .strategies import FLOW_SETTINGS, careflows

TESTCASES = Path(__file__).resolve().parents[1] / "syncer" / "testcases"
SIMULATOR = (
    "actions",
    "calculations",
    "clock",
    "engine",
    "events",
    "graph",
    "inputs",
    "operators",
    "rules",
    "transitions",
    "triggers",
    "values",
)
SMOKE = settings(FLOW_SETTINGS, max_examples=40)
LONG = settings(FLOW_SETTINGS, max_examples=600)

_VALUES = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "10", "-1", "yes", "no", "", "2024-02-01", "[1, 2]", "x"]),
    st.integers(-5, 30),
    st.booleans(),
    st.text(max_size=8),
)
_DELAYS = st.one_of(
    st.none(),
    st.builds(Delay, st.integers(0, 40), st.sampled_from(["hour", "day", "week", "month"])),
)


@st.composite
def flows_and_cases(draw: st.DrawFn, answer_everything: bool = True) -> tuple[dict[str, Any], Case]:
    """A generated flow, and a case that answers its forms and checklists (maybe late, maybe oddly)."""
    document = draw(careflows())
    spec = document["spec"]
    activities: list[Activity] = []
    for form in spec["forms"]:
        if answer_everything or draw(st.booleans()):
            answers = tuple(
                Answer(str(q["key"]), draw(_VALUES))
                for q in form["questions"]
                if draw(st.booleans())
            )
            name = draw(st.sampled_from([form["title"], form["key"]]))
            activities.append(Activity(len(activities), "form", name, answers, after=draw(_DELAYS)))
    for track in spec["tracks"]:
        for step in track["steps"]:
            for action in step["actions"]:
                if action["type"] == "checklist" and (answer_everything or draw(st.booleans())):
                    activities.append(
                        Activity(len(activities), "checklist", action["title"], after=draw(_DELAYS))
                    )
    points = [p["id"] for p in spec["data_point_definitions"]]
    baseline = draw(st.dictionaries(st.sampled_from(points), _VALUES, max_size=3)) if points else {}
    if draw(st.booleans()):
        title = draw(st.sampled_from([t["title"] for t in spec["tracks"]]))
        activities.append(Activity(len(activities), "start_track", title, after=draw(_DELAYS)))
    return document, Case(
        "generated", tuple(Answer(k, v) for k, v in baseline.items()), tuple(activities)
    )


def _size(document: dict[str, Any], case: Case) -> int:
    graph = build(document)
    actions = sum(len(s.actions) for s in graph.steps.values())
    transitions = sum(len(ts) for ts in graph.outgoing.values())
    answers = sum(len(a.answers) for a in case.activities) + len(case.baseline)
    collections = answers + actions * 4 + 2 * len(graph.steps) + 2 * len(graph.tracks)
    return (
        len(graph.steps)
        + actions
        + transitions
        + len(graph.triggers) * (collections + 2)
        + collections
        + 1
    )


def _check_fates(run: Run) -> None:
    for step_id, fate in run.steps.items():
        actions = tuple(
            e.action for e in run.of(step_id) if e.subject == "step" and e.action != "NOT_ACTIVATED"
        )
        assert actions in {(), ("DISCARDED",), ("ACTIVATE",), ("ACTIVATE", "COMPLETE")}, (
            step_id,
            actions,
        )
        expected = {
            (): Fate.NOT_REACHED,
            ("DISCARDED",): Fate.DISCARDED,
            ("ACTIVATE",): Fate.ACTIVE,
        }
        assert fate is expected.get(actions, Fate.COMPLETED)
        if fate is Fate.ACTIVE:
            assert not run.completed  # an active step holds the care flow open ...
            assert any(w.id == step_id for w in run.waiting)  # ... and says what it waits for


def _property(document: dict[str, Any], case: Case, answered: bool) -> None:
    with _no_clock_network_or_files():
        run = simulate(document, case)
    assert len(run.events) <= 4 * _size(document, case)
    _check_fates(run)
    if answered:
        # Everything the flow waits for is answered: no step can be left active.
        assert all(fate is not Fate.ACTIVE for fate in run.steps.values()), run.waiting
    for track_id, fate in run.tracks.items():
        started = [e for e in run.of(track_id) if e.action == "ACTIVATE"]
        assert len(started) == (0 if fate is Fate.NOT_REACHED else 1)
    times = [e.at for e in run.events]
    assert times == sorted(times)  # the virtual clock never goes back


@SMOKE
@given(flows_and_cases())
def test_a_fully_answered_case_ends_every_step_once(drawn: tuple[dict[str, Any], Case]) -> None:
    _property(*drawn, answered=True)


@SMOKE
@given(flows_and_cases(answer_everything=False))
def test_any_case_terminates_and_never_gives_a_step_two_fates(
    drawn: tuple[dict[str, Any], Case],
) -> None:
    _property(*drawn, answered=False)


@pytest.mark.slow
@LONG
@given(flows_and_cases(answer_everything=False))
def test_long_run_of_generated_cases(drawn: tuple[dict[str, Any], Case]) -> None:
    _property(*drawn, answered=False)


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("the simulator must not read the clock, the network or a file")


@contextmanager
def _no_clock_network_or_files() -> Iterator[None]:
    targets = [
        (time, "time"), (time, "time_ns"), (time, "monotonic"), (time, "perf_counter"), (time, "sleep"),
        (time, "localtime"), (time, "gmtime"), (socket, "socket"), (socket, "create_connection"),
        (socket, "getaddrinfo"), (builtins, "open"),
    ]  # fmt: skip
    with ExitStack() as stack:
        for module, name in targets:
            stack.enter_context(mock.patch.object(module, name, _refuse))
        yield


def test_the_guard_itself_works() -> None:
    with _no_clock_network_or_files(), pytest.raises(AssertionError):
        time.time()


ALLOWED_IMPORTS = {
    "__future__", "calendar", "collections.abc", "dataclasses", "datetime", "enum", "heapq", "json",
    "math", "typing",
}  # fmt: skip
FORBIDDEN_NAMES = {
    "now",
    "today",
    "utcnow",
    "fromtimestamp",
    "utcfromtimestamp",
    "open",
    "time",
    "socket",
    "urlopen",
}


def _sources() -> list[Path]:
    return [TESTCASES / f"{name}.py" for name in SIMULATOR]


def _relative_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
    return found


def test_the_simulator_imports_only_itself() -> None:
    """The simulator's modules import each other and nothing else of syncer (the test files, yamlio,
    git), so the checks below cover everything it runs."""
    simulator = {path.stem for path in _sources()}
    for path in _sources():
        assert _relative_imports(path) <= simulator, path.name
        assert not any(
            isinstance(n, ast.ImportFrom) and n.level > 1
            for n in ast.walk(ast.parse(path.read_text("utf-8")))
        )


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_the_simulator_imports_only_pure_modules(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= ALLOWED_IMPORTS, ast.dump(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            assert node.module in ALLOWED_IMPORTS, node.module


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_the_simulator_never_asks_for_the_time(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in FORBIDDEN_NAMES, f"{path.name}:{node.lineno} uses .{node.attr}"
        elif isinstance(node, ast.Name):
            assert node.id not in FORBIDDEN_NAMES, f"{path.name}:{node.lineno} uses {node.id}"
