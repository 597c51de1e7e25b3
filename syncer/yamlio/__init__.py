"""The only ruamel.yaml user (with ``dumping``, ``emitter`` and ``fast``): load YAML safely, with
line and column. Files in and out (size limit, UTF-8, atomic writes) are ``files``.

Loading refuses what could hurt: files over ``MAX_FILE_BYTES``, bytes that are not UTF-8, duplicate keys,
and any anchor or alias (the "billion laughs" expansion attack; care-flow files never need them). Data comes
back as plain ``dict``/``list``/scalars. Line and column of any path are found lazily, by re-reading the text
with the round-trip loader, only when an error has to be reported. Canonical YAML out is ``dump`` (``dumping``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
)
from ruamel.yaml.reader import ReaderError

from ..errors import Problem, ValidationError
from . import emitter, fast
from .dumping import dump, dump_with_ruamel
from .files import (
    MAX_FILE_BYTES,
    decode,
    read_text,
    refuse_links_out,
    too_large,
    write_text_atomically,
)

__all__ = [
    "FLOW_STYLE_WIDTH",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Document",
    "JsonPath",
    "decode",
    "document_from_data",
    "dump",
    "dump_with_ruamel",
    "load_file",
    "load_text",
    "load_text_fully",
    "read_text",
    "refuse_links_out",
    "too_deep_at",
    "write_text_atomically",
]

MAX_DEPTH = fast.MAX_DEPTH
FLOW_STYLE_WIDTH = emitter.FLOW_STYLE_WIDTH

PathElement = str | int
JsonPath = tuple[PathElement, ...]


_UNLOCATABLE = object()


@dataclass
class Document:
    """A loaded YAML file: its plain data, and where each part of it came from."""

    data: Any
    path: str
    text: str
    _tree: Any = field(default=None, repr=False)

    def locate(self, path: Sequence[PathElement]) -> tuple[int | None, int | None]:
        """Return the 1-based (line, column) of the node at ``path``, or of its nearest ancestor."""
        if self._tree is None:
            try:
                self._tree = _round_trip_yaml().load(self.text)
            except (YAMLError, RecursionError):  # the safe loader read it; the locator cannot
                self._tree = _UNLOCATABLE
        if self._tree is _UNLOCATABLE:
            return None, None
        node = self._tree
        line, column = 1, 1
        for element in path:
            try:
                if isinstance(node, CommentedMap) and element in node:
                    line, column = node.lc.key(element)
                    line, column = line + 1, column + 1
                    node = node[element]
                elif isinstance(node, CommentedSeq) and isinstance(element, int):
                    line, column = node.lc.item(element)
                    line, column = line + 1, column + 1
                    node = node[element]
                else:
                    break
            except (KeyError, IndexError, TypeError):
                break
        return line, column

    def problem(
        self, path: Sequence[PathElement], message: str, hint: str | None = None
    ) -> Problem:
        line, column = self.locate(path)
        return Problem(self.path, message, line, column, hint, node=tuple(path))


class _PlainConstructor(SafeConstructor):
    """Timestamps stay the strings they were written as: data is JSON's (str, number, bool, null, list,
    mapping), so that hashing and the tenant API never meet a ``datetime``."""

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except (
            ValueError
        ):  # Python reads at most 4300 digits (sys.int_info.str_digits_check_threshold)
            raise ConstructorError(
                None,
                None,
                f"a number of {len(str(node.value))} characters is longer than syncer reads "
                "(4300 digits); quote it if it is text",
                node.start_mark,
            ) from None


_PlainConstructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
_PlainConstructor.add_constructor("tag:yaml.org,2002:int", _PlainConstructor.construct_yaml_int)


def _safe_yaml(pure: bool = False) -> YAML:
    yaml = YAML(typ="safe", pure=pure)
    yaml.Constructor = _PlainConstructor
    yaml.allow_duplicate_keys = False
    return yaml


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


fast.configure(_safe_yaml(pure=True))  # plain scalars mean in the fast loader what they mean here


def too_deep_at(data: Any) -> JsonPath | None:
    """The path of the first list or mapping nested deeper than ``MAX_DEPTH`` in ``data`` (None: it
    fits); what the loaders refuse, found before a document is written. Not recursive."""
    stack: list[tuple[Any, JsonPath, int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            return path
        items = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend((item, (*path, key), depth + 1) for key, item in items)
    return None


def load_file(path: Path, display: str | None = None) -> Document:
    """Load one YAML file (see ``load_text``)."""
    shown = display or str(path)
    return load_text(read_text(path, shown), shown)


def load_text(text: str, display: str) -> Document:
    """Parse YAML text into plain data, refusing duplicate keys, anchors, aliases and nesting deeper
    than ``MAX_DEPTH``.

    The C loader (``fast``) reads what it can promise to read exactly as the YAML 1.2 loader would;
    everything else, and every error, goes through the full loader, which names the line and column.
    """
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise too_large(display, len(text.encode("utf-8", "surrogatepass")))
    try:
        data = fast.load(text)
    except fast.TooDeep as exc:
        raise ValidationError([_too_deep(display, exc.line, exc.column)]) from None
    except fast.Unsure:
        return load_text_fully(text, display)
    return Document(data=data, path=display, text=text)


def load_text_fully(text: str, display: str) -> Document:
    """``load_text`` with the full (line/column) loader only: the reference the fast loader is held to."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise too_large(display, len(text.encode("utf-8", "surrogatepass")))
    deep = _depth_problem(text, display)
    if deep is not None:
        raise ValidationError([deep])
    if "&" in text or "*" in text:
        _refuse_aliases(text, display)
    try:
        data = _load_data(text)
    except YAMLError as exc:
        raise ValidationError([_problem_from_error(exc, display, text)]) from None
    except (TypeError, ValueError):  # a list or mapping as a key: no plain data has one
        raise ValidationError([_complex_key(text, display)]) from None
    return _plain_document(data, display, text)


