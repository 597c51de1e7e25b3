"""Every command's arguments: the one argparse parser of ``syncer`` (``build_parser``).

Only the shape of the command line lives here (names, types, defaults, help); ``cli.py`` parses argv
with it once and hands the namespace to the command's ``run``. Shared shapes are one function each
(``_envs``, ``_flows``, ``_output``, ``_pull_request``, ``_port``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .. import __version__
from ..errors import EXIT_CODES
from ..report import logs

OUTPUTS = ("text", "json", "markdown")
WITH_GITHUB = (*OUTPUTS, "github")  # GitHub workflow commands: annotations on the lines concerned


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo",
        default=".",
        metavar="PATH",
        help="the GitOps repository (default: current directory)",
    )
    _log_format(parser, argparse.SUPPRESS)


def _log_format(parser: argparse.ArgumentParser, default: str | None) -> None:
    # Global (``syncer --log-format json plan``) and per command (``syncer plan --log-format json``);
    # the per-command default is SUPPRESS so that it never hides the global one.
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default=default,
        help="log events on stderr as json or text, one per line "
        f"(default: ${logs.ENV_VARIABLE}, else text)",
    )


def _envs(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME",
        help=help_text or "environment name (repeatable; default: every target environment)",
    )


def _flows(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    parser.add_argument(
        "--flow",
        action="append",
        default=[],
        metavar="KEY",
        help=help_text or "flow key (repeatable; default: all)",
    )


def _allow_dirty(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="write uncommitted changes of flows/ and environments/ (recorded in the annotations; "
        "never with verify)",
    )


def _output(
    parser: argparse.ArgumentParser, choices: Sequence[str] = OUTPUTS, default: str = "text"
) -> None:
    parser.add_argument(
        "--output",
        choices=choices,
        default=default,
        help=f"output format (default: {default})",
    )


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(command=name)
    _common(parser)
    return parser


def _port(text: str) -> int:
    """A TCP port (0 picks a free one), refused as a usage error otherwise, never a traceback."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {port}")
    return port


