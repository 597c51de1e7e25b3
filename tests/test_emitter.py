"""``syncer.emitter``: the fast canonical writer is byte for byte ruamel's emitter, or it steps aside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate_flow
from syncer import yamlio
from syncer.yamlio import dumping, emitter
from tests.strategies import careflows

ROOT = Path(__file__).resolve().parents[1]


def _fast(data: Any) -> str:
    return emitter.Writer(dumping.plain_is_str, dumping.float_text).document(data)


def _same_as_ruamel(data: Any) -> None:
    assert _fast(data) == yamlio.dump_with_ruamel(data)


@pytest.mark.parametrize(
    "path", sorted(ROOT.glob("flows/*/flow.yaml")) + sorted(ROOT.glob("environments/*.yaml"))
)
def test_the_example_files(path: Path) -> None:
    _same_as_ruamel(yamlio.load_file(path).data)


@pytest.mark.parametrize("seed", range(6))
def test_generated_flows(seed: int) -> None:
    _same_as_ruamel(generate_flow(seed, (1, 5, 20, 60, 120, 11)[seed], key=f"generated-{seed}"))


@settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)
@given(careflows())
def test_property_based_flows(flow: dict[str, Any]) -> None:
    _same_as_ruamel(flow)


# Strings that exercise every style decision: indicators, YAML 1.1 words, numbers, dates, line breaks,
# trailing blanks, control and non-ASCII characters, quotes.
_CHARS = list(" \n\t\r:#,[]{}&*!|>'\"%@`?-.~=+/\\_aZ09é😀\x85\u2028\ufeff\x00\x1b\xa0")
_TEXTS = st.one_of(
    st.text(st.sampled_from(_CHARS), max_size=10),
    st.sampled_from(
        ["", "yes", "No", "null", "true", "1", "1.5", "2024-01-01", "~", "---", "- a", "a: b",
         "a #b", "x\n", "x\n\n", "a\nb", "a\n\nb\n", " a\nb", "a \nb", "it's", "0x1F", "x" * 70]
    ),
)  # fmt: skip
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _TEXTS)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_TEXTS, inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.dictionaries(_TEXTS, _VALUES, min_size=1, max_size=5))
def test_any_plain_data_is_written_as_ruamel_writes_it(data: dict[str, Any]) -> None:
    document = {"root": {"long": "x" * 90}, **data}  # a block mapping at the top
    assert yamlio.dump(document) == yamlio.dump_with_ruamel(document)


@pytest.mark.parametrize(
    "data",
    [
        {"a": [["x" * 70, "y"]]},  # a block list inside a block list
        {"k" * 130: 1, "other": "x" * 90},  # a key too long to be a simple key
        {"a": 1},  # a root short enough for flow style
    ],
)
def test_shapes_it_does_not_know_go_to_ruamel(data: dict[str, Any]) -> None:
    with pytest.raises(emitter.Unsupported):
        _fast(data)
    assert yamlio.dump(data) == yamlio.dump_with_ruamel(data)


def test_a_keep_chomped_block_at_the_end_closes_the_document() -> None:
    assert yamlio.dump({"a": "x" * 90, "b": "x\n\n"}).endswith("b: |+\n  x\n\n...\n")