def _too_deep(display: str, line: int, column: int) -> Problem:
    return Problem(
        display,
        f"lists and mappings are nested more than {MAX_DEPTH} levels deep here.",
        line,
        column,
        hint="A care flow nests about ten levels; flatten this value or write it as a string.",
    )


def _complex_key(text: str, display: str) -> Problem:
    """The first mapping key that is a list or a mapping, found from parser events."""
    open_nodes: list[bool | None] = []  # per open collection: None for a list, else "a key is next"
    line = column = None
    for event in _events(text):
        if isinstance(event, CollectionEndEvent):
            open_nodes.pop()
            _one_node_more(open_nodes)
        elif isinstance(event, CollectionStartEvent):
            if open_nodes and open_nodes[-1] is True:
                line, column = event.start_mark.line + 1, event.start_mark.column + 1
                break
            open_nodes.append(True if isinstance(event, MappingStartEvent) else None)
        elif isinstance(event, ScalarEvent | AliasEvent):
            _one_node_more(open_nodes)
    return Problem(
        display,
        "a mapping key is a list or a mapping; keys must be strings.",
        line,
        column,
        hint="Write the key as a plain or quoted string.",
    )


def _one_node_more(open_nodes: list[bool | None]) -> None:
    if open_nodes and open_nodes[-1] is not None:
        open_nodes[-1] = not open_nodes[-1]


