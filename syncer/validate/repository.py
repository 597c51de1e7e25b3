"""Validation of a GitOps repository: which files to check, and the checks across files.

``check_repository`` walks ``flows/*/flow.yaml``, ``flows/*/tests/*.yaml`` and ``environments/*.yaml``
(or the files and folders given), refuses paths outside the repository, checks each document
(``document``; a test-case file against its flow, ``syncer.testcases``) and then checks across
files: flow keys and definition ids are unique, and each environment agrees with the flows it receives
(they exist, values only for visible items, secrets only for concealed ones).

The cross-file checks need only a ``FlowCheck`` of each flow (its problems, warnings, ids and value
items), never its document, so that the flow files can be checked elsewhere: ``check_repository`` takes
a ``FlowChecker``; the default checks every file here, ``workspace.validation`` answers from the parse
cache and checks the rest in worker processes. A flow with test cases is read again for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import yamlio
from ..errors import Problem, ValidationError
from ..model import FLOW_KEY_PATTERN, iter_value_items
from ..testcases.cases import is_case_file
from ..testcases.cases import load as load_cases
from ..yamlio import Document, JsonPath
from .checker import suggest
from .document import check_environment, check_flow
from .schema import FLOW_KEY_HINT


@dataclass
class RepositoryCheck:
    """What ``check_repository`` found: blocking problems, warnings, and how many files it read."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    flows: int = 0
    environments: int = 0
    tests: int = 0  # test-case files
    unchanged: int = (
        0  # flow files known valid from an earlier run (the parse cache), not checked again
    )


@dataclass(frozen=True)
class FlowTarget:
    """A flow file to check: where it is, how messages name it, the key its folder gives, and whether
    it was asked for (the others are read only for the cross-file checks)."""

    file: Path
    display: str
    expected_key: str | None
    wanted: bool


@dataclass
class FlowCheck:
    """What the cross-file checks need of one flow file, without its document."""

    display: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    readable: bool = False  # the file is YAML with a mapping at the top
    key: str | None = None  # metadata.key, when a string
    definition_id: str | None = None  # metadata.definition_id, when a string
    values: tuple[tuple[str, bool], ...] = ()  # (ref, concealed) of each constant and setting
    unchanged: bool = False  # known from an earlier run's check of the same bytes


FlowChecker = Callable[[Path, list[FlowTarget]], list[FlowCheck]]


def check_flow_target(target: FlowTarget) -> tuple[FlowCheck, Document | None]:
    """Load and check one flow file (``check_flow`` when it is wanted); the document, when it loads."""
    try:
        doc = yamlio.load_file(target.file, target.display)
    except ValidationError as exc:
        return FlowCheck(target.display, exc.problems if target.wanted else []), None
    found = FlowCheck(target.display)
    if target.wanted:
        found.problems = check_flow(doc, target.expected_key, found.warnings)
    summarise(found, doc.data)
    return found, doc


def summarise(found: FlowCheck, data: Any) -> None:
    """Fill ``found``'s ids and value items from a flow's data (lenient: it may be malformed)."""
    if not isinstance(data, dict):
        return
    found.readable = True
    key, definition_id = _get(data, ("metadata", "key")), _get(data, ("metadata", "definition_id"))
    found.key = key if isinstance(key, str) else None
    found.definition_id = definition_id if isinstance(definition_id, str) else None
    try:
        found.values = tuple(
            (ref, item.get("concealed") is True) for ref, item in iter_value_items(data)
        )
    except (AttributeError, TypeError):  # a malformed flow; its own problems are reported
        found.values = ()


def check_here(root: Path, targets: list[FlowTarget]) -> list[FlowCheck]:
    """The default ``FlowChecker``: every file loaded and checked in this process, one at a time."""
    return [check_flow_target(target)[0] for target in targets]


@dataclass
class _Targets:
    flows: dict[Path, str | None] = field(default_factory=dict)  # file -> expected key
    tests: dict[Path, str] = field(default_factory=dict)  # test-case file -> its flow's key
    environments: dict[Path, str | None] = field(default_factory=dict)  # file -> expected name
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def is_flow_key(text: str) -> bool:
    """Whether ``text`` is a safe flow key (a slug; no path traversal)."""
    return bool(FLOW_KEY_PATTERN.match(text))


def validate_repository(repo: Path, paths: Sequence[Path] = ()) -> list[Problem]:
    """Every blocking problem of the repository's flows and environments (or only of ``paths``)."""
    return check_repository(repo, paths).problems


