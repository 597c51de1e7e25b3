"""The README's "Using it on your repository" recipe is the reviewed path, and it works as written:
export on a branch -> a pull request with `syncer report --base` -> merge -> `reconcile` from main.
Nothing reaches Production before the merge."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from .conftest import BP, EU, EU_ONLY
from .landscape import PROJECT, Landscape, example_flow, landscape


def _recipe() -> list[list[str]]:
    """The `syncer` commands of the recipe, in order, as argv lists."""
    readme = (PROJECT / "README.md").read_text("utf-8")
    section = readme.split("## Using it on your repository", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        code = line.split("#", 1)[0].strip()
        if code.startswith("syncer "):
            commands.append(shlex.split(code)[1:])
    return commands


def _production_keys(world: Landscape) -> list[str]:
    with world.client(EU) as tenant:
        return sorted(str(s["key"]) for s in tenant.list_flows())


def test_the_recipe_is_the_reviewed_path() -> None:
    verbs = [argv[0] for argv in _recipe()]
    assert verbs == ["validate", "export", "report", "reconcile"]  # never apply from a branch
    export, report = _recipe()[1], _recipe()[2]
    assert "--branch" in export and "--commit" in export
    assert "--base" in report


def test_the_recipe_works_and_promotes_only_after_the_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validate, export, report, reconcile = _recipe()
    branch = export[export.index("--branch") + 1]
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer(*validate).code == 0
        assert world.syncer(*export).code == 0  # 1. onto a branch, committed there
        repo = world.git()
        assert repo.active_branch.name == branch

        # 2. the pull request: the report against the base; origin/main is main here, no GitHub
        argv = [a.replace("origin/main", "main") for a in report]
        argv = argv[: argv.index("--github-pr")] if "--github-pr" in argv else argv
        shown = world.syncer(*argv)
        assert shown.code in (0, 2), shown.err
        assert BP in shown.out and "create" in shown.out.lower()
        assert _production_keys(world) == []  # reviewing writes nothing

        repo.git.checkout("main")
        argv = [a for a in reconcile if a != "--report" and not a.endswith(".md")]
        assert world.syncer(*argv).code == 0  # main has no flow yet: nothing to promote
        assert _production_keys(world) == []

        repo.git.merge(branch)  # 3. reviewed and merged: reconcile from main promotes it
        report_file = world.root / "reconcile.md"
        done = world.syncer(*argv, "--report", str(report_file))
        assert done.code == 0, done.err
        assert _production_keys(world) == [BP]
        assert report_file.is_file()
