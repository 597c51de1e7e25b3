"""The fast (C) loader and the full (line/column, YAML 1.2) loader read every text the same way.

``yamlio.load_text`` takes the fast path when it can and the full one otherwise; ``load_text_fully`` is
the full one alone. For any text both give the same data (same types, same key order) or the same
problems, so the fast path can never be a silent difference. Texts come from what syncer writes
(generated flows, property-based documents) and from a grammar of hostile YAML: YAML 1.1 words and
numbers, dates, duplicate and merge keys, anchors, aliases, tags, directives, several documents, flow
collections with URLs, block scalars with indicators, CRLF line ends, tabs and line separators.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate_flow
from syncer import canonical, yamlio
from syncer.errors import ValidationError
from syncer.yamlio import fast
from tests.strategies import FLOW_SETTINGS, SCALARS, TRICKY_STRINGS, careflows

pytestmark = pytest.mark.skipif(
    not fast.AVAILABLE, reason="ruamel.yaml.clib (libyaml) is not installed"
)


def _typed(value: Any) -> Any:
    """``value`` with every type and key order made visible, so 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return ("map", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [_typed(v) for v in value])
    return (type(value).__name__, value)


def _outcome(load: Any, text: str) -> Any:
    try:
        return ("data", _typed(load(text, "flows/x/flow.yaml").data))
    except ValidationError as exc:
        return ("problems", [str(p) for p in exc.problems])


def _agree(text: str) -> Any:
    fast_result = _outcome(yamlio.load_text, text)
    full_result = _outcome(yamlio.load_text_fully, text)
    assert fast_result == full_result, text
    return fast_result


def _fast_took(text: str) -> bool:
    try:
        fast.load(text)
    except (fast.Unsure, fast.TooDeep):
        return False
    return True


# --- what syncer writes -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_generated_flows_load_the_same_and_take_the_fast_path(seed: int) -> None:
    text = canonical.render_flow(generate_flow(seed, 30))
    assert _fast_took(text)
    assert _agree(text)[0] == "data"


@FLOW_SETTINGS
@given(careflows())
def test_property_based_flows_load_the_same(flow: dict[str, Any]) -> None:
    text = canonical.render_flow(flow)
    assert _agree(text) == ("data", _typed(canonical.canonicalize(flow)))


_KEYS = st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(max_size=12))
_DATA = st.recursive(
    st.one_of(SCALARS, st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _DATA, min_size=1, max_size=6))
def test_any_document_syncer_dumps_loads_the_same(data: dict[str, Any]) -> None:
    text = yamlio.dump(data)
    assert _agree(text) == ("data", _typed(data))


def test_the_canonical_writer_output_never_needs_the_full_loader() -> None:
    data = {
        "a": "yes",
        "b": "0o17",
        "c": "1_000",
        "d": "2024-01-31",
        "e": "tab\there",
        "f": "x\u2028y",
    }
    assert _fast_took(yamlio.dump(data))


# --- hostile text ------------------------------------------------------------------------------------

