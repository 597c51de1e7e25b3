"""``syncer import-awell --from-git REPO [--ref REF] [--history]``: the repository Awell Studio pushes to.

Real Git repositories in ``tmp_path``: a source shaped like Awell's (one commit per published version,
with Studio's "Publish version N from Awell Studio" message, and commits of people in between) and a
syncer repository to import into. The versions are derived from ``tests/fixtures/awell-mini`` by
planting what changes between Studio releases: a renamed flow, an unreachable step, an unknown field.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import git
import pytest

from syncer import vcs, yamlio
from syncer.awell import folder as awellio
from syncer.awell.provenance import Provenance, commit_message, parse_publish
from syncer.cli import main

from .awellcases import MINI, VARIANTS

KEY = "mini-flow-every-component"
FLOW_ID = "miniFlow0001"


def _studio_message(version: int, release: str, flow_id: str = FLOW_ID) -> str:
    """Studio's commit message, as awell-health/action-set-careflow-live parses it."""
    return (
        f"Publish version {version} from Awell Studio\n \n      \n      Tag: {release}\n\n"
        f"      Created by: someone@example.org\n\n      Care flow ID: {flow_id}\n\n\n"
        "      Version notes:\n\n      notes of the author"
    )


def _write_export(root: Path, components: dict[str, Any]) -> None:
    for name, entries in components.items():
        path = root / name / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entries, indent=2, ensure_ascii=False), "utf-8")


def _versions() -> list[dict[str, Any]]:
    """Three published versions of one care flow, as a Studio team would make them."""
    base = awellio.read_export(MINI).components
    first = copy.deepcopy(base)
    first["pathways"][0]["pathway"]["title"] = "Mini flow: every component"
    first["steps"].append(copy.deepcopy(first["steps"][0]))  # a step nothing reaches yet
    new_step = first["steps"][-1]["step"]
    new_step.update(
        _key="stepNew00001", definition_id="stepNew00001", title="New step", key="Newstep"
    )
    new_step["action_definition_ids"] = []
    second = copy.deepcopy(base)
    second["pathways"][0]["pathway"]["title"] = "Mini flow, renamed in Studio"
    third = copy.deepcopy(second)
    third["labels"][0]["label"]["futureField"] = {"since": "a newer Studio", "values": [1, None]}
    return [first, second, third]


def _source(tmp_path: Path, versions: list[dict[str, Any]] | None = None) -> tuple[Path, list[str]]:
    """An Awell-like repository: a README commit, then one Studio commit per version."""
    root = tmp_path / "awell-repo"
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Awell Studio")
        config.set_value("user", "email", "studio@example.org")
    (root / "README.md").write_text("# care flow\n", "utf-8")
    repo.index.add(["README.md"])
    repo.index.commit("Initial commit")
    shas = []
    for number, components in enumerate(versions or _versions(), start=1):
        _write_export(root, components)
        repo.git.add("--all")
        repo.index.commit(_studio_message(number, f"release-{number}"))
        shas.append(repo.head.commit.hexsha)
        if number == 1:  # a person's commit between two published versions
            (root / "README.md").write_text("# care flow\n\nmore words\n", "utf-8")
            repo.index.add(["README.md"])
            repo.index.commit("Describe the care flow")
    return root, shas


def _target(tmp_path: Path) -> tuple[Path, git.Repo]:
    root = tmp_path / "syncer-repo"
    repo = vcs.init_repo(root, "tester", "tester@example.org")
    (root / "README.md").write_text("flows\n", "utf-8")
    repo.index.add(["README.md"])
    repo.index.commit("start")
    return root, repo


def _run(*argv: str) -> int:
    return main(["import-awell", *argv])


def _messages(repo: git.Repo) -> list[str]:
    return [c.message for c in repo.iter_commits("HEAD")][::-1]


def _flow(root: Path, key: str = KEY) -> dict[str, Any]:
    data: dict[str, Any] = yamlio.load_file(root / "flows" / key / "flow.yaml").data
    return data


# --- the commit message ---------------------------------------------------------------------------------


def test_studio_publish_messages_are_parsed() -> None:
    found = parse_publish(_studio_message(28, "8ZZfDYxtVNgVlGfV0WQcK", "xjUdrKvscUmq"))
    assert found is not None
    assert (found.version, found.release_id, found.definition_id) == (
        28,
        "8ZZfDYxtVNgVlGfV0WQcK",
        "xjUdrKvscUmq",
    )
    assert parse_publish("Describe the care flow") is None
    assert (
        parse_publish("Publish version 3 from Awell Studio\n\nTag: bad value\n").release_id is None
    )


