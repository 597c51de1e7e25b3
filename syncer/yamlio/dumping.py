"""Canonical YAML out: a pure function of the data.

Block style, two-space indent, a short all-scalar mapping or list in flow style, multi-line strings as
literal blocks, no line folding: that is what makes load -> dump of a canonical file byte-identical.
``emitter.Writer`` writes the canonical shapes directly; ruamel's emitter is the reference it is tested
against and the way out for a shape the fast writer does not know.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from . import emitter

# The style rules are shared with the fast writer (emitter.py), which must take the same decisions.
_LITERAL_UNSAFE = emitter.LITERAL_UNSAFE
_YAML11_WORDS = emitter.YAML11_WORDS
_FLOW_UNSAFE = emitter.FLOW_UNSAFE
_flow_fits = emitter.flow_fits


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _short_scalar(value: Any) -> bool:
    return _is_scalar(value) and not (isinstance(value, str) and ("\n" in value or len(value) > 60))


def _to_node(value: Any, depth: int) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[_key_node(key)] = _to_node(item, depth + 1)
        if value and all(_short_scalar(v) for v in value.values()) and _flow_fits(value, depth):
            node.fa.set_flow_style()
            for key in node:
                node[key] = _flow_safe(node[key])
        else:
            node.fa.set_block_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_to_node(item, depth + 1) for item in value)
        if not value or (all(_short_scalar(v) for v in value) and _flow_fits(value, depth)):
            seq.fa.set_flow_style()
            for index, item in enumerate(seq):
                seq[index] = _flow_safe(item)
        else:
            seq.fa.set_block_style()
        return seq
    if isinstance(value, str):
        if "\n" in value:
            if _LITERAL_UNSAFE.search(value) or value.startswith((" ", "\n")):
                return DoubleQuotedScalarString(value)
            return LiteralScalarString(value)
        if _needs_double_quotes(value):
            return DoubleQuotedScalarString(value)
        if value.lower() in _YAML11_WORDS:
            return SingleQuotedScalarString(value)
    return value


def _flow_safe(value: Any) -> Any:
    """Inside ``{...}`` and ``[...]`` more characters are syntax: quote any string that has one."""
    quotable = isinstance(value, str) and not isinstance(value, DoubleQuotedScalarString)
    if quotable and _FLOW_UNSAFE.search(value):
        return SingleQuotedScalarString(value)
    return value


def _key_node(key: Any) -> Any:
    """A key YAML would misread or mangle raw (a line break, a control character, flow syntax) is quoted."""
    if isinstance(key, str) and ("\n" in key or _needs_double_quotes(key)):
        return DoubleQuotedScalarString(key)
    if isinstance(key, str) and _FLOW_UNSAFE.search(key):  # the mapping may be written {...}
        return SingleQuotedScalarString(key)
    return key


_needs_double_quotes = emitter.needs_double_quotes


def _dumper() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1_000_000
    yaml.allow_unicode = True
    yaml.default_flow_style = False
    return yaml


def dump(data: Any, header: str | None = None) -> str:
    """Render data as canonical YAML text (the caller orders keys; see ``canonical``).

    ``emitter.Writer`` writes the canonical shapes directly, byte for byte as ruamel's emitter would and
    some forty times faster; a document it does not know how to write goes through ruamel.
    """
    head = header.rstrip("\n") + "\n" if header else ""
    try:
        return head + emitter.Writer(plain_is_str, float_text).document(data)
    except emitter.Unsupported:
        return head + dump_with_ruamel(data)


def dump_with_ruamel(data: Any) -> str:
    """``dump`` through ruamel's own emitter (the reference the fast writer is tested against)."""
    buffer = io.StringIO()
    _dumper().dump(_to_node(data, 0), buffer)
    return buffer.getvalue()


_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"


@lru_cache(maxsize=1)
def _resolver() -> Any:
    return _dumper().resolver


@lru_cache(maxsize=65536)
def plain_is_str(text: str) -> bool:
    """Whether ``text`` written unquoted reads back as a string (not a number, bool, null, date)."""
    return str(_resolver().resolve(ScalarNode, text, (True, False))) == _STR_TAG


def float_text(number: float) -> str | None:
    """ruamel's text for a float, when that text reads back as a float (it is then written plain)."""
    text = str(_representer().represent_float(number).value)
    return text if str(_resolver().resolve(ScalarNode, text, (True, False))) == _FLOAT_TAG else None


@lru_cache(maxsize=1)
def _representer() -> Any:
    return _dumper().representer
