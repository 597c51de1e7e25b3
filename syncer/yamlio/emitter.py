"""A fast writer of canonical YAML: byte for byte what ``yamlio.dump``'s ruamel emitter writes.

ruamel's round-trip emitter is a general state machine; it needs about 13 seconds for a 2,000-step flow,
which made export and backport of large flows slow. The canonical format is narrow (block style, two-space
mappings, sequences indented four with the dash at two, short all-scalar collections in flow style, no line
folding), so this module writes it directly, taking every style decision the way ruamel's emitter takes it
(``Emitter.analyze_scalar`` and ``choose_scalar_style``, ported below).

Anything outside the shapes it knows (a list directly inside a block list, a key longer than 128
characters or spanning lines, a root that is not a block mapping, a line long enough for ruamel to fold)
raises ``Unsupported``, and ``yamlio.dump`` falls back to ruamel for the whole document. Tests compare both
writers on generated and property-based documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

FLOW_STYLE_WIDTH = 80
_MAX_COLUMN = (
    900_000  # ruamel's width is 1,000,000: a line this long could be folded; leave it to ruamel
)
_MAX_SIMPLE_KEY = 128

# Trailing blanks, tabs, and characters YAML cannot print raw (C0/C1 controls, line separators, BOM,
# U+FFFE/U+FFFF): a string with any of them is written double-quoted, with escapes. Shared with
# ``yamlio.dumping._to_node``, which takes the same decisions for ruamel.
LITERAL_UNSAFE = re.compile(
    r"[ \t]\n|[ \t]$|\r|\t|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]"
)
FLOW_UNSAFE = re.compile(r"[:,\[\]{}#&*!|>'\"%@`?]")
# Plain in YAML 1.2, but booleans to YAML 1.1 readers (PyYAML, many CI tools): quoted, so that `Yes` stays
# a string wherever the file is read.
YAML11_WORDS = frozenset({"y", "n", "yes", "no", "on", "off"})

# --- ruamel's scalar analysis (emitter.py, analyze_scalar), as regular expressions -----------------------

_WS = "\0 \t\r\n\x85\u2028\u2029"
_BREAKS = "\n\x85\u2028\u2029"
_BOTH_FIRST = frozenset("#,[]{}&*!|>'\"%@`")
_FLOW_INSIDE = re.compile(r"[,\[\]{}]")
_BOTH_INSIDE = re.compile(rf"(?<=.):(?=[{_WS}]|$)|(?<=[{_WS}])#", re.DOTALL)
_LINE_BREAK = re.compile(f"[{_BREAKS}]")
# Printable for ruamel with allow_unicode: "\n", ASCII 0x20-0x7E, 0x85, 0xA0-0xD7FF, 0xE000-0xFFFD (but
# not the BOM 0xFEFF), and the supplementary planes.
_SPECIAL = re.compile(
    "[^\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_BREAK_SPACE = re.compile(f"[{_BREAKS}] ")
_SPACE_BREAK = re.compile(f" [{_BREAKS}]")
# A string made only of these characters, not starting with an indicator, is plain in block context.
_SIMPLE = re.compile(r"[A-Za-z0-9_(/$][A-Za-z0-9 _()/.$;=+~-]*")


class Unsupported(Exception):
    """The document has a shape this writer does not know; ruamel writes it instead."""


class _Analysis:
    __slots__ = ("allow_block_plain", "allow_flow_plain", "allow_single", "multiline")

    def __init__(self, text: str) -> None:
        block = flow = False
        first = text[0]
        followed = len(text) == 1 or text[1] in _WS
        if text.startswith(("---", "...")) or first in _BOTH_FIRST:
            block = flow = True
        elif first in "?:":
            flow = flow or len(text) == 1
            block = block or followed
        elif first == "-" and followed:
            block = flow = True
        if _FLOW_INSIDE.search(text, 1):
            flow = True
        if _BOTH_INSIDE.search(text, 1):
            block = flow = True
        breaks = _LINE_BREAK.search(text) is not None
        special = _SPECIAL.search(text) is not None or "\ufeff" in text
        plain = not (first == " " or first in _BREAKS or text[-1] == " " or text[-1] in _BREAKS)
        single = True
        if _BREAK_SPACE.search(text):
            plain = single = False
        if special or _SPACE_BREAK.search(text):
            plain = single = False
        if breaks:
            plain = False
        self.allow_flow_plain = plain and not flow
        self.allow_block_plain = plain and not block
        self.allow_single = single
        self.multiline = breaks


# --- writers -------------------------------------------------------------------------------------------

_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\x08": "b",
    "\x09": "t",
    "\x0a": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\x0d": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\u2028": "L",
    "\u2029": "P",
}
_NEEDS_ESCAPE = re.compile(
    '["\\\\\x85\u2028\u2029\ufeff]|[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]'
)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return "\\" + _ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def _double_quoted(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Requested styles, as ``yamlio.dumping._to_node`` marks them.
_PLAIN, _SINGLE, _DOUBLE, _LITERAL = "", "'", '"', "|"


class Writer:
    """Writes one document. ``plain_is_str(text)`` says whether ``text`` unquoted reads back as a string;
    ``float_text(number)`` is ruamel's text for a float, or None when it would not read back as one."""

    def __init__(
        self, plain_is_str: Callable[[str], bool], float_text: Callable[[float], str | None]
    ) -> None:
        self._plain_is_str = plain_is_str
        self._float_text = float_text
        self._out: list[str] = []
        self._open_ended = False  # the last thing written is a "|+" block: ruamel ends with "..."
        self._keys: dict[tuple[str, bool], str] = {}  # a flow repeats a few hundred field names
        self._values: dict[str, str] = {}  # and many values (ids, types): as written in a block

    def document(self, data: Any) -> str:
        if not isinstance(data, dict) or not data or _is_flow_mapping(data, 0):
            raise Unsupported("the root is not a block mapping")
        self._block_mapping(data, 0, 0, inline=False)
        if self._open_ended:
            self._out.append("...\n")
        return "".join(self._out)

    # -- collections ------------------------------------------------------------------------------------

    def _block_mapping(self, data: dict[str, Any], indent: int, depth: int, inline: bool) -> None:
        out = self._out
        pad = " " * indent
        for index, (key, value) in enumerate(data.items()):
            if not isinstance(key, str):
                raise Unsupported("a key that is not a string")
            out.append(
                self._key(key, flow=False) if inline and index == 0 else pad + self._key(key, False)
            )
            out.append(":")
            self._open_ended = False
            self._mapping_value(value, indent, depth + 1)

    def _mapping_value(self, value: Any, indent: int, depth: int) -> None:
        out = self._out
        if isinstance(value, dict):
            if not value:
                out.append(" {}\n")
            elif _is_flow_mapping(value, depth):
                out.append(" " + self._flow_mapping(value) + "\n")
            else:
                out.append("\n")
                self._block_mapping(value, indent + 2, depth, inline=False)
        elif isinstance(value, list):
            if _is_flow_sequence(value, depth):
                out.append(" " + self._flow_sequence(value) + "\n")
            else:
                out.append("\n")
                self._block_sequence(value, indent + 2, depth)
        elif value is None:
            out.append("\n")
        else:
            self._block_scalar(value, indent + 2, " ")

    def _block_sequence(self, items: list[Any], dash: int, depth: int) -> None:
        out = self._out
        prefix = " " * dash + "- "
        for item in items:
            out.append(prefix)
            self._open_ended = False
            if isinstance(item, dict):
                if not item:
                    out.append("{}\n")
                elif _is_flow_mapping(item, depth + 1):
                    out.append(self._flow_mapping(item) + "\n")
                else:
                    self._block_mapping(item, dash + 2, depth + 1, inline=True)
            elif isinstance(item, list):
                if not _is_flow_sequence(item, depth + 1):
                    raise Unsupported("a block list inside a block list")
                out.append(self._flow_sequence(item) + "\n")
            elif item is None:
                out.append("\n")
            else:
                self._block_scalar(item, dash + 2, "")

    def _flow_mapping(self, data: dict[str, Any]) -> str:
        parts = []
        for key, value in data.items():
            if not isinstance(key, str):
                raise Unsupported("a key that is not a string")
            parts.append(self._key(key, flow=True) + ": " + self._flow_scalar(value))
        self._open_ended = False
        return "{" + ", ".join(parts) + "}"

    def _flow_sequence(self, items: list[Any]) -> str:
        self._open_ended = False
        return "[" + ", ".join(self._flow_scalar(item) for item in items) + "]"

    # -- scalars --------------------------------------------------------------------------------------

    def _key(self, key: str, flow: bool) -> str:
        written = self._keys.get((key, flow))
        if written is None:
            written = self._keys[(key, flow)] = self._write_key(key, flow)
        return written

    def _write_key(self, key: str, flow: bool) -> str:
        if "\n" in key or needs_double_quotes(key):
            requested = _DOUBLE
        elif FLOW_UNSAFE.search(key):
            requested = _SINGLE
        else:
            requested = _PLAIN
        if len(key) >= _MAX_SIMPLE_KEY or _LINE_BREAK.search(key):
            raise Unsupported("a complex key")
        return self._styled(key, requested, flow=flow, key=True)

    def _block_scalar(self, value: Any, indent: int, space: str) -> None:
        if not isinstance(value, str):
            self._out.append(space + self._non_string(value) + "\n")
            return
        written = self._values.get(value)
        if written is None:
            requested = _requested(value)
            if requested == _LITERAL:
                self._literal(value, indent, space)
                return
            written = self._values[value] = self._styled(value, requested, flow=False, key=False)
        self._out.append(space + written + "\n")

    def _flow_scalar(self, value: Any) -> str:
        if value is None:
            return "null"
        if not isinstance(value, str):
            return self._non_string(value)
        requested = _requested(value)
        if requested != _DOUBLE and FLOW_UNSAFE.search(value):
            requested = _SINGLE
        return self._styled(value, requested, flow=True, key=False)

    def _styled(self, text: str, requested: str, *, flow: bool, key: bool) -> str:
        """ruamel's ``choose_scalar_style`` and writers, for a string in a given context."""
        if len(text) > _MAX_COLUMN:
            raise Unsupported("a line ruamel might fold")
        if not text:
            return "''"
        if requested == _DOUBLE:
            return _double_quoted(text)
        fast = requested == _PLAIN and not flow and _SIMPLE.fullmatch(text)
        if fast and self._plain_is_str(text):
            return text
        analysis = _Analysis(text)
        if requested == _PLAIN:
            allowed = analysis.allow_flow_plain if flow else analysis.allow_block_plain
            if allowed and not (key and analysis.multiline) and self._plain_is_str(text):
                return text
            if "'" in text or "\n" in text:
                return _double_quoted(text)
        if analysis.allow_single and not (key and analysis.multiline):
            if analysis.multiline:
                raise Unsupported("a multi-line single-quoted string")
            return _single_quoted(text)
        return _double_quoted(text)

    def _non_string(self, value: Any) -> str:
        if value is True:
            return "true"
        if value is False:
            return "false"
        if type(value) is int:
            return str(value)
        if type(value) is float:
            text = self._float_text(value)
            if text is not None:
                return text
        raise Unsupported(f"a {type(value).__name__} value")

    def _literal(self, text: str, indent: int, space: str) -> None:
        if len(text) > _MAX_COLUMN:
            raise Unsupported("a line ruamel might fold")
        if not text.endswith("\n"):
            chomp = "-"
        elif len(text) == 1 or text[-2] == "\n":
            chomp = "+"
        else:
            chomp = ""
        pad = " " * indent
        body = text if text.endswith("\n") else text + "\n"
        lines = [pad + line if line else "" for line in body.split("\n")[:-1]]
        self._out.append(space + "|" + chomp + "\n" + "\n".join(lines) + "\n")
        self._open_ended = chomp == "+"