def test_the_import_commit_records_provenance_without_personal_data() -> None:
    publish = parse_publish(_studio_message(4, "rel-4"))
    message = commit_message(
        Provenance("https://github.com/acme/flows", "a" * 40, publish), [(KEY, FLOW_ID, "T")]
    )
    assert message.splitlines()[0] == f"Import Awell care flow {KEY}: published version 4"
    for trailer in (
        "Awell-Version: 4",
        "Awell-Release-Id: rel-4",
        f"Awell-Care-Flow-Id: {FLOW_ID}",
        f"Awell-Source-Commit: {'a' * 40}",
        "Awell-Source: https://github.com/acme/flows",
    ):
        assert trailer in message.splitlines()
    assert "someone@example.org" not in message and "notes of the author" not in message


def test_credentials_never_reach_a_message() -> None:
    assert (
        vcs.shown_location("https://user:ghp_secret@github.com/a/b.git")
        == "https://github.com/a/b.git"
    )
    assert vcs.shown_location("https://x-access-token:t0k@host/r") == "https://host/r"
    assert vcs.shown_location("/some/path") == "/some/path"


# --- history ---------------------------------------------------------------------------------------------


def test_history_replays_every_published_version_as_one_commit_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, shas = _source(tmp_path)
    root, repo = _target(tmp_path)
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 0
    out = capsys.readouterr().out
    imports = _messages(repo)[1:]
    assert len(imports) == 3  # the person's README commit is not a published version
    for number, (message, sha) in enumerate(zip(imports, shas, strict=True), start=1):
        assert message.startswith(f"Import Awell care flow {KEY}: published version {number}")
        assert (
            f"Awell-Source-Commit: {sha}" in message
            and f"Awell-Release-Id: release-{number}" in message
        )
    assert f"{shas[0][:12]} (published version 1, release release-1)" in out
    document = _flow(root)
    assert document["metadata"]["title"] == "Mini flow, renamed in Studio"  # same key, new title
    assert document["spec"]["labels"][0]["vendor_fields"]["futureField"]["values"] == [1, None]
    first = yamlio.load_text(repo.git.show(f"HEAD~2:flows/{KEY}/flow.yaml"), "v1").data
    assert "stepNew00001" in json.dumps(first)  # version 1, with its unreachable step
    assert not vcs.dirty_files(repo)


def test_history_run_again_converges_and_then_takes_only_what_is_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _shas = _source(tmp_path)
    root, repo = _target(tmp_path)
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 0
    before = repo.head.commit.hexsha
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 0
    assert "Nothing to import" in capsys.readouterr().out
    assert repo.head.commit.hexsha == before
    studio = git.Repo(source)
    fourth = copy.deepcopy(_versions()[2])
    fourth["labels"][0]["label"]["text"] = "very urgent"
    _write_export(source, fourth)
    studio.git.add("--all")
    studio.index.commit(_studio_message(4, "release-4"))
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 0
    assert len(_messages(repo)) == 5 and "published version 4" in _messages(repo)[-1]
    assert _flow(root)["spec"]["labels"][0]["text"] == "very urgent"


def test_an_unchanged_published_version_is_still_recorded(tmp_path: Path) -> None:
    versions = _versions()
    same = copy.deepcopy(versions[1])
    same["pathways"][0]["pathway"]["last_updated"] = {
        "date": "2030-01-01T00:00:00.000Z"
    }  # volatile
    source, _ = _source(tmp_path, [versions[1], same])
    root, repo = _target(tmp_path)
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 0
    assert len(_messages(repo)) == 3  # one commit per published version, the second one empty
    assert not repo.head.commit.stats.files


def test_one_ref_is_imported_and_committed_with_its_provenance(tmp_path: Path) -> None:
    source, shas = _source(tmp_path)
    root, repo = _target(tmp_path)
    assert _run("--from-git", str(source), "--ref", shas[1], "--repo", str(root)) == 0
    message = _messages(repo)[-1]
    assert "published version 2" in message and f"Awell-Source-Commit: {shas[1]}" in message
    renamed = "mini-flow-renamed-in-studio"  # a new flow here: the key is a slug of its title
    assert _flow(root, renamed)["metadata"]["title"] == "Mini flow, renamed in Studio"
    assert _run("--from-git", str(source), "--ref", f"{shas[0]}~0", "--repo", str(root)) == 0
    assert _flow(root, renamed)["metadata"]["title"] == "Mini flow: every component"  # same key
    count = len(_messages(repo))
    person = next(
        c for c in git.Repo(source).iter_commits() if c.message == "Describe the care flow"
    )
    assert _run("--from-git", str(source), "--ref", person.hexsha, "--repo", str(root)) == 0
    assert len(_messages(repo)) == count  # the same flow as version 1: nothing to commit
    studio = git.Repo(source)
    labels = source / "labels" / "labels.json"
    labels.write_text(labels.read_text("utf-8").replace('"urgent"', '"by hand"'), "utf-8")
    studio.git.add("--all")
    hand = studio.index.commit("Edit a label by hand")
    assert _run("--from-git", str(source), "--ref", hand.hexsha, "--repo", str(root)) == 0
    assert "Awell-Version" not in _messages(repo)[-1]  # not a Studio commit: the commit only
    assert f"at {hand.hexsha[:12]}" in _messages(repo)[-1].splitlines()[0]