def check_repository(
    repo: Path, paths: Sequence[Path] = (), checker: FlowChecker = check_here
) -> RepositoryCheck:
    """Validate ``flows/*/flow.yaml`` and ``environments/*.yaml``, or the given files and folders.

    A path outside the repository (symbolic links resolved) is refused. Environments are checked against
    every flow of the repository, even when only the environment was named. ``checker`` checks the
    flow files (see the module docstring).
    """
    root = repo.resolve()
    if not root.is_dir():
        message = "the repository folder does not exist."
        return RepositoryCheck([Problem(str(repo), message, hint="Point --repo at it.")])
    targets = _targets(root, paths)
    result = RepositoryCheck(targets.problems, targets.warnings)
    flows = _check_flows(root, targets, result, checker)
    _check_tests(root, targets, flows, result)
    for file, expected in targets.environments.items():
        result.environments += 1
        doc = _load(root, file, result)
        if doc is not None:
            result.problems.extend(check_environment(doc, expected))
            if isinstance(doc.data, dict):
                _cross_check(root, doc, flows, result)
    result.problems.sort(key=lambda p: (p.path, p.line or 0, p.column or 0))
    return result


def _check_flows(
    root: Path, targets: _Targets, result: RepositoryCheck, checker: FlowChecker
) -> dict[str, FlowCheck]:
    """Check the targeted flows; read every flow (the environments are checked against them all)."""
    layout = [
        f
        for f in _layout_files(root)
        if f.name == "flow.yaml" and f.parent.parent == root / "flows" and _inside(root, f)
    ]
    everything = {f: f.parent.name for f in layout} | targets.flows
    result.flows = len(targets.flows)
    listed = [
        FlowTarget(file, _display(root, file), expected, file in targets.flows)
        for file, expected in everything.items()
    ]
    flows: dict[str, FlowCheck] = {}
    files = {target.display: target.file for target in listed}
    for found in checker(root, listed):
        result.unchanged += found.unchanged
        result.problems.extend(found.problems)
        result.warnings.extend(found.warnings)
        if found.readable:
            flows[found.display] = found
    wanted = {target.display for target in listed if target.wanted}
    for path, what in ((("metadata", "key"), "flow key"), (("metadata", "definition_id"), "id")):
        result.problems.extend(_shared(flows, files, wanted, path, what))
    return flows


def _check_tests(
    root: Path, targets: _Targets, flows: dict[str, FlowCheck], result: RepositoryCheck
) -> None:
    """Check each targeted test-case file against its flow, as ``syncer test`` will read it."""
    documents: dict[str, Document | None] = {}
    for file, key in targets.tests.items():
        result.tests += 1
        shown = _display(root, file)
        display = f"flows/{key}/flow.yaml"
        if display not in documents:  # read again: the flow checks hold no document
            documents[display] = _load(root, root / display, None) if display in flows else None
        flow = documents[display]
        if flow is None or not isinstance(flow.data, dict):
            message = f"the tests of flow `{key}` have no flow: flows/{key}/flow.yaml is missing or unreadable."
            result.problems.append(Problem(shown, message, hint="Add the flow, or move the tests."))
            continue
        try:
            loaded = load_cases(yamlio.read_text(file, shown), shown, key, flow.data)
        except ValidationError as exc:
            result.problems.extend(exc.problems)
            continue
        result.warnings.extend(loaded.warnings)