def _requested(value: str) -> str:
    """The style ``yamlio.dumping._to_node`` asks for: literal block, double, single or plain."""
    if "\n" in value:
        if LITERAL_UNSAFE.search(value) or value.startswith((" ", "\n")):
            return _DOUBLE
        return _LITERAL
    if needs_double_quotes(value):
        return _DOUBLE
    if value.lower() in YAML11_WORDS:
        return _SINGLE
    return _PLAIN


def needs_double_quotes(value: str) -> bool:
    """Trailing or leading blanks, or a character only a double-quoted string can hold."""
    return bool(LITERAL_UNSAFE.search(value + "x")) or value != value.strip(" ")


def _short_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" not in value and len(value) <= 60
    return value is None or isinstance(value, int | float | bool)


def flow_fits(value: dict[str, Any] | list[Any], depth: int) -> bool:
    return len(json.dumps(value, ensure_ascii=False)) + 2 * depth <= FLOW_STYLE_WIDTH


def _is_flow_mapping(value: dict[str, Any], depth: int) -> bool:
    return all(_short_scalar(v) for v in value.values()) and flow_fits(value, depth)


def _is_flow_sequence(value: list[Any], depth: int) -> bool:
    return not value or (all(_short_scalar(v) for v in value) and flow_fits(value, depth))