def test_a_clone_url_is_cloned_and_several_care_flows_are_imported(tmp_path: Path) -> None:
    root_src = tmp_path / "awell-repo"
    repo = git.Repo.init(root_src, initial_branch="main")
    shutil.copytree(VARIANTS / "several-flows", root_src, dirs_exist_ok=True)
    repo.git.add("--all")
    repo.git.execute(
        [
            "git",
            "-c",
            "user.name=s",
            "-c",
            "user.email=s@e",
            "commit",
            "-m",
            _studio_message(1, "r1"),
        ]
    )
    root, target = _target(tmp_path)
    assert _run("--from-git", root_src.as_uri(), "--repo", str(root)) == 0
    assert sorted(p.name for p in (root / "flows").iterdir()) == ["follow-up", "intake"]
    message = _messages(target)[-1]
    assert message.startswith("Import Awell care flow follow-up, intake: published version 1")
    assert f"Awell-Source: {root_src.as_uri()}" in message
    assert _run("--from-git", str(root_src), "--key", "one", "--repo", str(root)) == 1


# --- what is refused ----------------------------------------------------------------------------------


def test_uncommitted_work_in_flows_is_never_taken_along(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = _source(tmp_path)
    root, repo = _target(tmp_path)
    (root / "flows" / "mine").mkdir(parents=True)
    (root / "flows" / "mine" / "flow.yaml").write_text("work in progress\n", "utf-8")
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 1
    assert "uncommitted changes" in capsys.readouterr().err
    assert len(_messages(repo)) == 1 and not (root / "flows" / KEY).exists()


def test_a_version_that_cannot_be_kept_stops_the_replay_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = _versions()
    versions[1]["labels"][0]["label"]["color"] = 7  # a wrongly typed field
    source, shas = _source(tmp_path, versions)
    root, repo = _target(tmp_path)
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 1
    err = capsys.readouterr().err
    assert f"{shas[1][:12]}:/labels/labels.json" in err
    assert "label `labelUrgent1`, field `color`" in err and "Traceback" not in err
    assert len(_messages(repo)) == 2  # version 1 is committed; version 2 wrote nothing
    assert not vcs.dirty_files(repo)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "give an export folder PATH, or --from-git REPO"),
        (["somewhere", "--from-git", "x"], "not both"),
        (["somewhere", "--ref", "main"], "use them with --from-git"),
        (["--from-git", "x", "--force"], "--force is for PATH"),
        (["--from-git", "/does/not/exist"], "does not exist, and it is not a clone URL"),
    ],
)
def test_what_is_asked_wrongly_is_said_clearly(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, repo = _target(tmp_path)
    assert _run(*argv, "--repo", str(root)) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(_messages(repo)) == 1


def test_the_target_must_be_a_git_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = _source(tmp_path)
    assert _run("--from-git", str(source), "--repo", str(tmp_path / "plain")) == 1
    assert "is not a Git repository" in capsys.readouterr().err


CASES = (
    "cases:\n  - title: the flow starts\n    activities: []\n    validate:\n"
    "      - {type: track, name: Main, action: ACTIVATE}\n"
)


def test_awells_test_cases_come_along_and_a_persons_own_are_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = _source(tmp_path)
    studio = git.Repo(source)
    (source / "validation.yaml").write_text(CASES, "utf-8")
    studio.git.add("--all")
    studio.index.commit(_studio_message(4, "release-4"))
    root, repo = _target(tmp_path)
    key = "mini-flow-renamed-in-studio"  # the title of the version imported first
    tests = root / "flows" / key / "tests" / "validation.yaml"
    assert _run("--from-git", str(source), "--ref", "HEAD", "--repo", str(root)) == 0
    assert tests.read_text("utf-8") == CASES
    assert f"flows/{key}/tests/validation.yaml" in repo.head.commit.stats.files
    (source / "validation.yaml").write_text(CASES.replace("starts", "begins"), "utf-8")
    studio.git.add("--all")
    studio.index.commit(_studio_message(5, "release-5"))
    assert _run("--from-git", str(source), "--ref", "HEAD", "--repo", str(root)) == 0
    assert "begins" in tests.read_text("utf-8")  # the last import wrote it: it may replace it
    tests.write_text(CASES + "  - title: mine\n    activities: []\n    validate: []\n", "utf-8")
    repo.git.add("--all")
    repo.index.commit("Add a case of my own")
    (source / "validation.yaml").write_text(CASES.replace("starts", "opens"), "utf-8")
    studio.git.add("--all")
    studio.index.commit(_studio_message(6, "release-6"))
    assert _run("--from-git", str(source), "--ref", "HEAD", "--repo", str(root)) == 1
    assert "tests/validation.yaml already exists" in capsys.readouterr().err
    assert "mine" in tests.read_text("utf-8") and not vcs.dirty_files(repo)
    assert _run("--from-git", str(source), "--without-tests", "--repo", str(root)) == 0
    assert "mine" in tests.read_text("utf-8")


def test_history_needs_published_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "plain"
    repo = git.Repo.init(source, initial_branch="main")
    _write_export(source, awellio.read_export(MINI).components)
    repo.git.add("--all")
    repo.git.execute(
        ["git", "-c", "user.name=p", "-c", "user.email=p@e", "commit", "-m", "by hand"]
    )
    root, target = _target(tmp_path)
    assert _run("--from-git", str(source), "--history", "--repo", str(root)) == 1
    err = capsys.readouterr().err
    assert 'no commit from Awell Studio ("Publish version N from Awell Studio")' in err
    assert "--ref REF" in err and len(_messages(target)) == 1


def test_import_never_writes_through_a_link_out_of_the_repository(tmp_path: Path) -> None:
    from .awellcases import MINI

    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "flows").mkdir(parents=True)
    outside.mkdir()
    (repo / "flows" / "mini").symlink_to(outside, target_is_directory=True)
    code = main(["import-awell", str(MINI), "--key", "mini", "--repo", str(repo), "--force"])
    assert code == 1
    assert list(outside.iterdir()) == []