def _depth_problem(text: str, display: str) -> Problem | None:
    """Where the text first nests deeper than ``MAX_DEPTH``, found from parser events (no recursion)."""
    for pure in (False, True):
        depth = 0
        try:
            for event in _safe_yaml(pure=pure).parse(text):
                if isinstance(event, CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        mark = event.start_mark
                        return _too_deep(display, mark.line + 1, mark.column + 1)
                elif isinstance(event, CollectionEndEvent):
                    depth -= 1
            return None
        except YAMLError:
            continue  # the C parser refused it: the pure one may read further; errors are worded later
    return None


def document_from_data(data: Any, text: str, display: str) -> Document:
    """What ``load_text(text, display)`` returns when ``text`` is ``dump(data)``, without parsing it
    back: the same size limit and plain-data checks, and lines located in ``text`` when reported.

    ``dump`` is a fixed point of ``load`` (tests check it on generated and property-based flows), and
    it never writes anchors or aliases, so this is the same document, a parse of the file cheaper.
    """
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise too_large(display, len(text.encode("utf-8")))
    return _plain_document(data, display, text)


_PLAIN_HINT = (
    "Files hold strings, numbers, true/false, null, lists and mappings with string keys only."
)


def _not_plain(value: Any, path: JsonPath) -> list[tuple[JsonPath, str, str]]:
    """Where the data is not plain JSON-like data (binary, sets, non-string keys, NaN, infinity)."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(
                    ((*path, key), f"the mapping key `{key}` is not a string.", "Put it in quotes.")
                )
            else:
                found += _not_plain(item, (*path, key))
        return found
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _not_plain(item, (*path, index))]
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, "the number is not finite (NaN or infinity).", _PLAIN_HINT)]
    if value is None or isinstance(value, str | int | float | bool):
        return []
    return [(path, f"a YAML {type(value).__name__} value is not supported here.", _PLAIN_HINT)]


# The C parser (libyaml) is fast but follows YAML 1.1 in places where YAML 1.2 allows more, e.g. a URL in a
# flow mapping (`{base_url: https://x}`, as SPEC 4 writes it). When it refuses, the pure-Python 1.2 parser
# (the same one that locates lines) decides, and its error is the one reported.


def _load_data(text: str) -> Any:
    try:
        return _safe_yaml().load(text)
    except YAMLError:
        return _safe_yaml(pure=True).load(text)


def _events(text: str) -> Iterator[Any]:
    try:
        yield from _safe_yaml().parse(text)
    except YAMLError:
        yield from _safe_yaml(pure=True).parse(text)


def _refuse_aliases(text: str, display: str) -> None:
    try:
        for event in _events(text):
            anchor = getattr(event, "anchor", None)
            if isinstance(event, AliasEvent) or anchor:
                mark = event.start_mark
                raise ValidationError(
                    [
                        Problem(
                            display,
                            "YAML anchors and aliases are not allowed"
                            f" (found {'alias *' if isinstance(event, AliasEvent) else 'anchor &'}{anchor}).",
                            mark.line + 1,
                            mark.column + 1,
                            hint="Write the value out in full; care-flow files never need them.",
                        )
                    ]
                )
    except YAMLError as exc:
        raise ValidationError([_problem_from_error(exc, display, text)]) from None


def _problem_from_error(exc: YAMLError, display: str, text: str) -> Problem:
    """A located problem for any error of the YAML reader, parser or constructor."""
    if isinstance(exc, MarkedYAMLError):
        return _problem_from_marked(exc, display)
    if isinstance(exc, ReaderError):
        return _problem_from_reader(exc, text, display)
    return Problem(display, f"invalid YAML: {exc}", hint="Fix the YAML syntax.")


def _problem_from_reader(exc: ReaderError, text: str, display: str) -> Problem:
    """A character YAML refuses (NUL, other control characters), at its line and column."""
    position = exc.position if isinstance(exc.position, int) else -1
    code = ord(text[position]) if 0 <= position < len(text) else None
    name = f"U+{code:04X}" + (" (NUL)" if code == 0 else "") if code is not None else "a character"
    why = " (a NUL byte usually means a binary or UTF-16 file)" if code == 0 else ""
    hint = f"Remove it{why}; save the file as plain UTF-8 text."
    message = f"the control character {name} is not allowed in YAML."
    if position < 0:
        return Problem(display, message, hint=hint)
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    return Problem(display, message, line, column, hint)


_DUPLICATE = re.compile(r'^found duplicate key "(.*?)" with value ', re.S)


def _problem_from_marked(exc: MarkedYAMLError, display: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "invalid YAML"
    if "duplicate key" in str(what):
        # ruamel's text quotes both values, and a value may be a key or a secret: name the key only.
        found = _DUPLICATE.match(str(what))
        key = f" `{found.group(1)}`" if found and len(found.group(1)) <= 80 else ""
        what = f"duplicate key{key}: it appears twice in one mapping; each key may appear once"
        hint = "Remove or rename one of the two."
    else:
        hint = "Fix the YAML syntax at this place."
    if mark is None:
        return Problem(display, f"invalid YAML: {what}.", hint=hint)
    return Problem(display, f"invalid YAML: {what}.", mark.line + 1, mark.column + 1, hint)


def _plain_document(data: Any, display: str, text: str) -> Document:
    """``data`` as a document, refused (located) if it holds anything but plain data."""
    document = Document(data=data, path=display, text=text)
    problems = [
        document.problem(path, message, hint) for path, message, hint in _not_plain(data, ())
    ]
    if problems:
        raise ValidationError(problems)
    return document