def _display(root: Path, file: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return str(file)


def _load(root: Path, file: Path, result: RepositoryCheck | None) -> Document | None:
    try:
        return yamlio.load_file(file, _display(root, file))
    except ValidationError as exc:
        if result is not None:
            result.problems.extend(exc.problems)
        return None


def _inside(root: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _layout_files(root: Path) -> list[Path]:
    """``flows/*/flow.yaml``, their ``tests/*.yaml`` and ``environments/*.yaml`` as the work tree names
    them (links unresolved)."""
    flows = sorted((root / "flows").glob("*/flow.yaml"))
    flows += [
        p for p in sorted((root / "flows").glob("*/tests/*.y*ml")) if p.suffix in (".yaml", ".yml")
    ]
    environments = [
        p for p in sorted((root / "environments").glob("*.y*ml")) if p.suffix in (".yaml", ".yml")
    ]
    return [*flows, *environments]


def _targets(root: Path, paths: Sequence[Path]) -> _Targets:
    targets = _Targets()
    for given in paths or [root]:
        path = given if given.is_absolute() or not (root / given).exists() else root / given
        if not path.exists():
            targets.problems.append(Problem(str(given), "no such file or folder."))
        elif not _inside(root, path):
            link = path.absolute().is_relative_to(root)
            targets.problems.append(outside_problem(str(given), root, link))
        elif path.is_dir():
            folder = path.resolve()
            for file in _layout_files(root):
                if file.is_relative_to(folder):
                    _add_file(root, file, targets, explicit=False)
            if folder in (root, root / "flows"):
                _flag_flow_folders(root, targets)
        else:
            lexical = path.absolute()
            _add_file(
                root, lexical if lexical.is_relative_to(root) else path.resolve(), targets, True
            )
    return targets


def outside_problem(shown: str, root: Path, link: bool = True) -> Problem:
    """A file, or a symbolic ``link`` in the repository, that leads out of it: validate, plan and
    apply refuse it alike."""
    how = " (a symbolic link leads there)" if link else ""
    fix = "Replace the link with the file itself" if link else "Move the file into the repository"
    return Problem(
        shown,
        f"`{shown}` is outside the repository {root}{how}; syncer reads only files in it.",
        hint=f"{fix}, or point --repo at the repository that holds it.",
    )


def _add_file(root: Path, path: Path, targets: _Targets, explicit: bool) -> None:
    """Classify one file by where the work tree has it; a link that leads out of the repository is refused."""
    parts = path.relative_to(root).parts
    if not _inside(root, path):
        targets.problems.append(outside_problem(_display(root, path), root))
    elif len(parts) == 3 and parts[0] == "flows" and parts[2] == "flow.yaml":
        targets.flows[path] = parts[1]
    elif len(parts) == 2 and parts[0] == "environments" and path.suffix in (".yaml", ".yml"):
        targets.environments[path] = path.stem
    elif is_case_file("/".join(parts)):
        targets.tests[path] = parts[1]
    elif explicit:
        message = "this is neither a care flow nor an environment file."
        hint = "syncer validate reads flows/<key>/flow.yaml, flows/<key>/tests/*.yaml and environments/<name>.yaml."
        targets.problems.append(Problem(_display(root, path), message, hint=hint))


def _flag_flow_folders(root: Path, targets: _Targets) -> None:
    for folder in sorted((root / "flows").glob("*")):
        shown = _display(root, folder)
        if not folder.is_dir():
            continue
        if not (folder / "flow.yaml").exists():
            hint = "Each flow lives in flows/<key>/flow.yaml; add it or remove the folder."
            targets.warnings.append(Problem(shown, "this folder has no flow.yaml.", hint=hint))
        elif not is_flow_key(folder.name):
            message = f"the folder name `{folder.name}` is not a valid flow key."
            targets.problems.append(Problem(shown, message, hint=FLOW_KEY_HINT))


def _shared(
    flows: dict[str, FlowCheck],
    files: dict[str, Path],
    wanted: set[str],
    path: JsonPath,
    what: str,
) -> Iterator[Problem]:
    """A problem for each wanted flow whose value at ``path`` another flow also has."""
    owners: dict[str, list[str]] = {}
    for display, found in sorted(flows.items()):
        value = found.key if path[-1] == "key" else found.definition_id
        if isinstance(value, str):
            owners.setdefault(value, []).append(display)
    for value, displays in owners.items():
        for display in displays:
            others = ", ".join(d for d in displays if d != display)
            if display in wanted and others:
                message = f"{what} `{value}` is also used by {others}."
                hint = f"Each flow in the repository needs its own {what}."
                yield _located(files[display], display, path, message, hint)


def _located(file: Path, display: str, path: JsonPath, message: str, hint: str) -> Problem:
    """A problem at ``path`` of a flow file, read again to find the line (a rare, cross-file case)."""
    try:
        return yamlio.load_file(file, display).problem(path, message, hint)
    except ValidationError:
        return Problem(display, message, hint=hint)


def _get(data: Any, path: JsonPath) -> Any:
    for element in path:
        data = data.get(element) if isinstance(data, dict) else None
    return data


FlowValues = Mapping[
    str, tuple[str, Sequence[tuple[str, bool]]]
]  # key -> (file, [(ref, concealed)])


def _flow_values(flows: Iterable[FlowCheck]) -> dict[str, tuple[str, list[tuple[str, bool]]]]:
    """Every flow's constant and extension-setting refs, for ``cross_check_environment``."""
    found: dict[str, tuple[str, list[tuple[str, bool]]]] = {}
    for check in flows:
        found.setdefault(str(check.key), (check.display, list(check.values)))
    return found


def _value_refs(flows: FlowValues, listed: Any) -> dict[str, tuple[bool, str]]:
    """Every ref of the flows an environment receives -> (concealed, the file that has it)."""
    refs: dict[str, tuple[bool, str]] = {}
    for key, (path, items) in flows.items():
        if listed != "all" and key not in listed:
            continue
        for ref, concealed in items:
            if concealed or ref not in refs:
                refs[ref] = (concealed, path)
    return refs


def _cross_check(
    root: Path, doc: Document, flows: dict[str, FlowCheck], result: RepositoryCheck
) -> None:
    """An environment against the flows it receives."""
    # A flow file that does not parse is still there (its own problem is reported): not "missing".
    values = _flow_values(flows.values())
    present = set(values) | {f.parent.name for f in _layout_files(root) if f.name == "flow.yaml"}
    problems, warnings = cross_check_environment(doc, values, present)
    result.problems.extend(problems)
    result.warnings.extend(warnings)


def cross_check_environment(
    doc: Document, flows: FlowValues, present: Collection[str] | None = None
) -> tuple[list[Problem], list[Problem]]:
    """An environment against the repository's flows: ``(problems, warnings)``.

    The flows it lists exist (``present``: every flow folder, parsed or not), its values are only for
    visible items and its secrets only for concealed ones. ``validate`` and the workspace that
    ``plan``, ``apply`` and ``reconcile`` read both ask this, so a problem stops them all alike.
    """
    found = RepositoryCheck()
    data: dict[str, Any] = doc.data
    listed = data.get("flows", "all")
    listed = listed if isinstance(listed, list) else "all"
    found.problems.extend(unlisted_flows(doc, flows.keys() if present is None else present))
    refs = _value_refs(flows, listed)
    for path, ref in _environment_values(data):
        _check_value_entry(doc, path, ref, refs, found)
    for ref in _mapping(data.get("secrets")):
        _check_secret_entry(doc, str(ref), refs, found)
    return found.problems, found.warnings


def unlisted_flows(doc: Document, keys: Collection[str]) -> list[Problem]:
    """An environment's ``flows:`` entries that name no flow of the repository (``keys``)."""
    listed = doc.data.get("flows") if isinstance(doc.data, dict) else None
    problems = []
    for index, key in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(key, str) and key not in keys:
            hint = suggest(key, {k: k for k in keys}) or (
                f"Add flows/{key}/flow.yaml (`syncer export --flow {key}`) or remove it from "
                "`flows:`."
            )
            message = f"flow `{key}` is not in flows/, but `flows:` lists it."
            problems.append(doc.problem(("flows", index), message, hint))
    return problems


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _environment_values(data: dict[str, Any]) -> list[tuple[JsonPath, str]]:
    """``(path, ref)`` of every value the environment gives: constants by key, settings as ext.setting."""
    values: list[tuple[JsonPath, str]] = [
        (("constants", k), str(k)) for k in _mapping(data.get("constants"))
    ]
    for extension, settings in _mapping(data.get("extensions")).items():
        values += [(("extensions", extension, s), f"{extension}.{s}") for s in _mapping(settings)]
    return values


def _check_value_entry(
    doc: Document,
    path: JsonPath,
    ref: str,
    refs: dict[str, tuple[bool, str]],
    result: RepositoryCheck,
) -> None:
    concealed, where = refs.get(ref, (False, ""))
    if concealed:
        message = f"`{ref}` is concealed in {where}; its value must not be written in this file."
        hint = f"Remove it here and add `secrets: {{{ref}: {{from_env: VARIABLE}}}}` instead."
        result.problems.append(doc.problem(path, message, hint))
    elif not where:
        message = f"`{ref}` is not a constant or extension setting of the flows this environment receives."
        hint = suggest(ref, {r: r for r in refs}) or "Remove it, or check the flows' keys."
        result.warnings.append(doc.problem(path, message, hint))


def _check_secret_entry(
    doc: Document, ref: str, refs: dict[str, tuple[bool, str]], result: RepositoryCheck
) -> None:
    concealed, where = refs.get(ref, (False, ""))
    if concealed:
        return
    if where:
        message = (
            f"secret `{ref}` names a visible item of {where}; `secrets:` fills concealed ones only."
        )
        hint = "Give a visible value under `constants:` or `extensions:` instead."
        result.problems.append(doc.problem(("secrets", ref), message, hint))
        return
    # A near miss is a typo that would leave a real secret blank: an error. A name nothing resembles
    # is only a warning, like an unused constant: the file may land before the flow that needs it.
    message = f"secret `{ref}` names no concealed constant or setting of the flows it receives."
    concealed_refs = {r: r for r, (hidden, _where) in refs.items() if hidden}
    suggestion = suggest(ref, concealed_refs)
    hint = suggestion or "Use `KEY` for a constant, `extension.setting` for a setting."
    found = result.problems if suggestion else result.warnings
    found.append(doc.problem(("secrets", ref), message, hint))