# --- found by probing hostile sources: each a clear error, never a traceback, nothing written ------


@pytest.mark.parametrize("depth", [95, 250, 50_000])
def test_a_deeply_nested_export_is_refused_before_anything_is_written(
    tmp_path: Path, depth: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """95 levels imported into a file validate then refused; 250 and 50,000 ended in tracebacks."""
    components = copy.deepcopy(awellio.read_export(MINI).components)
    components["steps"][0]["step"]["zz"] = "DEEP"
    source = tmp_path / "export"
    _write_export(source, components)
    steps = source / "steps" / "steps.json"  # written by hand: json.dumps itself recurses
    deep = "[" * depth + '"deep"' + "]" * depth
    steps.write_text(steps.read_text("utf-8").replace('"DEEP"', deep, 1), "utf-8")
    repo, git_repo = _target(tmp_path)
    head = git_repo.head.commit.hexsha
    assert _run(str(source), "--repo", str(repo)) == 1
    err = capsys.readouterr().err
    assert "nested" in err and "Traceback" not in err
    assert not (repo / "flows").exists() and git_repo.head.commit.hexsha == head


def test_a_publish_message_with_an_absurd_version_is_not_studio_s() -> None:
    """`int()` of 5,000 digits raised (Python reads at most 4,300)."""
    assert parse_publish(f"Publish version {'9' * 5000} from Awell Studio") is None
    assert parse_publish(f"Publish version {'9' * 19} from Awell Studio") is not None


def test_a_tree_git_would_not_check_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tree entry named `..` (made with `git mktree`) raised gitpython's ValueError."""
    source, _shas = _source(tmp_path, _versions()[:1])
    awell = git.Repo(source)
    inner = awell.git.rev_parse("HEAD^{tree}")
    made = subprocess.run(
        ["git", "mktree"], cwd=source, input=f"040000 tree {inner}\t..\n", text=True,
        capture_output=True, check=True,
    )  # fmt: skip
    tree = made.stdout.strip()
    sha = awell.git.commit_tree(tree, "-m", _studio_message(9, "release-9"))
    awell.git.update_ref("refs/heads/dotdot", sha)
    repo, git_repo = _target(tmp_path)
    head = git_repo.head.commit.hexsha
    assert _run("--from-git", str(source), "--ref", "dotdot", "--repo", str(repo)) == 1
    err = capsys.readouterr().err
    assert "Git refuses to check out" in err and "Traceback" not in err
    assert git_repo.head.commit.hexsha == head
