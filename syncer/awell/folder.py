"""Reading and writing an Awell Studio Source Control export folder (the only file I/O for Awell).

An export is a folder with one ``<component>/<component>.json`` file per component type. Reading collects
every such file (an unknown component folder is passed on, so that ``syncer.awell`` reports it), refuses
invalid JSON, duplicate keys, non-UTF-8 bytes and oversized files with the file's name and place, and lists
what it leaves alone (``README.md``, Awell's ``validation.yaml`` test cases, ``.github``...). Writing puts
the files back in Awell's own layout and formatting (``JSON.stringify(data, null, 2)``), each atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, ValidationError
from ..yamlio import read_text, write_text_atomically
from . import tables as t


@dataclass
class ExportFolder:
    """The parsed component files of an export folder, and what was not read."""

    components: dict[str, Any]  # folder name → parsed JSON
    ignored: list[str] = field(default_factory=list)  # top-level names left alone


class _RefusedJson(ValueError):
    pass


def read_export(path: Path) -> ExportFolder:
    """Parse every component file of an export folder; errors name the file and the place."""
    if not path.exists():
        raise ValidationError([Problem(str(path), "does not exist.", hint=_EXPORT_HINT)])
    if not path.is_dir():
        raise ValidationError([Problem(str(path), "is not a folder.", hint=_EXPORT_HINT)])
    folder = ExportFolder(components={})
    problems: list[Problem] = []
    for child in sorted(path.iterdir()):
        component_file = child / f"{child.name}.json"
        if child.is_dir() and component_file.is_file():
            try:
                folder.components[child.name] = _read_json(component_file)
            except ValidationError as exc:
                problems.extend(exc.problems)
        elif child.name in t.KIND_BY_FOLDER:
            problems.append(Problem(str(component_file), "is missing from its component folder."))
        else:
            folder.ignored.append(child.name)
    for name in t.REQUIRED_FOLDERS:
        if name not in folder.components:
            message = f"has no {name}/{name}.json, so it is not an Awell Studio export."
            problems.append(Problem(str(path), message, hint=_EXPORT_HINT))
    if problems:
        raise ValidationError(problems)
    return folder


_EXPORT_HINT = (
    "Give the folder of an Awell Studio Source Control export (pathways/pathways.json, settings/,"
    " tracks/, steps/, actions/, ...)."
)


def _read_json(path: Path) -> Any:
    text = read_text(path)  # size limit and strict UTF-8, with the file's name
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            [
                Problem(
                    str(path),
                    f"invalid JSON: {exc.msg}.",
                    exc.lineno,
                    exc.colno,
                    hint="Export the care flow again from Awell Studio, or fix the file.",
                )
            ]
        ) from None
    except _RefusedJson as exc:
        raise ValidationError([Problem(str(path), f"invalid JSON: {exc}.")]) from None


def _no_duplicates(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice would lose one value silently; refuse it."""
    result: dict[str, Any] = {}
    for key, value in items:
        if key in result:
            raise _RefusedJson(f"key `{key}` appears twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _RefusedJson(f"`{name}` is not a JSON number")


def write_export(path: Path, components: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """Write every component file under ``path`` (created if needed); other files are left alone."""
    if path.exists() and not path.is_dir():
        raise ValidationError([Problem(str(path), "exists and is not a folder.")])
    written = []
    for folder, entries in components.items():
        target = path / folder / f"{folder}.json"
        write_text_atomically(target, json.dumps(entries, indent=2, ensure_ascii=False))
        written.append(target)
    return written