def _pull_request(p: argparse.ArgumentParser, *, push: str, base: str) -> None:
    """The options of a command that pushes a branch and opens its pull request."""
    p.add_argument("--push", action="store_true", help=push)
    p.add_argument(
        "--open-pr",
        action="store_true",
        help="open or update the branch's pull request on GitHub (implies --push)",
    )
    p.add_argument("--remote", default="origin", help="remote to push to (default: origin)")
    p.add_argument("--base", metavar="BRANCH", help=base)


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>3}  {text.replace('`', '')}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="syncer",
        description="GitOps for care flows: Sandbox -> Git -> Production, drift flagged, never overwritten.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"syncer {__version__}")
    _log_format(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _command(sub, "validate", "schema and meaning checks of flows and environments")
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the repository)"
    )
    _output(p, WITH_GITHUB)

    p = _command(sub, "export", "Sandbox working versions -> flows/ (canonical YAML)")
    _envs(p, "the source environment to export from")
    _flows(p)
    p.add_argument("--branch", metavar="NAME", help="commit on this branch (created from HEAD)")
    p.add_argument("--commit", action="store_true", help="commit the exported files with git")
    p.add_argument("-m", "--message", metavar="MSG", help="commit message (a summary is appended)")
    _pull_request(
        p,
        push="push the branch (needs --branch, --commit)",
        base="the pull request's base (default: the current branch)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite flow files that have uncommitted changes (refused otherwise)",
    )
    _output(p)

    p = _command(sub, "plan", "the three-way plan per target environment (read-only)")
    _envs(p)
    _flows(p)
    p.add_argument(
        "--ref",
        metavar="GITREF",
        help="plan this Git ref (e.g. a pull request's head); tenant URLs and API key variables "
        "still come from the checkout, the trusted side",
    )
    p.add_argument("--out", metavar="FILE", help="save the plan (JSON) for a later apply")
    _output(p, WITH_GITHUB)

    p = _command(sub, "apply", "plan, then create/update flows in target environments")
    _envs(p)
    _flows(p)
    p.add_argument(
        "--ref", metavar="GITREF", help="read flows from this Git ref, not the work tree"
    )
    p.add_argument("--adopt", action="store_true", help="take over unmanaged flows")
    p.add_argument(
        "--overwrite-drift",
        action="store_true",
        help="overwrite a drifted or conflicting flow (needs exactly one --flow)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _allow_dirty(p)
    p.add_argument(
        "--override-window",
        metavar="REASON",
        help="write although a sync window holds writes; REASON and who are recorded in the "
        "annotations (verify is never overridden)",
    )
    p.add_argument("planfile", nargs="?", metavar="PLANFILE", help="apply exactly this saved plan")
    _output(p)

    p = _command(sub, "reconcile", "apply every target environment in parallel (CI and schedules)")
    _envs(p)
    p.add_argument(
        "--ref", metavar="GITREF", help="read flows from this Git ref, not the work tree"
    )
    p.add_argument(
        "--every", type=float, metavar="SECONDS", help="keep running, once every SECONDS"
    )
    p.add_argument("--report", metavar="FILE", help="write the run's report (Markdown) to FILE")
    p.add_argument(
        "--open-backport-prs",
        action="store_true",
        help="open or update one backport pull request per drifted flow",
    )
    _allow_dirty(p)
    p.add_argument("--max-runs", type=int, default=None, help=argparse.SUPPRESS)
    _output(p)

    p = _command(sub, "report", "the change and drift report for a pull request")
    _envs(p)
    _flows(p)
    p.add_argument(
        "--base",
        metavar="REF",
        help="the trusted base (e.g. origin/main): describe what changed since REF, and take "
        "tenant URLs and API key variables from REF, never from the reviewed change",
    )
    p.add_argument(
        "--ref",
        metavar="GITREF",
        help="report this Git ref, not the work tree (without --base, tenant URLs and API key "
        "variables come from the checkout)",
    )
    p.add_argument(
        "--github-pr",
        type=int,
        metavar="N",
        help="post or update one comment per environment on PR N",
    )
    p.add_argument(
        "--github-status",
        metavar="SHA",
        help="set one commit status per environment (syncer/<env>) on commit SHA",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="also write the report to FILE (the Markdown report with --output github)",
    )
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes to apply and 3 when a flow needs a person "
        "(default: 0 once the report is rendered and posted)",
    )
    _output(p, ("markdown", "json", "text", "github"))

    p = _command(sub, "backport", "carry a Production hotfix back into Git on a new branch")
    _envs(p, "the target environment that holds the hotfix (exactly one)")
    p.add_argument(
        "--flow", action="append", default=[], metavar="KEY", help="the flow key (exactly one)"
    )
    p.add_argument(
        "--branch", metavar="NAME", help="branch name (default: backport/<env>/<flow>-r<rev>)"
    )
    _pull_request(
        p,
        push="push the branch to the remote",
        base="branch from and into this (default: the current branch)",
    )
    p.add_argument(
        "--to-sandbox",
        metavar="SANDBOX",
        nargs="?",
        const="",
        help="also write the hotfix into Sandbox's working version (default: the only source "
        "environment); refused when Sandbox has unexported edits of the flow",
    )
    _output(p)

    p = _command(sub, "preflight", "go-live checklist per flow")
    _envs(p)
    _flows(p)
    _output(p)

    p = _command(sub, "publish", "publish the working version (never done by apply)")
    _envs(p, "the target environment to publish in (exactly one)")
    _flows(p, "flow key to publish (repeatable; at least one)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--force", action="store_true", help="publish despite blocking preflight items")
    _output(p)

    p = _command(sub, "ids", "identifiers integrations need, per environment")
    _envs(p)
    _flows(p)
    _output(p, ("json", "env", "markdown", "text"))

    p = _command(sub, "bootstrap", "one-time reverse copy of a Production-only flow into Sandbox")
    p.add_argument(
        "--from", dest="source", required=True, metavar="PROD", help="the target environment"
    )
    p.add_argument(
        "--to", dest="target", required=True, metavar="SANDBOX", help="the source environment"
    )
    p.add_argument(
        "--flow",
        action="append",
        default=[],
        metavar="KEY",
        help="flow key (repeatable; default: every flow that exists only in PROD)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="copy over a flow that exists in Sandbox already (bootstrapped before or not)",
    )
    _output(p)

    p = _command(sub, "test", "run care-flow test cases offline (Awell's validation.yaml format)")
    _flows(p)
    p.add_argument(
        "cases",
        nargs="*",
        metavar="CASES",
        help="test files, flow folders or case titles (default: every flows/<key>/tests/*.yaml)",
    )
    _output(p)

    p = _command(sub, "import-awell", "convert an Awell Studio Source Control export into flows/")
    p.add_argument(
        "path", metavar="PATH", nargs="?", help="the export folder (or a folder of them)"
    )
    p.add_argument(
        "--from-git",
        metavar="REPO",
        help="the Git repository Awell Studio pushes to (a path or a clone URL), instead of PATH;"
        " each imported version is committed with its provenance",
    )
    p.add_argument(
        "--ref", metavar="REF", help="with --from-git: the commit to import (default HEAD)"
    )
    p.add_argument(
        "--history",
        action="store_true",
        help="with --from-git: replay every published version up to --ref, oldest first, one"
        " commit each (versions already imported are skipped)",
    )
    p.add_argument(
        "--key",
        metavar="KEY",
        help="flow key (default: the key the care flow already has here, else a slug of its title)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with PATH: overwrite an existing flows/<key>/flow.yaml",
    )
    p.add_argument(
        "--without-tests",
        action="store_true",
        help="leave the export's validation.yaml behind (default: into flows/<key>/tests/)",
    )

    p = _command(sub, "export-awell", "write a flow back in Awell Studio's Source Control format")
    p.add_argument("key", metavar="KEY", help="flow key")
    p.add_argument("path", metavar="PATH", help="the folder to write")

    p = _command(sub, "tenant", "the reference tenant server")
    tenant_sub = p.add_subparsers(dest="tenant_command", metavar="ACTION", required=True)
    serve = tenant_sub.add_parser(
        "serve", help="serve a tenant on 127.0.0.1", description="serve a tenant"
    )
    serve.set_defaults(command="tenant")
    serve.add_argument("--name", required=True)
    serve.add_argument("--kind", choices=("sandbox", "production"), required=True)
    serve.add_argument("--region", default="")
    serve.add_argument("--port", type=_port, required=True)
    serve.add_argument("--db", required=True, metavar="FILE")
    serve.add_argument("--keys", metavar="FILE", help="YAML list of {name, key, scopes}")

    _serve(sub)

    p = _command(sub, "demo", "run the end-to-end story on local tenants (used by make demo)")
    p.add_argument(
        "--workdir", metavar="DIR", help="where to put the scratch repository and tenants"
    )
    p.add_argument(
        "--serve",
        type=_port,
        nargs="?",
        const=8080,
        metavar="PORT",
        help="then keep the tenants up and run `syncer serve` on 127.0.0.1:PORT (default 8080) "
        "until Ctrl-C, to look at the status page",
    )
    return parser


