"""Awell's published versions of one care flow promote one after the other, as updates of one flow.

The source is a real Git repository shaped like awell-health/example-source-control: one Studio commit
per published version. The versions are derived from the shared real export (and from the project's
mini export, so the story runs without it) by what changed between Studio releases there: version 1
still has a step that no transition reaches (a draft, published), version 2 is the export itself,
version 3 carries a field no Studio sent before and a new title. Each is imported with
``import-awell --from-git REPO --ref SHA``, planned and applied over real tenants.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import git
import pytest

from syncer.awell import folder as awellio

from ..awellcases import exports
from .conftest import EU, EU_ONLY, read_plans
from .landscape import landscape


def _studio(version: int, flow_id: str) -> str:
    return (
        f"Publish version {version} from Awell Studio\n\n      Tag: release-{version}\n\n"
        f"      Created by: author@example.org\n\n      Care flow ID: {flow_id}\n"
    )


def _versions(source: Path) -> list[dict[str, Any]]:
    export = awellio.read_export(source).components
    first = copy.deepcopy(export)
    step = copy.deepcopy(first["steps"][0])
    payload = step["step"]
    payload.update(
        _key="NewStep00001", definition_id="NewStep00001", title="New step", key="Newstep"
    )
    payload["action_definition_ids"] = []
    first["steps"].append(step)
    third = copy.deepcopy(export)
    third["steps"][0]["step"]["studioHint"] = {"collapsed": True, "badges": [None, "new"]}
    third["pathways"][0]["pathway"]["title"] += " (v3)"
    return [first, copy.deepcopy(export), third]


def _source_repo(root: Path, versions: list[dict[str, Any]]) -> list[str]:
    repo = git.Repo.init(root, initial_branch="main")
    shas = []
    for number, components in enumerate(versions, start=1):
        for name, entries in components.items():
            path = root / name / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(entries, indent=2, ensure_ascii=False), "utf-8")
        repo.git.add("--all")
        flow_id = components["pathways"][0]["pathway"]["_key"]
        repo.git.execute(
            [
                "git",
                "-c",
                "user.name=Studio",
                "-c",
                "user.email=s@e",
                "commit",
                "-m",
                _studio(number, flow_id),
            ]
        )
        shas.append(repo.head.commit.hexsha)
    return shas


@pytest.mark.parametrize("export", exports("real-export", "mini-export"))
def test_published_versions_promote_as_updates_of_one_flow(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "awell"
    shas = _source_repo(source, _versions(export))
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        statuses, ids = [], set()
        for number, sha in enumerate(shas, start=1):
            imported = world.syncer("import-awell", "--from-git", str(source), "--ref", sha)
            assert imported.code == 0, imported.err
            assert f"published version {number}" in world.git().head.commit.message
            keys = [p.name for p in (world.repo / "flows").iterdir()]
            assert len(keys) == 1, keys  # one flow, whatever its title became
            code, plans = read_plans(world)
            flow = plans[EU][keys[0]]
            statuses.append(flow["status"])
            ids.add(flow["definition_id"])
            applied = world.syncer("apply", "--yes")
            assert applied.code == 0, applied.err
            if number == 1:  # a draft: said with its place, and applied all the same
                assert "step `Newstep` cannot be reached" in applied.err
                assert f"warning: flows/{keys[0]}/flow.yaml:" in applied.err
            if number == 3:
                paths = [c["path"] for c in flow["changes"]]
                assert any(p.endswith(".vendor_fields.studioHint") for p in paths), paths
            code, plans = read_plans(world)
            assert plans[EU][keys[0]]["status"] == "in_sync" and code == 0
        assert statuses == ["create", "update", "update"]
        assert len(ids) == 1
        live = world.live(EU, keys[0])["definition"]
        first_step = next(
            s
            for t in live["spec"]["tracks"]
            for s in t["steps"]
            if s["id"] == _versions(export)[2]["steps"][0]["step"]["_key"]
        )
        assert first_step["vendor_fields"] == {
            "studioHint": {"badges": [None, "new"], "collapsed": True}
        }
