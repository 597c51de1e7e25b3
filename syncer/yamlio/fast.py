"""The fast loader: libyaml's C parser (ruamel's own C extension) building plain data directly.

ruamel's safe loader spends most of its time in Python: composing nodes, resolving every scalar with
regular expressions, constructing through generators. Here the C parser's events are turned into
``dict``/``list``/scalars in one loop, and each distinct plain scalar is resolved and constructed once, by
the very resolver and constructor functions of the YAML 1.2 loader that ``yamlio`` falls back to. So a
value such as ``yes``, ``on``, ``0o17``, ``1_000`` or ``2024-01-31`` means here exactly what it means there
(a string, a string, 15, 1000, a string), whatever libyaml's YAML 1.1 habits are.

The fast path only takes what it knows to be the same in both loaders. Anything else raises ``Unsure``
and the caller loads the text with the full loader, which decides and words every error with its line and
column: a syntax error libyaml reports, more than one document, a ``%YAML`` or ``%TAG`` directive, an
explicit tag, an anchor or alias, a key that is not a string scalar, a duplicate or merge (``<<``) key, a
number that is not finite, and characters whose line-break or escape rules differ between YAML 1.1 and 1.2
(C0/C1 controls, tabs, NEL, U+2028/U+2029, a byte-order mark). A differential property test
(``tests/test_yaml_fast.py``) holds both loaders to the same data on every document syncer writes and on
hostile ones.

Nesting deeper than ``MAX_DEPTH`` is refused here, with the place, before anything recursive sees it.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.nodes import ScalarNode

try:  # ruamel.yaml.clib: libyaml, as ruamel itself uses it
    from _ruamel_yaml import CParser
except ImportError:  # pragma: no cover - a platform without the C extension: the full loader only
    CParser = None

MAX_DEPTH = 100
"""Lists and mappings nest at most this deep (a care flow needs about ten levels; the reference tenant
refuses a body deeper than 100 too); deeper input would exhaust the recursion of every reader after
the parser, so it is refused with its place."""

AVAILABLE = CParser is not None

# Characters whose treatment differs between libyaml (YAML 1.1) and the YAML 1.2 loader, or that no file
# syncer writes holds raw: a file with any of them goes to the full loader.
_RISKY = re.compile(
    "[\x00-\x08\t\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|\r(?!\n)"
)

_STR = "tag:yaml.org,2002:str"
_PLAIN_TYPES = frozenset(
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",  # constructed as the string written (yamlio._PlainConstructor)
    }
)


class Unsure(Exception):
    """The fast loader cannot promise the full loader's result for this text: use the full loader."""


class TooDeep(Exception):
    """Lists and mappings nest deeper than ``MAX_DEPTH``; ``line`` and ``column`` are 1-based."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels at {line}:{column}")
        self.line = line
        self.column = column


class _Scalars:
    """Plain scalars resolved and constructed by the YAML 1.2 loader's own resolver and constructors."""

    def __init__(self, loader: Any) -> None:
        self._resolver = loader.resolver
        self._constructor = loader.constructor
        # The resolver tries only the patterns filed under a scalar's first character (and those
        # filed under None, for any): a scalar starting with any other character is a string.
        table = self._resolver.versioned_resolver
        self._starts = None if None in table else frozenset(k for k in table if k)

    def value(self, text: str) -> Any:
        if text and self._starts is not None and text[0] not in self._starts:
            return text
        tag = str(self._resolver.resolve(ScalarNode, text, (True, False)))
        if tag == _STR:
            return text
        if tag not in _PLAIN_TYPES:
            raise Unsure(f"a plain scalar resolved to {tag}")
        construct = self._constructor.yaml_constructors[tag]
        try:
            value = construct(self._constructor, ScalarNode(tag, text))
        except (ValueError, YAMLError):  # e.g. an integer of more than 4300 digits
            raise Unsure("a scalar its constructor refuses") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise Unsure("a number that is not finite")
        return value


_scalars: _Scalars | None = None


def configure(loader: Any) -> None:
    """Resolve plain scalars as ``loader`` (the full YAML 1.2 safe loader) does."""
    global _scalars
    _scalars = _Scalars(loader)
    _plain.cache_clear()


@lru_cache(maxsize=32768)
def _plain(text: str) -> Any:
    assert _scalars is not None, "fast.configure() was not called"
    return _scalars.value(text)


def load(text: str) -> Any:
    """The plain data of ``text``; raises ``Unsure`` (use the full loader) or ``TooDeep``."""
    if CParser is None or _RISKY.search(text):
        raise Unsure("not for the fast loader")
    parser = CParser(text)
    try:
        return _document(parser.get_event)
    except YAMLError as exc:  # libyaml refused it: the full loader decides and says where
        raise Unsure(str(exc)) from None
    finally:
        parser.dispose()


def _document(get: Any) -> Any:
    if type(get()) is not StreamStartEvent:
        raise Unsure("no stream start")
    start = get()
    if type(start) is StreamEndEvent:
        return None  # an empty file, or comments only
    if type(start) is not DocumentStartEvent or start.version or start.tags:
        raise Unsure("a directive")
    data = _build(get)
    if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
        raise Unsure("more than one document")
    return data


def _build(get: Any) -> Any:
    """One document's root node, built without recursion."""
    stack: list[Any] = []  # open lists and mappings, innermost last
    keys: list[Any] = []  # per open mapping: the key waiting for its value, or _KEY when none
    while True:
        event = get()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise Unsure("an anchor or a tag")
            value: Any = _plain(event.value) if event.implicit[0] else event.value
            if stack and keys[-1] is _KEY:  # a mapping key
                if type(value) is not str or value in stack[-1] or value == "<<":
                    raise Unsure("a key that is not a new string")
                keys[-1] = value
                continue
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise Unsure("an anchor or a tag")
            if stack and keys[-1] is _KEY:
                raise Unsure("a complex key")
            if len(stack) >= MAX_DEPTH:
                mark = event.start_mark
                raise TooDeep(mark.line + 1, mark.column + 1)
            value = {} if kind is MappingStartEvent else []
            _attach(stack, keys, value)
            stack.append(value)
            keys.append(_KEY if kind is MappingStartEvent else None)
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            done = stack.pop()
            keys.pop()
            if not stack:
                return done
            continue
        else:  # an alias, or a structure event out of place
            raise Unsure(f"a {kind.__name__}")
        if not stack:
            return value  # the document is one scalar
        _attach(stack, keys, value)


class _Key:
    """The marker of a mapping that waits for its next key."""


_KEY = _Key()


def _attach(stack: list[Any], keys: list[Any], value: Any) -> None:
    if not stack:
        return
    parent = stack[-1]
    if type(parent) is list:
        parent.append(value)
    else:
        parent[keys[-1]] = value
        keys[-1] = _KEY