_HOSTILE_SCALARS = [
    *(
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "ON",
        "True",
        "TRUE",
        "true",
        "false",
        "~",
        "null",
    ),
    *("0o17", "017", "0x1F", "0b101", "1_000", "1_000.5", "+12", "-0", "1e3", "1.5e-3", ".5", "1."),
    *(
        ".inf",
        "-.Inf",
        ".NaN",
        "12:30",
        "1:20:30",
        "190:20:30",
        "2024-01-31",
        "2024-01-31T10:00:00Z",
    ),
    *(
        "2001-12-14 21:59:43.10 -5",
        "=",
        "<<",
        "!!str 1",
        "!!binary aGk=",
        "!x y",
        "! z",
        "&a 1",
        "*a",
    ),
    *(
        '"quoted \\x41 \\u00e9 \\/ \\N \\_"',
        "'it''s'",
        '"line\\nbreak"',
        '"tab\\there"',
        "''",
        '""',
    ),
    *(
        "http://example.org/a?b=c#d",
        "a: b",
        "a #comment",
        "[1, 2]",
        "{a: 1}",
        "{url: http://x.org}",
    ),
    *(
        "[a, b: c]",
        "- x",
        "? k",
        "|",
        "|-\n  body",
        ">+\n  folded\n\n",
        "|2\n   indented",
        "'multi\n  line'",
    ),
    *("plain\n  continued", "1" * 30, "-1" + "0" * 25, "0.1" + "0" * 30, "ünï", "😀", "\u00a0nbsp"),
    *("1_0_0", "0x_1", "+.5", "-.5e+3", "0o", "0x", "1__", "Null", "NULL", "~x", "2024-1-1"),
]
_HOSTILE_KEYS = [
    "a",
    "b",
    "a",
    "<<",
    "1",
    "true",
    "null",
    "? [x]",
    "'q'",
    '"k\\n"',
    "~",
    "2024-01-01",
]
_SPECIAL_CHARS = ["\t", "\r\n", "\r", "\u2028", "\x85", "\ufeff", "\x1c", "\x00", "\u2029", "\x7f"]


def _rarely(draw: st.DrawFn) -> bool:
    return draw(st.integers(0, 5)) == 3  # not a bound: hypothesis favours those


@st.composite
def _hostile_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if _rarely(draw):
        lines.append(
            draw(
                st.sampled_from(
                    ["%YAML 1.1\n---", "%YAML 1.2\n---", "---", "%TAG !e! tag:x,2000:\n---"]
                )
            )
        )
    for index in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(_HOSTILE_KEYS))
        key = key if _rarely(draw) else f"{key.strip(chr(39) + chr(34))}{index}"
        value = draw(st.sampled_from(_HOSTILE_SCALARS))
        indent = "  " if _rarely(draw) else ""
        shape = draw(st.sampled_from(["map", "seq", "nested", "flow"]))
        if shape == "map":
            lines.append(f"{indent}{key}: {value}")
        elif shape == "seq":
            lines.append(f"{indent}{key}:\n{indent}  - {value}")
        elif shape == "nested":
            lines.append(f"{indent}{key}:\n{indent}  inner: {value}")
        else:
            lines.append(f"{indent}{key}: [{value}, {draw(st.sampled_from(_HOSTILE_SCALARS))}]")
    if _rarely(draw):
        lines.append(
            draw(st.sampled_from(["---\nsecond: document", "...", "# a comment", "&anchor x: 1"]))
        )
    text = "\n".join(lines) + "\n"
    if _rarely(draw):
        special = draw(st.sampled_from(_SPECIAL_CHARS))
        position = draw(st.integers(0, len(text)))
        text = text[:position] + special + text[position:]
    if _rarely(draw):
        text = text.replace("\n", "\r\n")
    return text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_text())
def test_hostile_text_loads_the_same_or_fails_the_same(text: str) -> None:
    _agree(text)


_FLOW_SAFE = [
    s
    for s in _HOSTILE_SCALARS
    if "\n" not in s and not s.startswith(("|", ">", "?", "-", "&", "*", "!"))
]


