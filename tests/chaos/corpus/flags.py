"""Bad command-line flags."""

from __future__ import annotations

from .case import (
    BP,
    EU,
    FLAG,
    PENDING,
    Case,
    folder,
)

CASES: tuple[Case, ...] = (
    # --- flags ---------------------------------------------------------------------------------------
    Case(
        "flag-unknown-environment",
        FLAG,
        ("plan", "--env", "production-mars"),
        1,
        ("production-mars", "known:", "--env"),
    ),
    Case(
        "flag-source-environment-to-apply",
        FLAG,
        ("apply", "--yes", "--env", "sandbox"),
        1,
        ("sandbox", "role source"),
        edit=PENDING,
    ),
    Case(
        "flag-target-environment-to-export",
        FLAG,
        ("export", "--env", EU),
        1,
        (EU, "role target", "backport"),
    ),
    Case(
        "flag-unknown-flow",
        FLAG,
        ("apply", "--yes", "--flow", "no-such-flow"),
        1,
        ("no-such-flow", "known:"),
        edit=PENDING,
    ),
    Case(
        "flag-out-missing-folder",
        FLAG,
        ("plan", "--out", "missing/plan.json"),
        1,
        ("--out", "does not exist", "mkdir -p"),
    ),
    Case(
        "flag-out-is-a-folder",
        FLAG,
        ("plan", "--out", "{repo}/a-folder"),
        1,
        ("--out", "is a folder", "name a file"),
        folder("a-folder"),
    ),
    Case(
        "flag-report-out-folder",
        FLAG,
        ("report", "--out", "{repo}/a-folder"),
        1,
        ("--out", "is a folder"),
        folder("a-folder"),
    ),
    Case(
        "flag-reconcile-report-missing-folder",
        FLAG,
        ("reconcile", "--report", "missing/r.md"),
        1,
        ("--report", "does not exist"),
        edit=PENDING,
    ),
    Case(
        "flag-every-negative",
        FLAG,
        ("reconcile", "--every", "-5"),
        1,
        ("--every", "at least 1"),
        edit=PENDING,
    ),
    Case(
        "flag-every-zero",
        FLAG,
        ("reconcile", "--every", "0", "--max-runs", "1"),
        1,
        ("--every", "at least 1"),
        edit=PENDING,
    ),
    Case(
        "flag-every-not-a-number",
        FLAG,
        ("reconcile", "--every", "soon"),
        1,
        ("--every", "invalid float value"),
    ),
    Case(
        "flag-overwrite-drift-without-flow",
        FLAG,
        ("apply", "--yes", "--overwrite-drift"),
        1,
        ("--overwrite-drift", "exactly one --flow"),
    ),
    Case("flag-unknown-ref", FLAG, ("plan", "--ref", "no-such-branch"), 1, ("no-such-branch",)),
    Case(
        "flag-repo-missing",
        FLAG,
        ("plan", "--repo", "/nonexistent/repo"),
        1,
        ("/nonexistent/repo", "--repo"),
        repo=False,
    ),
    Case(
        "flag-output-unknown", FLAG, ("plan", "--output", "yaml"), 1, ("--output", "invalid choice")
    ),
    Case("flag-unknown-command", FLAG, ("deploy",), 1, ("invalid choice", "deploy"), repo=False),
    Case(
        "flag-port-out-of-range",
        FLAG,
        ("tenant", "serve", "--name", "t", "--kind", "sandbox", "--port", "70000", "--db", "t.db"),
        1,
        ("--port", "between 0 and 65535"),
        env={"SYNCER_TENANT_KEYS": "ci:key-12345678:read"},
        repo=False,
    ),
    Case(
        "flag-serve-port-out-of-range",
        FLAG,
        ("serve", "--port", "99999"),
        1,
        ("--port", "between 0 and 65535"),
    ),
    Case(
        "flag-demo-serve-port-out-of-range",
        FLAG,
        ("demo", "--serve", "99999"),
        1,
        ("--serve", "between 0 and 65535"),
        repo=False,
    ),
    Case(
        "flag-backport-unknown-flow",
        FLAG,
        ("backport", "--env", EU, "--flow", "no-such-flow"),
        1,
        ("no-such-flow", "bootstrap"),
    ),
    Case(
        "flag-backport-flow-in-sync", FLAG, ("backport", "--env", EU, "--flow", BP), 0, ("in_sync",)
    ),
    Case(
        "flag-export-awell-unsafe-key",
        FLAG,
        ("export-awell", "../../etc", "out"),
        1,
        ("../../etc",),
    ),
    Case(
        "flag-import-awell-missing",
        FLAG,
        ("import-awell", "/nonexistent/export"),
        1,
        ("/nonexistent/export",),
    ),
    Case("flag-publish-without-flow", FLAG, ("publish", "--env", EU), 1, ("--flow",)),
)
