"""``syncer.yamlio``: safe loading with line and column, and canonical dumping that is a fixed point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer import model, yamlio
from syncer.errors import Problem, ValidationError

ROOT = Path(__file__).resolve().parents[1]


def _refused(text: str) -> Problem:
    with pytest.raises(ValidationError) as caught:
        yamlio.load_text(text, "flows/x/flow.yaml")
    assert len(caught.value.problems) >= 1
    return caught.value.problems[0]


# --- loading -------------------------------------------------------------------------------------------


def test_loads_plain_data() -> None:
    doc = yamlio.load_text("a: 1\nb: [x, 'y']\nc: {d: null}\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", "y"], "c": {"d": None}}
    assert doc.path == "f.yaml"


def test_timestamps_and_yes_stay_strings() -> None:
    doc = yamlio.load_text("day: 2024-01-01\nat: 2024-01-01T10:00:00Z\nanswer: yes\n", "f")
    assert doc.data == {"day": "2024-01-01", "at": "2024-01-01T10:00:00Z", "answer": "yes"}


def test_duplicate_key_names_line_and_column() -> None:
    problem = _refused("metadata:\n  key: a\n  title: t\n  key: b\n")
    assert "duplicate key" in problem.message
    assert (problem.line, problem.column) == (4, 3)
    assert str(problem).startswith("flows/x/flow.yaml:4:3: ")


def test_syntax_error_names_line_and_column() -> None:
    problem = _refused("a: 1\nb: [unclosed\nc: 2\n")
    assert problem.message.startswith("invalid YAML")
    assert problem.line is not None and problem.line >= 2
    assert problem.column is not None


def test_tab_indentation_is_a_syntax_error() -> None:
    problem = _refused("a:\n\tb: 1\n")
    assert problem.line == 2


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]"
        for i in range(9)
    ]
)


def test_billion_laughs_is_refused_before_expansion() -> None:
    problem = _refused(BILLION_LAUGHS)
    assert "anchors and aliases are not allowed" in problem.message
    assert (problem.line, problem.column) == (1, 4)


def test_a_single_alias_is_refused() -> None:
    problem = _refused("a: &x 1\nb: *x\n")
    assert "anchors and aliases" in problem.message


def test_stars_and_ampersands_inside_strings_are_fine() -> None:
    doc = yamlio.load_text("a: 'x & *y'\nb: \"&z\"\nc: a*b&c\n", "f")
    assert doc.data == {"a": "x & *y", "b": "&z", "c": "a*b&c"}


def test_non_utf8_byte_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ValidationError) as caught:
        yamlio.load_file(path, "flows/x/flow.yaml")
    problem = caught.value.problems[0]
    assert "0xe9 is not valid UTF-8" in problem.message
    assert (problem.line, problem.column) == (2, 7)


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    with path.open("wb") as handle:
        handle.truncate(yamlio.MAX_FILE_BYTES + 1)  # sparse: the size is all that matters
    with pytest.raises(ValidationError) as caught:
        yamlio.load_file(path, "big.yaml")
    assert "over the 10485760 byte limit" in caught.value.problems[0].message


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        yamlio.load_file(tmp_path / "nope.yaml", "nope.yaml")
    assert "cannot read the file" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: !!binary aGVsbG8=\n", "bytes value is not supported"),
        ("a: !!set {x, y}\n", "set value is not supported"),
        ("a:\n  b: .nan\n", "not finite"),
        ("a: [1, .inf]\n", "not finite"),
        ("1: one\n", "mapping key `1` is not a string"),
    ],
)
def test_values_that_are_not_plain_data_are_refused(text: str, words: str) -> None:
    assert words in _refused(text).message


def test_python_tags_are_refused() -> None:
    problem = _refused("a: !!python/object/apply:os.system ['true']\n")
    assert problem.message.startswith("invalid YAML")


def test_locate_finds_nested_keys_and_items() -> None:
    doc = yamlio.load_text("spec:\n  tracks:\n    - id: t1\n      title: x\n", "f")
    assert doc.locate(("spec", "tracks", 0, "title")) == (4, 7)
    assert doc.locate(("spec", "tracks", 0)) == (3, 7)
    assert doc.locate(("spec", "tracks", 5, "title")) == (2, 3)  # nearest ancestor
    assert doc.problem(("spec",), "m", "h") == Problem("f", "m", 1, 1, "h")


# --- dumping -------------------------------------------------------------------------------------------


def test_multiline_strings_are_literal_blocks() -> None:
    text = yamlio.dump({"body": "line one\nline two\n", "bare": "a\nb"})
    assert "body: |\n  line one\n  line two\n" in text
    assert "bare: |-\n  a\n  b\n" in text


def test_strings_yaml_would_misread_are_quoted() -> None:
    data = {"a": "yes", "b": "No", "c": "012", "d": "2024-01-01", "e": "null", "f": "#x", "g": " x"}
    text = yamlio.dump(data)
    for word in ("'yes'", "'No'", "'012'", "'2024-01-01'", "'null'", "'#x'", '" x"'):
        assert word in text
    assert yamlio.load_text(text, "f").data == data


def test_control_characters_are_escaped() -> None:
    data = {"a": "x\x8ay", "b": "one\ntwo\x85three", "c": "tab\there", "d": "bom\ufeff"}
    text = yamlio.dump(data)
    assert "\x8a" not in text and "\x85" not in text
    assert yamlio.load_text(text, "f").data == data


def test_short_scalar_mappings_use_flow_style() -> None:
    text = yamlio.dump({"layout": {"steps": {"s1": {"x": 1, "y": 2}}}, "items": ["a", "b"]})
    assert "s1: {x: 1, y: 2}" in text
    assert "items: [a, b]" in text


def test_header_is_the_first_line() -> None:
    text = yamlio.dump({"a": 1}, model.flow_file_header())
    assert (
        text.splitlines()[0]
        == "# yaml-language-server: $schema=../../schemas/careflow.v1.schema.json"
    )


@pytest.mark.parametrize(
    "path", sorted(ROOT.glob("flows/*/flow.yaml")), ids=lambda p: p.parent.name
)
def test_shipped_flows_are_fixed_points(path: Path) -> None:
    text = path.read_text("utf-8")
    data = yamlio.load_text(text, str(path)).data
    assert yamlio.dump(data, model.flow_file_header()) == text


_KEYS = st.text(max_size=12)
_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(st.characters(blacklist_categories=("Cs",))),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_dump_then_load_gives_the_data_back_and_dump_is_a_fixed_point(data: dict[str, Any]) -> None:
    text = yamlio.dump(data)
    loaded = yamlio.load_text(text, "f").data
    assert loaded == data
    assert yamlio.dump(loaded) == text


def test_an_atomic_write_keeps_the_file_s_mode_or_follows_the_umask(tmp_path: Path) -> None:
    """Found by a newcomer's walk-through: every file syncer wrote came out 0600 (mkstemp's mode),
    and an existing 0644 file lost its mode."""
    import os
    import stat

    new = tmp_path / "new.yaml"
    old_umask = os.umask(0o022)
    os.umask(old_umask)
    yamlio.write_text_atomically(new, "a: 1\n")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~old_umask
    kept = tmp_path / "kept.yaml"
    kept.write_text("a: 1\n", "utf-8")
    kept.chmod(0o640)
    yamlio.write_text_atomically(kept, "a: 2\n")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text("utf-8") == "a: 2\n"


def test_a_number_longer_than_python_reads_is_a_located_error() -> None:
    """Found by probing: 5,000 digits raised ValueError (exit 4) in both loaders."""
    text = f"a: 1\nb: {'9' * 5000}\n"
    for load in (yamlio.load_text, yamlio.load_text_fully):
        with pytest.raises(ValidationError) as caught:
            load(text, "t.yaml")
        (problem,) = caught.value.problems
        assert (problem.line, problem.column) == (2, 4) and "quote it" in problem.message
    assert yamlio.load_text(f"b: '{'9' * 5000}'\n", "t.yaml").data == {"b": "9" * 5000}