@st.composite
def _hostile_scalars(draw: st.DrawFn) -> str:
    """Well-formed documents (unique plain keys) full of scalars YAML 1.1 and 1.2 read differently."""
    lines = []
    for index in range(draw(st.integers(1, 4))):
        value = draw(st.sampled_from(_HOSTILE_SCALARS))
        shape = draw(st.sampled_from(["map", "seq", "nested", "flow", "key"]))
        if shape == "map":
            lines.append(f"k{index}: {value}")
        elif shape == "seq":
            lines.append(f"k{index}:\n  - {value}\n  - {draw(st.sampled_from(_HOSTILE_SCALARS))}")
        elif shape == "nested":
            lines.append(f"k{index}:\n  inner: {value}")
        elif shape == "key":
            lines.append(f"{draw(st.sampled_from(_FLOW_SAFE))}: {index}")
        else:
            items = draw(st.lists(st.sampled_from(_FLOW_SAFE), max_size=3))
            lines.append(f"k{index}: [{', '.join(items)}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_scalars())
def test_hostile_scalars_load_the_same_or_fail_the_same(text: str) -> None:
    _agree(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: yes\nb: on\nc: no\n",
            {"a": "yes", "b": "on", "c": "no"},
        ),  # YAML 1.1 booleans: strings
        ("a: 0o17\nb: 017\nc: 0x1F\n", {"a": 15, "b": 17, "c": 31}),
        ("a: 1_000\nb: 2024-01-31\nc: 12:30\n", {"a": 1000, "b": "2024-01-31", "c": "12:30"}),
        ("a: ~\nb:\nc: 'yes'\nd: '1'\n", {"a": None, "b": None, "c": "yes", "d": "1"}),
        ("a: 1\r\nb: [x, 'y']\r\n", {"a": 1, "b": ["x", "y"]}),
    ],
)
def test_yaml_11_and_12_scalars_mean_what_the_12_loader_says(text: str, expected: Any) -> None:
    assert _agree(text) == ("data", _typed(expected))
    assert _fast_took(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "<<: {a: 1}\nb: 2\n",  # merge key
        "a: &x 1\nb: *x\n",  # anchor and alias
        "a: !!str 1\n",  # explicit tag
        "%YAML 1.1\n---\na: yes\n",  # a directive changes the resolver
        "a: 1\n---\nb: 2\n",  # two documents
        "{url: http://x.org}\n",  # libyaml refuses, YAML 1.2 reads it
        "a: .inf\n",  # not finite
        "1: one\n",  # a key that is not a string
        "a: 'x\ty'\n",  # a raw tab
    ],
)
def test_what_the_fast_loader_cannot_promise_goes_to_the_full_loader(text: str) -> None:
    assert not _fast_took(text)
    _agree(text)


_COLUMN = 2 * fast.MAX_DEPTH + 1  # where a block collection one level too deep starts

# --- nesting (issue #15, item 7) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: " + "[" * 20_000 + "]" * 20_000 + "\n", 1, fast.MAX_DEPTH + 3),
        ("".join("  " * i + "k:\n" for i in range(2_000)), fast.MAX_DEPTH + 1, _COLUMN),
        ("- " * 20_000 + "x\n", 1, _COLUMN),
        ("a: " + "[" * 20_000 + "\n", 1, fast.MAX_DEPTH + 3),  # never closed: depth found first
        ("%YAML 1.2\n---\n" + "- " * 20_000 + "x\n", 3, _COLUMN),  # the full loader finds it
        (
            "a: '\t'\n" + "b:\n" + "".join("  " * i + "- \n" for i in range(1, 2_000)),
            fast.MAX_DEPTH + 2,
            _COLUMN,
        ),
    ],
    ids=["flow", "block-mappings", "block-lists", "unclosed", "directive", "tab-then-block-lists"],
)
def test_deep_nesting_is_a_located_error_on_both_paths(text: str, line: int, column: int) -> None:
    for load in (yamlio.load_text, yamlio.load_text_fully):
        with pytest.raises(ValidationError) as caught:
            load(text, "flows/deep/flow.yaml")
        (problem,) = caught.value.problems
        assert (problem.path, problem.line, problem.column) == (
            "flows/deep/flow.yaml",
            line,
            column,
        )
        assert f"nested more than {fast.MAX_DEPTH} levels" in problem.message
        assert problem.hint and "flatten" in problem.hint


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "a: " + "[" * (fast.MAX_DEPTH - 1) + "1" + "]" * (fast.MAX_DEPTH - 1) + "\n"
    assert _fast_took(text)
    assert _agree(text)[0] == "data"
