"""What the canonical format does not model, carried verbatim both ways. Pure: data in, data out.

Awell's export changes with every Studio release: fields appear, disappear and become null. Nothing syncer
does not model is refused or lost (SPEC 3). On the way in:

- ``carry_unknown`` moves every field the care-flow schema does not know, wherever it sits (a plugin
  field's option, a question's config, a transition's end), into the ``vendor_fields`` of the object that
  holds it. Top-level component fields are carried by the importer itself (``inbound.Importer.flat``),
  where Awell's names are known;
- ``drop_secrets`` then looks at everything carried verbatim: an encrypted Awell value, or the ``value``
  of an object marked ``obfuscated``, is dropped and reported by its path, never written.

On the way out, ``merged`` puts every ``vendor_fields`` back into its object, so that export → import →
export gives back exactly what came in. Key order inside carried values is canonical (sorted), lists keep
their order (``canonical.verbatim``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import VENDOR_COMPONENTS, VENDOR_ENTRY_FIELDS, VENDOR_FIELDS, VERBATIM_KEYS
from ..validate.schema import unknown_fields
from ..yamlio import JsonPath
from .tables import ENCRYPTED_PREFIX

_MAX_PASSES = 8  # a moved field never uncovers another, but a pathological document must end


def carry_unknown(document: dict[str, Any]) -> int:
    """Move every field the schema does not know into its object's ``vendor_fields`` (in place).

    Returns how many fields were moved. Fields under ``vendor_fields`` themselves are never looked at.
    """
    moved = 0
    for _ in range(_MAX_PASSES):
        paths = [p for p in unknown_fields(document, "careflow") if _movable(p)]
        if not paths:
            break
        for path in paths:
            moved += _move(document, path)
    return moved


def _movable(path: JsonPath) -> bool:
    # The envelope (apiVersion, kind, metadata) is syncer's own: an unknown field there is a bug in the
    # importer, which the validation before writing reports, not Awell data to carry.
    return len(path) > 1 and path[0] in ("spec", "layout") and not (set(path) & VERBATIM_KEYS)


def _move(document: dict[str, Any], path: JsonPath) -> int:
    parent: Any = document
    for element in path[:-1]:
        try:
            parent = parent[element]
        except (KeyError, IndexError, TypeError):
            return 0
    name = path[-1]
    if not isinstance(parent, dict) or name not in parent:
        return 0
    carried = parent.setdefault(VENDOR_FIELDS, {})
    if not isinstance(carried, dict) or name in carried:
        return 0
    carried[name] = parent.pop(name)
    return 1


# --- secrets in what is carried verbatim ---------------------------------------------------------------


def drop_secrets(document: dict[str, Any]) -> list[str]:
    """Drop every encrypted value, and the ``value`` of every object marked ``obfuscated``, from what is
    carried verbatim (in place); returns the path of each dropped value, never the value."""
    dropped: list[str] = []
    _walk_verbatim(document, "", lambda node, path: _scrub(node, path, dropped))
    return dropped


def _walk_verbatim(value: Any, path: str, visit: Callable[[Any, str], None]) -> None:
    """Call ``visit`` on the value of every ``vendor_*`` key under ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if key in VERBATIM_KEYS:
                visit(item, child)
            else:
                _walk_verbatim(item, child, visit)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_verbatim(item, f"{path}[{_item_name(item, index)}]", visit)


def _item_name(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for name in ("id", "_key"):
            if isinstance(item.get(name), str):
                return str(item[name])
    return str(index)


def _scrub(value: Any, path: str, dropped: list[str]) -> None:
    """Remove secrets inside one carried value, depth first."""
    if isinstance(value, dict):
        if value.get("obfuscated") is True and "value" in value:
            del value["value"]
            dropped.append(f"{path}.value")
        for key in list(value):
            child = f"{path}.{key}"
            if ENCRYPTED_PREFIX in str(key) or _is_encrypted(value[key]):
                del value[key]
                dropped.append(child)
            else:
                _scrub(value[key], child, dropped)
    elif isinstance(value, list):
        for index in reversed(range(len(value))):
            child = f"{path}[{index}]"
            if _is_encrypted(value[index]):
                del value[index]
                dropped.append(child)
            else:
                _scrub(value[index], child, dropped)


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and ENCRYPTED_PREFIX in value


# --- the way out ---------------------------------------------------------------------------------------


def merged(value: Any, where: str, problems: list[tuple[str, str]]) -> Any:
    """A copy of ``value`` with every ``vendor_fields`` merged back into its object.

    A carried field that names a field syncer already wrote is a conflict (a hand edit, since the importer
    never carries a modelled field): it is reported as ``(path, message)`` and the written field is kept.
    ``vendor_entry_fields`` and ``vendor_components`` are left for the caller (they belong to the entry
    and to the export, not to the object).
    """
    if isinstance(value, list):
        return [
            merged(item, f"{where}[{_item_name(item, i)}]", problems)
            for i, item in enumerate(value)
        ]
    if not isinstance(value, dict):
        return value
    result = {
        key: item if key in VERBATIM_KEYS else merged(item, f"{where}.{key}", problems)
        for key, item in value.items()
        if key != VENDOR_FIELDS
    }
    carried = value.get(VENDOR_FIELDS)
    if isinstance(carried, dict):
        for name, item in carried.items():
            if name in result:
                problems.append(
                    (
                        f"{where}.{VENDOR_FIELDS}.{name}",
                        f"names the field `{name}`, which syncer already writes here; remove one.",
                    )
                )
            else:
                result[name] = item
    elif carried is not None:
        problems.append((f"{where}.{VENDOR_FIELDS}", "must be a mapping."))
    return result


def entry_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """Take the ``vendor_entry_fields`` out of an exported payload: they go next to the entry's type."""
    carried = payload.pop(VENDOR_ENTRY_FIELDS, None)
    return carried if isinstance(carried, dict) else {}


__all__ = [
    "VENDOR_COMPONENTS",
    "VENDOR_ENTRY_FIELDS",
    "VENDOR_FIELDS",
    "carry_unknown",
    "drop_secrets",
    "entry_fields",
    "merged",
]
