"""What a GitHub Actions runner gives a step, and what a step gives back: the job summary
(``GITHUB_STEP_SUMMARY``), step outputs (``GITHUB_OUTPUT``), the run's web address, and where a change
sits in its flow file (so an annotation lands on the changed line).

Outputs are written in the runner's file format: ``name=value`` for one line, and for several lines
``name<<DELIMITER`` … ``DELIMITER`` with a delimiter that cannot occur in the value.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from .. import yamlio
from ..errors import GitHubError, SyncError
from ..model import flow_file_header
from ..report.annotations import json_path
from ..workspace import Workspace

Env = Mapping[str, str]


def _env(env: Env | None) -> Env:
    return os.environ if env is None else env


def _append(variable: str, text: str, env: Env | None) -> Path | None:
    name = _env(env).get(variable)
    if not name:
        return None
    path = Path(name)
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise GitHubError(f"cannot append to {variable} file {path}: {exc.strerror}") from None
    return path


def append_step_summary(markdown: str, env: Env | None = None) -> Path | None:
    """Append ``markdown`` to the job summary file named by ``GITHUB_STEP_SUMMARY``, when set.

    Returns the file written, or None outside GitHub Actions.
    """
    return _append(
        "GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n", env
    )


def output_lines(values: Mapping[str, str]) -> str:
    """``values`` in the ``GITHUB_OUTPUT`` file format."""
    lines = []
    for name, value in values.items():
        if not name or any(c in name for c in "=\r\n<"):
            raise ValueError(f"not an output name: {name!r}")
        if "\n" not in value and "\r" not in value:
            lines.append(f"{name}={value}\n")
            continue
        delimiter = f"syncer_{secrets.token_hex(8)}"
        while delimiter in value:  # vanishingly unlikely; never let the value end the block
            delimiter = f"syncer_{secrets.token_hex(8)}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(lines)


def write_outputs(values: Mapping[str, str], env: Env | None = None) -> Path | None:
    """Append step outputs to the file named by ``GITHUB_OUTPUT``, when set."""
    return _append("GITHUB_OUTPUT", output_lines(values), env)


def run_url(env: Env | None = None) -> str:
    """The web address of the current workflow run, or "" outside GitHub Actions."""
    e = _env(env)
    server, repository, run = (
        e.get("GITHUB_SERVER_URL") or "https://github.com",
        e.get("GITHUB_REPOSITORY"),
        e.get("GITHUB_RUN_ID"),
    )
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run}" if repository and run else ""


class FlowLocator:
    """Line and column of a JSON path in a flow's file, read as the reviewed tree has it."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._documents: dict[str, yamlio.Document | None] = {}

    def path(self, key: str) -> str | None:
        """The flow's file, repository-relative, or None when Git has no such flow."""
        try:
            flow = self._ws.flows.get(key)
        except SyncError:
            return None
        return flow.path if flow is not None else None

    def __call__(self, key: str, change_path: str) -> tuple[str, int, int] | None:
        """Where the component a change path names is (``annotations.Locator``)."""
        rel = self.path(key)
        if rel is None:
            return None
        if rel not in self._documents:
            self._documents[rel] = self._load(rel)
        document = self._documents[rel]
        if document is None:
            return (rel, 1, 1)
        line, column = document.locate(json_path(document.data, change_path))
        return rel, line or 1, column or 1

    def _load(self, rel: str) -> yamlio.Document | None:
        """The file as it is in the work tree; at a ref, the canonical text of its document (a
        canonical file is byte for byte its document dumped)."""
        try:
            if self._ws.ref is None:
                return yamlio.load_file(self._ws.root / rel, rel)
            flow = next(f for f in self._ws.flows.values() if f.path == rel)
            text = yamlio.dump(flow.document, flow_file_header(rel.count("/")))
            return yamlio.load_text(text, rel)
        except (SyncError, StopIteration, OSError):
            return None
