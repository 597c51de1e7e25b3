"""What a corpus case is, and the edits of a repository the cases are built from."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..world import Outcome, World

FILE, FLAG, VARIABLE, TENANT = "files", "flags", "environment variables", "tenant API"
AREAS = (FILE, FLAG, VARIABLE, TENANT)

BP, DS, KNEE = "remote-bp-monitoring", "depression-screening", "post-op-knee-recovery"
BP_ID = "aFrMdzm6aJhP"
EU, US = "production-eu", "production-us"
PLANTED = "CANARY-chaos-planted-91d3"  # a secret a case writes where it must not be
LOCATED_BP = f"flows/{BP}/flow.yaml:"

Edit = Callable[[Path, World], None]


@dataclass(frozen=True)
class Case:
    """One bad input. ``argv`` runs ``python -m syncer argv --repo <a copy of the repository>``
    after ``edit`` (``{repo}`` in an argument or a variable is that copy's path); ``request``
    instead sends something to a tenant and reports the HTTP status as the code; ``tenant`` puts a
    hostile server in place of ``hostile`` (production-eu) for the run."""

    name: str
    area: str
    argv: tuple[str, ...] = ()
    code: int = 1
    says: tuple[str, ...] = ()
    edit: Edit | None = None
    env: Mapping[str, str | None] = field(default_factory=dict)
    request: Callable[[World], Outcome] | None = None
    tenant: Callable[[], contextlib.AbstractContextManager[str]] | None = None
    repo: bool = True
    hostile: str = "production-eu"  # the environment ``tenant`` stands in for
    commit: bool = True  # commit the edit first (apply refuses a dirty work tree before reading it)


# -- edits of the repository ---------------------------------------------------------------------------


def flow_file(repo: Path, key: str = BP) -> Path:
    return repo / "flows" / key / "flow.yaml"


def env_file(repo: Path, name: str = EU) -> Path:
    return repo / "environments" / f"{name}.yaml"


def replace(path: Callable[[Path], Path], old: str, new: str, count: int = 1) -> Edit:
    def edit(repo: Path, _world: World) -> None:
        target = path(repo)
        text = target.read_text("utf-8")
        if old not in text:
            raise AssertionError(f"chaos corpus: {old!r} is not in {target}")
        target.write_text(text.replace(old, new, count), "utf-8")

    return edit


def append(path: Callable[[Path], Path], text: str) -> Edit:
    def edit(repo: Path, _world: World) -> None:
        with path(repo).open("a", encoding="utf-8") as stream:
            stream.write(text)

    return edit


def write_bytes(path: Callable[[Path], Path], data: bytes) -> Edit:
    def edit(repo: Path, _world: World) -> None:
        path(repo).parent.mkdir(parents=True, exist_ok=True)
        path(repo).write_bytes(data)

    return edit


def both(*edits: Edit) -> Edit:
    def edit(repo: Path, world: World) -> None:
        for one in edits:
            one(repo, world)

    return edit


# A valid change to another flow: a writing command that skipped the check would write it.
PENDING = replace(lambda r: flow_file(r, DS), "title: Referral", "title: Referral (chaos)")


def flows_bp(repo: Path) -> Path:
    return flow_file(repo, BP)


def env_eu(repo: Path) -> Path:
    return env_file(repo, EU)


def symlink_out(repo: Path, world: World) -> None:
    outside = world.root / "outside-flow.yaml"
    outside.write_bytes(flow_file(repo).read_bytes())
    flow_file(repo).unlink()
    os.symlink(outside, flow_file(repo))


def copy_flow(repo: Path, _world: World) -> None:
    target = repo / "flows" / "bp-copy" / "flow.yaml"
    target.parent.mkdir()
    text = flow_file(repo).read_text("utf-8").replace(f"key: {BP}", "key: bp-copy", 1)
    target.write_text(text, "utf-8")


def bad_folder(repo: Path, _world: World) -> None:
    (repo / "flows" / "Bad_Key").mkdir()
    (repo / "flows" / "Bad_Key" / "flow.yaml").write_bytes(flow_file(repo).read_bytes())


def plan_file(text: str) -> Edit:
    return write_bytes(lambda r: r / "saved-plan.json", text.encode())


def folder(name: str) -> Edit:
    def edit(repo: Path, _world: World) -> None:
        (repo / name).mkdir()

    return edit


def keys_file(text: str) -> Edit:
    return write_bytes(lambda r: r / "keys.yaml", text.encode())


def plant(secret: str) -> Edit:
    def edit(repo: Path, world: World) -> None:
        if secret not in world.planted:
            world.planted.append(secret)

    return edit
