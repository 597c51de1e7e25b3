"""No silent loss of a person's work: export never overwrites a flow file with uncommitted changes
(unless `--force`), and `--commit` commits only what the export wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import BP, DS, EU_ONLY, retitle
from .landscape import Landscape, example_flow, landscape


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Landscape]:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w:
        for key in (BP, DS):
            w.seed("sandbox", example_flow(key))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w


def _hand_edit(world: Landscape, key: str) -> tuple[Path, str]:
    path = world.repo / "flows" / key / "flow.yaml"
    text = path.read_text("utf-8") + "# my notes, not committed yet\n"
    path.write_text(text, "utf-8")
    return path, text


def test_export_refuses_to_overwrite_uncommitted_edits_naming_them(world: Landscape) -> None:
    path, mine = _hand_edit(world, BP)
    world.edit("sandbox", BP, retitle("Changed in Sandbox"))
    head = world.git().head.commit.hexsha
    for argv in ((), ("--commit",), ("--branch", "export/next", "--commit")):
        result = world.syncer("export", "--env", "sandbox", *argv)
        assert result.code == 1, argv
        assert f"flows/{BP}/flow.yaml" in result.err and "--force" in result.err
        assert f"flows/{DS}" not in result.err  # only what would be lost is named
        assert path.read_text("utf-8") == mine
    repo = world.git()
    assert repo.head.commit.hexsha == head and repo.active_branch.name == "main"
    assert "export/next" not in [h.name for h in repo.heads]

    forced = world.syncer("export", "--env", "sandbox", "--force")
    assert forced.code == 0, forced.err
    assert "Changed in Sandbox" in path.read_text("utf-8") and "my notes" not in path.read_text(
        "utf-8"
    )


def test_an_edit_nobody_would_lose_is_not_in_the_way(world: Landscape) -> None:
    """Exporting twice without committing is fine: the uncommitted file is the export's own."""
    world.edit("sandbox", BP, retitle("First"))
    assert world.syncer("export", "--env", "sandbox").code == 0
    world.edit("sandbox", BP, retitle("Second"))
    again = world.syncer("export", "--env", "sandbox")
    assert again.code == 0, again.err
    assert "Second" in (world.repo / "flows" / BP / "flow.yaml").read_text("utf-8")


def test_export_commits_only_what_it_wrote(world: Landscape) -> None:
    (world.repo / "notes.txt").write_text("a person's staged work\n", "utf-8")
    (world.repo / "environments" / "production-eu.yaml").write_text(
        (world.repo / "environments" / "production-eu.yaml").read_text("utf-8") + "# staged edit\n",
        "utf-8",
    )
    repo = world.git()
    repo.git.add("notes.txt", "environments/production-eu.yaml")
    world.edit("sandbox", BP, retitle("Changed in Sandbox"))
    result = world.syncer("export", "--env", "sandbox", "--commit")
    assert result.code == 0, result.err
    committed = repo.git.show("--name-only", "--format=", "HEAD").split()
    assert committed == [f"flows/{BP}/flow.yaml"]
    staged = sorted(repo.git.diff("--cached", "--name-only").split())
    assert staged == ["environments/production-eu.yaml", "notes.txt"]  # still staged, untouched


def test_export_never_writes_through_a_link_out_of_the_repository(
    world: Landscape, tmp_path: Path
) -> None:
    """Found by probing: `flows/<key>` linked to a folder outside made export overwrite a file there."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "flow.yaml").write_text("# outside, precious\n", "utf-8")
    folder = world.repo / "flows" / DS
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    folder.symlink_to(outside, target_is_directory=True)
    world.edit("sandbox", BP, retitle("Changed in Sandbox"))
    before = (world.repo / "flows" / BP / "flow.yaml").read_text("utf-8")
    for argv in ((), ("--force",), ("--commit",)):
        result = world.syncer("export", "--env", "sandbox", *argv)
        assert result.code == 1, argv
        assert f"flows/{DS}/flow.yaml" in result.err and "symbolic link" in result.err
        assert "Traceback" not in result.err
    assert (outside / "flow.yaml").read_text("utf-8") == "# outside, precious\n"
    assert (world.repo / "flows" / BP / "flow.yaml").read_text("utf-8") == before  # nothing written
