"""A small GitHub Actions runner for tests: reads a workflow's YAML and runs its jobs as GitHub would.

GitHub Actions cannot run here, so the end-to-end tests execute the example workflows themselves:
every ``run:`` step in bash (``bash --noprofile --norc -eo pipefail`` for ``shell: bash``, ``bash -e``
otherwise), every step of syncer's composite action (``action.yml``) with its inputs, and the
environment a runner gives a step: ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH`` and
``GITHUB_STEP_SUMMARY`` files (read back after each step), ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``,
``GITHUB_SHA``, ``GITHUB_EVENT_PATH``, ``RUNNER_TEMP`` and the rest. ``${{ }}`` expressions are
evaluated by a small evaluator that knows the contexts and functions these workflows use and refuses
any other, so a workflow cannot silently use something this runner would get wrong.

Emulated rather than run (see docs/github.md for what only real GitHub shows):

- ``actions/checkout``: a real ``git fetch`` from the test's origin repository of the ref GitHub
  would check out (``refs/pull/N/merge`` for a pull request, which the test creates as GitHub does),
  honouring ``ref`` and ``fetch-depth``; credentials are not needed for a local origin;
- ``actions/setup-python``: the test's Python is put first on ``PATH``;
- ``<owner>/syncer@<sha>``: syncer's composite action from the working copy under test.

Workflow commands in a step's output (``::error file=…::…``) are collected as annotations, unescaped
as GitHub does; matrix jobs are expanded; ``needs``, ``if:`` and job results work as on GitHub.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SYNCER_ACTION = re.compile(r"^[\w.-]+/syncer@[0-9a-f]{40}$")
CHECKOUT = re.compile(r"^actions/checkout@[0-9a-f]{40}$")
SETUP_PYTHON = re.compile(r"^actions/setup-python@[0-9a-f]{40}$")
COMMAND = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text("utf-8"))
    return data


# -- expressions -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!()\[\],.])"
    r"|(?P<name>[A-Za-z_][\w-]*))"
)


class ExpressionError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"cannot read expression at {text[position:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    """``a || b``, ``a && b``, ``a == b``, ``!a``, ``fn(x, y)``, ``ctx.name.more``, literals."""

    def __init__(
        self, text: str, contexts: dict[str, Any], functions: dict[str, Callable[..., Any]]
    ):
        self.tokens = _tokens(text)
        self.at = 0
        self.contexts = contexts
        self.functions = functions

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in expression")
        self.at += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in expression")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if _truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            same = _loose(value) == _loose(right)
            value = same if op == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value) if "." in value else int(value)
        if (kind, value) == ("op", "("):
            inner = self.or_()
            self.take(")")
            return inner
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in expression")
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if self.peek() == ("op", "("):
            return self.call(value)
        if value not in self.contexts:
            raise ExpressionError(f"unknown context {value!r}")
        return self.properties(self.contexts[value])

    def call(self, name: str) -> Any:
        if name not in self.functions:
            raise ExpressionError(f"this runner does not know the function {name}()")
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return self.properties(self.functions[name](*args))

    def properties(self, value: Any) -> Any:
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.or_()
                self.take("]")
            value = value.get(key) if isinstance(value, dict) else None
        return value


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", 0.0)


def _loose(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def evaluate(text: str, contexts: dict[str, Any], status: str = "success") -> Any:
    functions: dict[str, Callable[..., Any]] = {
        "success": lambda: status == "success",
        "failure": lambda: status == "failure",
        "always": lambda: True,
        "cancelled": lambda: False,
        "contains": lambda a, b: (
            (str(b).lower() in str(a).lower()) if isinstance(a, str) else b in (a or [])
        ),
        "startsWith": lambda a, b: str(a).lower().startswith(str(b).lower()),
        "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: _text(a[int(m.group(1))]), f),
        "fromJSON": lambda t: json.loads(t),
        "toJSON": lambda v: json.dumps(v),
    }
    return _Parser(text, contexts, functions).parse()


def substitute(text: Any, contexts: dict[str, Any]) -> Any:
    """Every ``${{ … }}`` in a string replaced by its value as text (other values unchanged)."""
    if not isinstance(text, str):
        return text
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(evaluate(m.group(1), contexts)), text)


def condition(text: Any, contexts: dict[str, Any], status: str) -> bool:
    if text is None:
        return status == "success"
    if isinstance(text, bool):
        return text
    inner = str(text).strip()
    if inner.startswith("${{") and inner.endswith("}}"):
        inner = inner[3:-2]
    value = evaluate(inner, contexts, status)
    uses_status = re.search(r"\b(success|failure|always|cancelled)\(", inner)
    return _truthy(value) and (bool(uses_status) or status == "success")


# -- the runner's files and results -----------------------------------------------------------------


@dataclass(frozen=True)
class Annotation:
    level: str
    message: str
    properties: dict[str, str]


def _unescape(text: str, prop: bool = False) -> str:
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def annotations_in(output: str) -> list[Annotation]:
    """The workflow commands in a step's output; lines end at LF or CR only, as the runner reads
    them (not at the other characters Python's ``splitlines`` takes for line ends)."""
    found = []
    for line in output.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        match = COMMAND.match(line)
        if match is None:
            continue
        props = {}
        for part in (match.group(2) or "").split(","):
            if "=" in part:
                name, value = part.split("=", 1)
                props[name.strip()] = _unescape(value, prop=True)
        found.append(Annotation(match.group(1), _unescape(match.group(3)), props))
    return found


def read_file_commands(path: Path) -> dict[str, str]:
    """``GITHUB_OUTPUT`` / ``GITHUB_ENV`` format: ``name=value`` or ``name<<DELIM`` … ``DELIM``."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    lines = path.read_text("utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class JobResult:
    job: str
    matrix: dict[str, Any]
    result: str  # success | failure | skipped
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""

    @property
    def annotations(self) -> list[Annotation]:
        return [a for step in self.steps for a in step.annotations]

    def log(self) -> str:
        return "\n".join(f"--- {s.name} ({s.outcome})\n{s.stdout}\n{s.stderr}" for s in self.steps)


# -- the runner ----------------------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs workflows of a repository whose remote is ``origin`` (a bare Git repository)."""

    origin: Path
    work: Path
    action_dir: Path
    python_bin: Path
    event_name: str
    event: dict[str, Any]
    sha: str
    ref: str
    repository: str
    api_url: str
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    tool_cache: Path | None = None
    runs: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, workflow: Path) -> list[JobResult]:
        data = load_yaml(workflow)
        results: dict[str, list[JobResult]] = {}
        for job_id, job in data["jobs"].items():
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            failed = [n for n in needs if any(r.result != "success" for r in results.get(n, []))]
            results[job_id] = [
                self._job(data, job_id, job, combination, bool(failed), results)
                for combination in _matrix(job)
            ]
        return [r for items in results.values() for r in items]

    def _contexts(self, matrix: dict[str, Any], needs: dict[str, Any]) -> dict[str, Any]:
        github = {
            "event_name": self.event_name,
            "event": self.event,
            "repository": self.repository,
            "sha": self.sha,
            "ref": self.ref,
            "token": self.secrets.get("GITHUB_TOKEN", ""),
            "api_url": self.api_url,
            "server_url": "https://github.com",
            "run_id": "4242",
            "actor": "octocat",
        }
        secrets = dict(self.secrets)
        return {
            "github": github,
            "secrets": secrets,
            "vars": dict(self.variables),
            "matrix": matrix,
            "needs": needs,
            "env": {},
            "steps": {},
            "runner": {"os": "Linux", "temp": ""},
            "inputs": {},
            "job": {"status": "success"},
        }

    def _job(
        self,
        workflow: dict[str, Any],
        job_id: str,
        job: dict[str, Any],
        matrix: dict[str, Any],
        needs_failed: bool,
        done: dict[str, list[JobResult]],
    ) -> JobResult:
        needs = {n: {"result": rs[0].result if rs else "skipped"} for n, rs in done.items()}
        ctx = self._contexts(matrix, needs)
        if needs_failed or not condition(job.get("if"), ctx, "success"):
            return JobResult(job_id, matrix, "skipped")
        home = self.work / f"{job_id}-{next(self.runs)}"
        workspace, temp = home / "workspace", home / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir()
        event_path = home / "event.json"
        event_path.write_text(json.dumps(self.event), "utf-8")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": self.sha,
            "GITHUB_REF": self.ref,
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_JOB": job_id,
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux",
        }
        if self.tool_cache is not None:
            env["RUNNER_TOOL_CACHE"] = str(self.tool_cache)
        ctx["runner"]["temp"] = str(temp)
        for scope in (workflow.get("env") or {}, job.get("env") or {}):
            env.update({k: substitute(v, ctx) for k, v in scope.items()})
        ctx["env"] = dict(env)
        state = _JobState(env, workspace, temp, [])
        result = JobResult(job_id, matrix, "success")
        for index, step in enumerate(job.get("steps") or []):
            outcome = self._step(step, index, ctx, state, result.result)
            result.steps.append(outcome)
            if outcome.outcome == "failure" and not step.get("continue-on-error"):
                result.result = "failure"
        result.summary = "".join(state.summaries)
        return result

    def _step(
        self, step: dict[str, Any], index: int, ctx: dict[str, Any], state: _JobState, status: str
    ) -> StepResult:
        name = str(step.get("name") or step.get("uses") or step.get("run", "")[:40])
        if not condition(step.get("if"), {**ctx, "env": state.env}, status):
            return StepResult(name, "skipped")
        step_ctx = {**ctx, "env": {**state.env}}
        env = {
            **state.env,
            **{k: substitute(v, step_ctx) for k, v in (step.get("env") or {}).items()},
        }
        uses = step.get("uses")
        if uses is None:
            outcome = self._run(step, name, env, state, step_ctx)
        elif CHECKOUT.match(uses):
            outcome = self._checkout(step, name, state, step_ctx)
        elif SETUP_PYTHON.match(uses):
            outcome = self._setup_python(step, name, state, step_ctx)
        elif SYNCER_ACTION.match(uses):
            outcome = self._composite(step, name, env, state, step_ctx, uses.split("@", 1))
        else:
            raise AssertionError(f"this runner cannot run `uses: {uses}`; add it or avoid it")
        if step.get("id"):
            ctx["steps"][step["id"]] = {"outputs": outcome.outputs, "outcome": outcome.outcome}
        return outcome

    def _run(
        self,
        step: dict[str, Any],
        name: str,
        env: dict[str, str],
        state: _JobState,
        ctx: dict[str, Any],
        default_dir: Path | None = None,
    ) -> StepResult:
        script = substitute(step["run"], ctx)
        files = {n: state.temp / f"{n.lower()}-{next(self.runs)}" for n in _FILES}
        for path in files.values():
            path.write_text("", "utf-8")
        env = {**env, **{n: str(p) for n, p in files.items()}}
        shell = step.get("shell")
        argv = (
            ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
            if shell == "bash"
            else ["bash", "-e"]
        )
        if shell not in (None, "bash"):
            raise AssertionError(f"this runner only runs bash steps, not {shell}")
        path = state.temp / f"step-{next(self.runs)}.sh"
        path.write_text(script, "utf-8")
        where = step.get("working-directory")
        cwd = (
            (state.workspace / substitute(where, ctx))
            if where
            else (default_dir or state.workspace)
        )
        done = subprocess.run(
            [*argv, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
        )
        outputs = read_file_commands(files["GITHUB_OUTPUT"])
        state.env.update(read_file_commands(files["GITHUB_ENV"]))
        for line in reversed(files["GITHUB_PATH"].read_text("utf-8").splitlines()):
            state.env["PATH"] = f"{line}:{state.env['PATH']}"
        state.summaries.append(files["GITHUB_STEP_SUMMARY"].read_text("utf-8"))
        return StepResult(
            name,
            "success" if done.returncode == 0 else "failure",
            outputs,
            done.stdout,
            done.stderr,
            annotations_in(done.stdout),
        )

    def _checkout(
        self, step: dict[str, Any], name: str, state: _JobState, ctx: dict[str, Any]
    ) -> StepResult:
        given = {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()}
        depth = int(given.get("fetch-depth", 1))
        ref = given.get("ref") or self._default_ref()
        target = state.workspace
        git = _git(target)
        git("init", "-q")
        git("remote", "add", "origin", f"file://{self.origin}")
        deep = [] if depth == 0 else [f"--depth={depth}"]
        if depth == 0:
            git("fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
        source = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
        git("fetch", "-q", *deep, "origin", f"+{source}:refs/remotes/checkout")
        if source.startswith("refs/heads/"):
            git("checkout", "-q", "-B", source.removeprefix("refs/heads/"), "refs/remotes/checkout")
        else:
            git("checkout", "-q", "--detach", "refs/remotes/checkout")
        return StepResult(name, "success")

    def _default_ref(self) -> str:
        if self.event_name == "pull_request":
            return f"refs/pull/{self.event['pull_request']['number']}/merge"
        return self.ref

    def _setup_python(
        self, step: dict[str, Any], name: str, state: _JobState, ctx: dict[str, Any]
    ) -> StepResult:
        version = substitute((step.get("with") or {}).get("python-version"), ctx)
        if not version:
            raise AssertionError("setup-python without a pinned python-version")
        state.env["PATH"] = f"{self.python_bin}:{state.env['PATH']}"
        return StepResult(name, "success", {"python-version": str(version)})

    def _composite(
        self,
        step: dict[str, Any],
        name: str,
        env: dict[str, str],
        state: _JobState,
        ctx: dict[str, Any],
        uses: list[str],
    ) -> StepResult:
        action = load_yaml(self.action_dir / "action.yml")
        given = {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()}
        unknown = set(given) - set(action.get("inputs") or {})
        if unknown:
            raise AssertionError(f"the action has no input {sorted(unknown)}")
        inputs = {}
        for input_name, spec in (action.get("inputs") or {}).items():
            if spec.get("required") and input_name not in given:
                raise AssertionError(f"the action needs the input {input_name}")
            inputs[input_name] = str(given.get(input_name, spec.get("default", "")))
        inner_ctx = {
            **copy.deepcopy({k: v for k, v in ctx.items() if k != "steps"}),
            "inputs": inputs,
            "steps": {},
        }
        inner_ctx["github"]["action_path"] = str(self.action_dir)
        inner_env = {
            **env,
            "GITHUB_ACTION_PATH": str(self.action_dir),
            "GITHUB_ACTION_REPOSITORY": uses[0],
            "GITHUB_ACTION_REF": uses[1],
        }
        inner = StepResult(name, "success")
        for inner_step in action["runs"]["steps"]:
            if inner_step.get("run") is not None and inner_step.get("shell") is None:
                raise AssertionError("a composite action's run step needs `shell:`")
            step_env = {
                **inner_env,
                **state.env_delta(env),
                **{k: substitute(v, inner_ctx) for k, v in (inner_step.get("env") or {}).items()},
            }
            if inner_step.get("uses"):
                if not SETUP_PYTHON.match(inner_step["uses"]):
                    raise AssertionError(f"the action uses {inner_step['uses']}")
                outcome = self._setup_python(inner_step, "setup-python", state, inner_ctx)
            else:
                outcome = self._run(inner_step, name, step_env, state, inner_ctx, state.workspace)
            if inner_step.get("id"):
                inner_ctx["steps"][inner_step["id"]] = {"outputs": outcome.outputs}
            inner.stdout += outcome.stdout
            inner.stderr += outcome.stderr
            inner.annotations += outcome.annotations
            if outcome.outcome == "failure":
                inner.outcome = "failure"
                break
        for output_name, spec in (action.get("outputs") or {}).items():
            inner.outputs[output_name] = substitute(spec.get("value", ""), inner_ctx)
        return inner


_FILES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")


@dataclass
class _JobState:
    env: dict[str, str]
    workspace: Path
    temp: Path
    summaries: list[str]

    def env_delta(self, step_env: dict[str, str]) -> dict[str, str]:
        """PATH as the job has it now (setup-python inside the action changes it)."""
        return {"PATH": self.env["PATH"]}


def _matrix(job: dict[str, Any]) -> list[dict[str, Any]]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if not matrix:
        return [{}]
    keys = [k for k in matrix if k not in ("include", "exclude")]
    if "include" in matrix or "exclude" in matrix:
        raise AssertionError("this runner does not expand matrix include/exclude")
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(matrix[k] for k in keys))
    ]


def _git(cwd: Path) -> Callable[..., str]:
    def run(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    return run


def copy_working_tree(source: Path, target: Path) -> Path:
    """The files of the working tree at ``source`` (tracked and new, not ignored: no .git, no
    virtual environment), copied to ``target``: this project as an action or hook user gets it."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, listed):
        path = source / rel
        if path.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / rel)
    return target
