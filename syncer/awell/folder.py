"""Reading and writing an Awell Studio Source Control export folder (the only file I/O for Awell).

An export is a folder with one ``<component>/<component>.json`` file per component type. Reading collects
every such file (a component folder syncer does not model is passed on, so that ``syncer.awell`` carries
it), refuses invalid JSON, duplicate keys, non-UTF-8 bytes and oversized files with the file's name and
place, and lists what it leaves alone (``README.md``, Awell's ``validation.yaml`` test cases,
``.github``...). The same files can come from a Git tree (``read_tree``), and a folder or a repository may
hold several care flows, one export folder each (``find_exports``, ``export_roots``). Writing puts the
files back in Awell's own layout and formatting (``JSON.stringify(data, null, 2)``), each atomically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, ValidationError
from ..yamlio import MAX_DEPTH, MAX_FILE_BYTES, decode, read_text, write_text_atomically
from . import tables as t

# How deep below the given folder (or repository root) export folders are looked for, and what is
# never entered: one folder per care flow is the layout Awell's users choose, not a deep tree.
_SEARCH_DEPTH = 3
_SKIPPED = frozenset({"node_modules", "__tests__"})
_MARKER = f"{t.PATHWAY.folder}/{t.PATHWAY.folder}.json"
COMPONENT_FILE = re.compile(r"^(?:(.*)/)?([^/]+)/\2\.json$")  # [root/]<name>/<name>.json


@dataclass
class ExportFolder:
    """The parsed component files of an export folder, and what was not read."""

    components: dict[str, Any]  # folder name → parsed JSON
    ignored: list[str] = field(default_factory=list)  # top-level names left alone


class _RefusedJson(ValueError):
    pass


def find_exports(path: Path) -> list[Path]:
    """The export folders at ``path``: itself when it is one, else every folder below it that is
    (several care flows, one folder each). Errors name the path and say what an export looks like."""
    if not path.exists():
        raise ValidationError([Problem(str(path), "does not exist.", hint=_EXPORT_HINT)])
    if not path.is_dir():
        raise ValidationError([Problem(str(path), "is not a folder.", hint=_EXPORT_HINT)])
    if (path / _MARKER).is_file():
        return [path]
    found: set[Path] = set()
    for depth in range(1, _SEARCH_DEPTH + 1):
        for marker in path.glob("/".join(["*"] * depth) + f"/{_MARKER}"):
            if not _skipped(marker.relative_to(path).parts):
                found.add(marker.parent.parent)
    return sorted(found) or [path]  # none: read_export says why the folder is not an export


def _skipped(parts: Iterable[str]) -> bool:
    return any(part.startswith(".") or part in _SKIPPED for part in parts)


def export_roots(paths: Iterable[str]) -> list[str]:
    """The export folders of a repository tree, from its file paths (``""`` is the root itself)."""
    roots = set()
    for path in paths:
        if path == _MARKER or path.endswith("/" + _MARKER):
            root = path[: -len(_MARKER)].rstrip("/")
            if root.count("/") < _SEARCH_DEPTH and not _skipped(root.split("/") if root else ()):
                roots.add(root)
    return sorted(roots)


def read_tree(files: Mapping[str, bytes], root: str, display: str) -> ExportFolder:
    """Parse the component files of the export folder ``root`` of a Git tree (path → bytes).

    ``display`` names the tree in messages (``REPO@COMMIT``); files are checked like those on disk.
    """
    prefix = f"{root}/" if root else ""
    folder = ExportFolder(components={})
    problems: list[Problem] = []
    names = set()
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        names.add(rest.split("/", 1)[0])
        match = COMPONENT_FILE.match(rest)
        if match is None or match.group(1) is not None:
            continue
        shown = f"{display}:{path}"
        try:
            folder.components[match.group(2)] = _parse_json(files[path], shown)
        except ValidationError as exc:
            problems.extend(exc.problems)
    folder.ignored = sorted(names - set(folder.components))
    for name in t.REQUIRED_FOLDERS:
        if name not in folder.components:
            message = f"has no {name}/{name}.json, so it is not an Awell Studio export."
            problems.append(Problem(f"{display}:{prefix or '/'}", message, hint=_EXPORT_HINT))
    if problems:
        raise ValidationError(problems)
    return folder


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
    return _loads(text, str(path))


def _parse_json(data: bytes, shown: str) -> Any:
    if len(data) > MAX_FILE_BYTES:
        message = f"the file is {len(data)} bytes, over the {MAX_FILE_BYTES} byte limit."
        raise ValidationError([Problem(shown, message)])
    return _loads(decode(data, shown), shown)


def _loads(text: str, shown: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            [
                Problem(
                    shown,
                    f"invalid JSON: {exc.msg}.",
                    exc.lineno,
                    exc.colno,
                    hint="Export the care flow again from Awell Studio, or fix the file.",
                )
            ]
        ) from None
    except _RefusedJson as exc:
        raise ValidationError([Problem(shown, f"invalid JSON: {exc}.")]) from None
    except RecursionError:
        message = (
            "lists and objects are nested too deeply to read (more than several hundred levels)."
        )
        raise ValidationError([Problem(shown, message, hint=_DEEP_HINT)]) from None


_DEEP_HINT = (
    "A care-flow export nests a few levels; export it again from Awell Studio, or fix the file. "
    f"syncer reads at most {MAX_DEPTH} levels."
)


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
