"""`syncer demo` (what `make demo` runs): the whole story on local tenants, nothing started by hand.

Three reference tenants (Sandbox, Production EU, Production US) run in this process on 127.0.0.1 with
SQLite files under the work folder. The story: seed Sandbox with the example flows, export them to a
scratch Git repository, plan, apply to both Production tenants (publishing nothing), make a hotfix in
Production EU as a Studio user would, change the same flow in Sandbox and export again, and show the plan
that flags the conflict (a hotfix in Production, a change in Git) and refuses to overwrite it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from .. import vcs, yamlio
from ..client import Tenant, TenantClient
from ..model import iter_value_items

if TYPE_CHECKING:
    from ..tenant.embedded import RunningTenant

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TENANTS = {
    "sandbox": ("sandbox", "eu", "SYNCER_SANDBOX_API_KEY"),
    "production-eu": ("production", "eu", "SYNCER_PRODUCTION_EU_API_KEY"),
    "production-us": ("production", "us", "SYNCER_PRODUCTION_US_API_KEY"),
}
HOTFIX_FLOW = "remote-bp-monitoring"


class Story:
    def __init__(self, workdir: Path, console: Console) -> None:
        self.workdir = workdir
        self.repo = workdir / "repo"
        self.console = console
        self.tenants: dict[str, RunningTenant] = {}
        self.studio_keys: dict[str, str] = {}

    def say(self, step: str, text: str) -> None:
        self.console.rule(f"[bold]{step}[/bold]")
        self.console.print(text, soft_wrap=True, markup=False)  # commands stay copyable

    def syncer(self, *argv: str) -> int:
        shown = shlex.join(["syncer", *argv])  # quoted as a shell needs, so it can be pasted
        self.console.print(f"$ {shown}", style="dim", markup=False, soft_wrap=True)
        from ..cli import (
            main,  # the demo runs commands as a user types them (cli imports this module)
        )

        code = main([*argv, "--repo", str(self.repo)])
        self.console.print(f"[dim](exit code {code})[/dim]")
        return code

    def studio(self, name: str) -> TenantClient:
        return TenantClient(name, self.tenants[name].url, self.studio_keys[name])


@contextmanager
def _tenants(story: Story) -> Iterator[None]:
    # Imported here, not at the top: every command's start would otherwise load the web server.
    from ..tenant.embedded import start_tenant

    with ExitStack() as stack:
        for name, (kind, region, variable) in TENANTS.items():
            ci_key, studio_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            keys = [
                {
                    "name": "syncer-ci",
                    "key": ci_key,
                    "scopes": ["read", "write", "publish", "admin"],
                },
                {"name": "dr.jansen", "key": studio_key, "scopes": ["read", "write"]},
            ]
            db = story.workdir / "tenants" / f"{name}.db"
            tenant = stack.enter_context(start_tenant(name, kind, db, keys, region=region))
            story.tenants[name] = tenant
            story.studio_keys[name] = studio_key
            os.environ[variable] = ci_key
        yield


def _scratch_repo(story: Story) -> None:
    story.repo.mkdir(parents=True)
    repo = vcs.init_repo(story.repo, "syncer demo", "demo@localhost")
    (story.repo / "environments").mkdir()
    for name in TENANTS:
        text = (PROJECT_ROOT / "environments" / f"{name}.yaml").read_text("utf-8")
        original = yamlio.load_text(text, name).data["url"]
        text = text.replace(str(original), story.tenants[name].url)
        (story.repo / "environments" / f"{name}.yaml").write_text(text, "utf-8")
    vcs.commit(repo, ["environments"], "Environments: Sandbox, Production EU and US")


def _seed_sandbox(story: Story) -> list[str]:
    keys = []
    with story.studio("sandbox") as sandbox:
        for path in sorted((PROJECT_ROOT / "flows").glob("*/flow.yaml")):
            document = yamlio.load_file(path).data
            for _ref, item in iter_value_items(document):
                if item.get("concealed"):
                    item["value"] = "sandbox-only-" + secrets.token_hex(4)
            sandbox.put_flow(
                document["metadata"]["definition_id"], document, create=True, edit_source="studio"
            )
            keys.append(path.parent.name)
    return keys


def _edit(client: Tenant, key: str, change: Any, *, hotfix: bool) -> str:
    summary = next(s for s in client.list_flows() if s["key"] == key)
    live = client.get_flow(summary["definition_id"])
    definition = live["definition"]
    for _ref, item in iter_value_items(definition):
        item.pop("has_value", None)
    what = str(change(definition))
    client.put_flow(
        summary["definition_id"],
        definition,
        if_match=live["revision"],
        edit_source="studio",
        hotfix=hotfix,
    )
    return what


def _retitle_first_step(definition: dict[str, Any]) -> str:
    step = definition["spec"]["tracks"][0]["steps"][0]
    step["title"] = step["title"] + " (hotfix: call patient first)"
    return f"step '{step['title']}'"


def _retitle_last_step(definition: dict[str, Any]) -> str:
    step = definition["spec"]["tracks"][-1]["steps"][-1]
    step["title"] = "Review readings with the care team"
    return f"step '{step['title']}'"


def run(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    workdir = Path(args.workdir or "demo-output").resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    os.environ.setdefault("PROD_EU_EHR_API_KEY", "demo-eu-" + secrets.token_hex(8))
    os.environ.setdefault("PROD_US_EHR_API_KEY", "demo-us-" + secrets.token_hex(8))
    os.environ.setdefault("SYNCER_CACHE_DIR", str(workdir / "cache"))
    os.environ.setdefault("SYNCER_ACTOR", "demo-ci")
    story = Story(workdir, console)
    with _tenants(story):
        _scratch_repo(story)
        names = ", ".join(f"{n} {t.url}" for n, t in story.tenants.items())
        story.say("1. Three local tenants", f"Running in this process on SQLite: {names}")
        seeded = _seed_sandbox(story)
        story.say("2. Sandbox", f"Seeded Sandbox with the example flows: {', '.join(seeded)}")
        story.say("3. Export", "Sandbox working versions become canonical YAML in Git.")
        story.syncer(
            "export", "--env", "sandbox", "--commit", "-m", "Export care flows from Sandbox"
        )
        story.say("4. Plan", "Both Production tenants are empty: every flow is a create.")
        story.syncer("plan")
        story.say("5. Apply", "Creates the working versions. Nothing is published.")
        story.syncer("apply", "--yes")
        with story.studio("production-eu") as eu:
            published = [s["key"] for s in eu.list_flows() if s.get("latest_published")]
            story.console.print(f"published in production-eu: {published or 'nothing'}")
            fixed = _edit(eu, HOTFIX_FLOW, _retitle_first_step, hotfix=True)
        story.say(
            "6. Hotfix", f"dr.jansen edits {HOTFIX_FLOW} in production-eu as a hotfix: {fixed}"
        )
        with story.studio("sandbox") as sandbox:
            changed = _edit(sandbox, HOTFIX_FLOW, _retitle_last_step, hotfix=False)
        story.say(
            "7. Sandbox moves on", f"The same flow changes in Sandbox: {changed}; export again."
        )
        story.syncer("export", "--env", "sandbox", "--commit", "-m", "Sandbox: review step renamed")
        story.say(
            "8. Plan", "production-us can take the change; production-eu has a hotfix Git lacks."
        )
        story.syncer("plan")
        story.say(
            "9. Apply", "Updates production-us; the hotfix in production-eu is NOT overwritten."
        )
        story.syncer("apply", "--yes")
        report = workdir / "report.md"
        story.syncer("report", "--output", "markdown", "--out", str(report))
        if args.serve is not None:
            return _serve(story, args.serve)
    story.say("Done", _closing(story, report))
    return 0


def _closing(story: Story, report: Path) -> str:
    """Where things are, and commands that work now that the demo (and its tenants) ended."""
    me = "syncer" if shutil.which("syncer") else f"{sys.executable} -m syncer"
    eu = story.tenants["production-eu"]
    db = story.workdir / "tenants" / "production-eu.db"
    return "\n".join(
        [
            f"Git repository: {story.repo}",
            f"Tenant databases: {story.workdir / 'tenants'}",
            f"Pull-request report: {report}",
            "",
            f"Works now, without tenants: `{me} validate --repo {story.repo}` and "
            f"`git -C {story.repo} log --stat`.",
            "The three tenants ran inside this demo and have stopped with it. To turn the hotfix "
            "into a reviewed change, start production-eu again (same database, same port, a key "
            "of your choosing) and run backport:",
            "$ export SYNCER_PRODUCTION_EU_API_KEY=a-key-of-your-choosing",
            f'$ SYNCER_TENANT_KEYS="syncer-ci:$SYNCER_PRODUCTION_EU_API_KEY:read+write" {me} '
            f"tenant serve --name production-eu --kind production --region eu --port {eu.port} "
            f"--db {db} &",
            f"$ {me} backport --env production-eu --flow {HOTFIX_FLOW} --repo {story.repo}",
            "Status page: `make demo-serve` runs the story again and keeps the tenants and "
            "`syncer serve` running, with the page at http://127.0.0.1:8080/ (Ctrl-C stops them).",
        ]
    )


def _serve(story: Story, port: int) -> int:
    """`demo --serve`: the tenants stay up and `syncer serve` shows them until Ctrl-C."""
    from ..serve import serve, settings_for

    story.say(
        "10. syncer serve",
        f"Status page: http://127.0.0.1:{port}/ (the conflict in production-eu, the hotfix against "
        "Git's change, is in its banner; metrics at /metrics). Ctrl-C stops the service and the "
        "tenants.",
    )
    db = story.workdir / "serve.db"
    return serve(settings_for(story.repo, (), None, 60.0, None, db, "demo-ci", port=port))
