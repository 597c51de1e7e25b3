"""The compiled schema check (jsonschema-rs) and the full one (jsonschema) give the same verdict.

Valid documents are drawn (``tests/strategies.py``, ``bench/generate.py``, the example repository) and
mutated the ways people and tenants break them: wrong types, missing and unknown fields, broken
references, bad strings (patterns, lengths, enums, controls, a trailing line break). Each mutant is checked
both ways, from the schema verdict up to the whole ``check_flow`` (fast loader + compiled schema vs full
loader + Python schema), and the problems must be the same list. ``make test`` runs a few hundred
mutations; ``make test-slow`` (marker ``slow``) runs well over a thousand.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate_flow
from syncer import canonical, yamlio
from syncer.validate import check_environment, check_flow, compiled
from syncer.validate.schema import full_schema_findings, schema_findings
from tests.strategies import careflows

ROOT = Path(__file__).resolve().parents[1]
_WRONG_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    1.5,
    "",
    "x",
    "not an id!",
    "abc\n",
    "a\x1cb",
    [],
    [1],
    {},
    {"x": 1},
]
_NEAR_NAMES = ["titel", "ID", "type ", "vendor_field", "keys", "x-extra", "description_"]


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*path, index))
    return found


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for element in path[:-1]:
        doc = doc[element]
    return doc


def mutate(doc: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str]:
    """A copy of ``doc`` broken in one place, and what was done."""
    mutant = copy.deepcopy(doc)
    nodes = [(p, v) for p, v in _nodes(mutant) if p]
    path, value = rng.choice(nodes)
    parent = _parent(mutant, path)
    kind = rng.choice(["type", "missing", "unknown", "reference", "string", "string", "type"])
    if kind == "missing" and isinstance(parent, dict):
        del parent[path[-1]]
    elif kind == "unknown" and isinstance(value, dict):
        value[rng.choice([*_NEAR_NAMES, *(k + "s" for k in value)])] = rng.choice(_WRONG_VALUES)
    elif kind == "reference":
        references = [
            (p, v) for p, v in nodes if isinstance(v, str) and str(p[-1]).endswith(("id", "ids"))
        ]
        references += [(p, v) for p, v in nodes if isinstance(p[-1], int) and isinstance(v, str)]
        if references:
            path, value = rng.choice(references)
            parent = _parent(mutant, path)
            parent[path[-1]] = rng.choice(
                ["missing-id", value + "x", value.upper(), "", value[:-1]]
            )
        else:
            parent[path[-1]] = rng.choice(_WRONG_VALUES)
    elif kind == "string" and isinstance(value, str):
        parent[path[-1]] = rng.choice(
            [value + "\n", value + " ", " " + value, value + "\x1c", value * 40, "", value.lower()]
        )
    else:
        parent[path[-1]] = rng.choice(_WRONG_VALUES)
    return mutant, f"{kind} at {'.'.join(map(str, path))}"


def _flow_verdicts(mutant: dict[str, Any], key: str) -> tuple[list[str], list[str]]:
    text = yamlio.dump(mutant)
    fast = yamlio.load_text(text, "flows/f/flow.yaml")
    full = yamlio.load_text_fully(text, "flows/f/flow.yaml")
    return (
        [str(p) for p in check_flow(fast, key)],
        [str(p) for p in check_flow(full, key, compiled=False)],
    )


def _check_mutants(doc: dict[str, Any], rng: random.Random, count: int, kind: str) -> int:
    """Mutate ``doc`` ``count`` times; every mutant gets the same verdict both ways. Returns how many
    mutants were invalid (a mutation test that only made valid documents would prove little)."""
    invalid = 0
    for _ in range(count):
        mutant, what = mutate(doc, rng)
        verdict = compiled.is_valid(mutant, kind)  # type: ignore[arg-type]
        full = full_schema_findings(mutant, kind)  # type: ignore[arg-type]
        if verdict is not None:
            assert verdict == (not full), what
        assert bool(schema_findings(mutant, kind)) == bool(full), what  # type: ignore[arg-type]
        if kind == "careflow":
            fast_problems, full_problems = _flow_verdicts(mutant, doc["metadata"]["key"])
            assert fast_problems == full_problems, what
            invalid += bool(full_problems)
        else:
            text = yamlio.dump(mutant)
            fast_doc = yamlio.load_text(text, "environments/e.yaml")
            full_doc = yamlio.load_text_fully(text, "environments/e.yaml")
            fast_found = [str(p) for p in check_environment(fast_doc)]
            assert fast_found == [str(p) for p in check_environment(full_doc, compiled=False)], what
            invalid += bool(fast_found)
    return invalid


def _generated(seed: int) -> dict[str, Any]:
    return canonical.canonicalize(generate_flow(seed, 4 + seed % 5))


# --- in make test: a few hundred mutations ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_mutated_generated_flows_get_the_same_verdict(seed: int) -> None:
    rng = random.Random(f"compiled-{seed}")
    assert _check_mutants(_generated(seed), rng, 35, "careflow") > 15


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(careflows(), st.randoms(use_true_random=False))
def test_mutated_property_based_flows_get_the_same_verdict(
    flow: dict[str, Any], rng: random.Random
) -> None:
    _check_mutants(canonical.canonicalize(flow), rng, 6, "careflow")


@pytest.mark.parametrize("name", ["production-eu", "production-us", "sandbox"])
def test_mutated_environments_get_the_same_verdict(name: str) -> None:
    doc = yamlio.load_file(ROOT / "environments" / f"{name}.yaml").data
    assert _check_mutants(doc, random.Random(name), 30, "environment") > 8


@pytest.mark.parametrize(
    "path", sorted((ROOT / "flows").glob("*/tests/*.yaml")), ids=lambda p: p.parent.parent.name
)
def test_mutated_test_case_files_get_the_same_verdict(path: Path) -> None:
    doc = yamlio.load_file(path).data
    assert compiled.is_valid(doc, "tests") is True
    rng = random.Random(path.name)
    invalid = 0
    for _ in range(40):
        mutant, what = mutate(doc, rng)
        full = not full_schema_findings(mutant, "tests")
        verdict = compiled.is_valid(mutant, "tests")
        assert verdict is None or verdict == full, what
        invalid += not full
    assert invalid > 5


def test_the_example_flows_are_valid_both_ways() -> None:
    for path in sorted((ROOT / "flows").glob("*/flow.yaml")):
        doc = yamlio.load_file(path).data
        assert compiled.is_valid(doc, "careflow") is True
        assert full_schema_findings(doc, "careflow") == []


def test_a_pattern_means_what_python_says_even_where_rust_differs() -> None:
    doc = _generated(0)
    for odd in ("abc\n", "a\x1cb"):
        broken = copy.deepcopy(doc)
        broken["spec"]["tracks"][0]["id"] = odd  # ids follow ^[A-Za-z0-9_.:-]+$
        assert compiled.is_valid(broken, "careflow") == (
            not full_schema_findings(broken, "careflow")
        )


def test_fields_of_an_unmodelled_action_type_outside_vendor_fields_are_refused_both_ways() -> None:
    # Found by the mutations: with no type branch applying, the wording layer allowed every branch's
    # fields and so said nothing, while jsonschema itself (and jsonschema-rs) refuse the document.
    doc = _generated(100)
    action = doc["spec"]["tracks"][0]["steps"][2]["actions"][1]
    assert "clinical_note_definition_id" in action
    action["type"] = "an_unmodelled_type"
    assert compiled.is_valid(doc, "careflow") is False
    (finding,) = full_schema_findings(doc, "careflow")
    assert finding.path[-1] == "clinical_note_definition_id" and finding.unknown
    assert finding.hint and "vendor_fields" in finding.hint
    action["vendor_fields"] = {
        "clinical_note_definition_id": action.pop("clinical_note_definition_id")
    }
    assert (
        compiled.is_valid(doc, "careflow") is True and full_schema_findings(doc, "careflow") == []
    )


def test_a_value_the_compiled_check_cannot_take_goes_to_the_full_check() -> None:
    doc = _generated(1)
    doc["metadata"]["title"] = 10**40  # too large for the compiled validator's numbers
    assert compiled.is_valid(doc, "careflow") in (None, False)
    assert schema_findings(doc, "careflow") == full_schema_findings(doc, "careflow") != []


def test_a_valid_document_never_imports_jsonschema() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from syncer import yamlio; "
        "from syncer.validate import check_flow; "
        f"doc = yamlio.load_file(Path({str(sorted((ROOT / 'flows').glob('*/flow.yaml'))[0])!r})); "
        "assert check_flow(doc) == []; print('jsonschema' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- make test-slow: over a thousand mutations -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_many_mutations_of_generated_flows(seed: int) -> None:
    rng = random.Random(f"slow-{seed}")
    assert _check_mutants(_generated(seed + 100), rng, 110, "careflow") > 50


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(careflows(), st.randoms(use_true_random=False))
def test_many_mutations_of_property_based_flows(flow: dict[str, Any], rng: random.Random) -> None:
    _check_mutants(canonical.canonicalize(flow), rng, 10, "careflow")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["production-eu", "production-us", "sandbox"])
def test_many_mutations_of_environments(name: str) -> None:
    doc = yamlio.load_file(ROOT / "environments" / f"{name}.yaml").data
    _check_mutants(doc, random.Random(f"slow-{name}"), 150, "environment")