def _serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(
        sub, "serve", "the reconciler as a service: schedule, webhook, status page, metrics"
    )
    _envs(p)
    p.add_argument(
        "--ref", metavar="GITREF", help="reconcile this Git ref, not the work tree (see --fetch)"
    )
    p.add_argument(
        "--every", type=float, default=300.0, metavar="SECONDS", help="run every SECONDS (300)"
    )
    p.add_argument(
        "--jitter",
        type=float,
        metavar="SECONDS",
        help="wait up to this much longer, at random, between runs (default: a tenth of --every)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other needs $SYNCER_STATUS_TOKEN)",
    )
    p.add_argument("--port", type=_port, default=8080, help="port to listen on (8080; 0 picks one)")
    p.add_argument(
        "--db",
        metavar="FILE",
        help="the run history, SQLite (default: $SYNCER_DB, else ~/.local/state/syncer/serve.db)",
    )
    p.add_argument(
        "--fetch",
        metavar="REMOTE",
        help="git fetch REMOTE before every run and reconcile REMOTE/BRANCH (unless --ref)",
    )
    p.add_argument(
        "--branch",
        metavar="NAME",
        help="the branch a webhook push must name to trigger a run (default: from --ref, else "
        "the checked-out branch)",
    )
    p.add_argument(
        "--keep-days",
        type=float,
        default=400.0,
        metavar="DAYS",
        help="how long the run history keeps a run (400 days)",
    )


# The commands, in the order ``syncer --help`` lists them: name -> its module's ``run``.
