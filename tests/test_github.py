"""The GitHub client over real HTTP against the fake GitHub server (tests/fakegithub.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncer.errors import ConfigError, GitHubError
from syncer.github import GitHub, append_step_summary
from syncer.model import EnvironmentPlan, FlowPlan, Status
from syncer.report import render_environment_markdown, report_marker
from tests.fakegithub import FakeGitHub

TOKEN = "ghs_secret-token-never-shown-1234"
REPO = "acme/care-flows"
MARKER = report_marker("production-eu")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO, page_size=2) as server:
        yield server


class Sleeps(list[float]):
    """An injectable sleep that only records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def github(fake: FakeGitHub, sleeps: Sleeps) -> Iterator[GitHub]:
    with GitHub(TOKEN, REPO, api_url=fake.url, sleep=sleeps, retries=2) as client:
        yield client


@pytest.fixture
def pr(fake: FakeGitHub) -> int:
    return int(fake.open_pull("feature/new-triage")["number"])


def _report(environment: str, title: str = "Intake") -> str:
    flow = FlowPlan("intake", "D1", title, Status.UPDATE)
    return render_environment_markdown(EnvironmentPlan(environment, "abc123", [flow]))


def _error(excinfo: pytest.ExceptionInfo[GitHubError]) -> str:
    message = str(excinfo.value)
    assert TOKEN not in message
    return message


# -- configuration ----------------------------------------------------------------------------------


def test_from_env_names_every_missing_variable() -> None:
    with pytest.raises(ConfigError, match="GITHUB_TOKEN and GITHUB_REPOSITORY are not set"):
        GitHub.from_env({})
    with pytest.raises(ConfigError, match=r"^GITHUB_REPOSITORY is not set"):
        GitHub.from_env({"GITHUB_TOKEN": TOKEN})


def test_from_env_reads_api_url_and_hides_the_token() -> None:
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": "https://ghe.local/api/v3/",
    }
    with GitHub.from_env(env) as client:
        assert client.api_url == "https://ghe.local/api/v3"
        assert TOKEN not in repr(client)
    with GitHub.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}) as client:
        assert client.api_url == "https://api.github.com"


def test_repository_must_be_owner_slash_name() -> None:
    with pytest.raises(ConfigError, match="owner/name"):
        GitHub(TOKEN, "just-a-name")


# -- comments ---------------------------------------------------------------------------------------


def test_first_run_creates_second_run_updates(fake: FakeGitHub, github: GitHub, pr: int) -> None:
    first = _report("production-eu", "Intake")
    assert github.upsert_comment(pr, MARKER, first)[0] == "created"
    second = _report("production-eu", "Intake v2")
    action, comment_id = github.upsert_comment(pr, MARKER, second)
    assert action == "updated"
    assert fake.comment_bodies(pr) == [second]
    assert fake.comments[pr][0]["id"] == comment_id


def test_two_environments_give_two_comments(fake: FakeGitHub, github: GitHub, pr: int) -> None:
    for _ in range(2):
        for environment in ("production-eu", "production-us"):
            github.upsert_comment(pr, report_marker(environment), _report(environment))
    bodies = fake.comment_bodies(pr)
    assert len(bodies) == 2
    assert bodies[0].startswith(report_marker("production-eu"))
    assert bodies[1].startswith(report_marker("production-us"))


def test_marker_is_added_when_the_body_lacks_it(fake: FakeGitHub, github: GitHub, pr: int) -> None:
    github.upsert_comment(pr, MARKER, "plain body")
    assert github.upsert_comment(pr, MARKER, "plain body, again")[0] == "updated"
    assert fake.comment_bodies(pr) == [f"{MARKER}\nplain body, again"]


def test_finds_the_marker_on_a_later_page(fake: FakeGitHub, github: GitHub, pr: int) -> None:
    for n in range(5):
        fake.add_comment(pr, f"looks good {n}")
    fake.add_comment(pr, f"{MARKER}\nold report", user="github-actions[bot]")
    fake.add_comment(pr, "one more")
    assert github.upsert_comment(pr, MARKER, f"{MARKER}\nnew report")[0] == "updated"
    assert fake.count("GET", "/comments") == 4  # 7 comments, 2 per page
    assert fake.comment_bodies(pr)[5] == f"{MARKER}\nnew report"
    assert len(fake.comment_bodies(pr)) == 7


def test_a_create_whose_answer_is_lost_is_not_repeated(
    fake: FakeGitHub, github: GitHub, pr: int
) -> None:
    fake.fail(502, method="POST", after=True)  # created, then "Bad Gateway"
    assert github.upsert_comment(pr, MARKER, _report("production-eu"))[0] == "created"
    assert len(fake.comment_bodies(pr)) == 1
    assert fake.count("POST") == 1


def test_a_failed_create_is_retried_after_looking(
    fake: FakeGitHub, github: GitHub, pr: int
) -> None:
    fake.fail(500, method="POST")  # not created
    assert github.upsert_comment(pr, MARKER, _report("production-eu"))[0] == "created"
    assert len(fake.comment_bodies(pr)) == 1
    assert fake.count("POST") == 2
    assert fake.requests[-2][0] == "GET"  # listed again before the second POST


def test_a_create_that_keeps_failing_leaves_nothing(
    fake: FakeGitHub, github: GitHub, pr: int, sleeps: Sleeps
) -> None:
    fake.fail(500, method="POST", times=99)
    with pytest.raises(GitHubError) as excinfo:
        github.upsert_comment(pr, MARKER, _report("production-eu"))
    assert "failed 3 times" in _error(excinfo) and "no comment was left behind" in _error(excinfo)
    assert fake.comment_bodies(pr) == []
    assert sleeps == [1.0, 2.0, 4.0]


def test_server_errors_on_reads_and_edits_are_retried(
    fake: FakeGitHub, github: GitHub, pr: int, sleeps: Sleeps
) -> None:
    github.upsert_comment(pr, MARKER, "first")
    fake.fail(503, method="GET", times=2)
    fake.fail(502, method="PATCH")
    assert github.upsert_comment(pr, MARKER, "second")[0] == "updated"
    assert fake.comment_bodies(pr) == [f"{MARKER}\nsecond"]
    assert sleeps == [1.0, 2.0, 1.0]


def test_server_errors_give_up_after_bounded_retries(
    fake: FakeGitHub, github: GitHub, pr: int, sleeps: Sleeps
) -> None:
    fake.fail(500, method="GET", times=99)
    with pytest.raises(GitHubError, match="HTTP 500 for pull request #1 3 times") as excinfo:
        github.upsert_comment(pr, MARKER, "body")
    assert "try again later" in _error(excinfo)
    assert fake.count("GET") == 3 and fake.count("POST") == 0


def test_invalid_token_is_a_clear_error(fake: FakeGitHub, pr: int) -> None:
    with (
        GitHub("wrong-token", REPO, api_url=fake.url) as client,
        pytest.raises(GitHubError) as excinfo,
    ):
        client.upsert_comment(pr, MARKER, "body")
    assert "rejected the token (HTTP 401)" in _error(excinfo)
    assert fake.comment_bodies(pr) == []


def test_rate_limit_is_waited_out_once(
    fake: FakeGitHub, github: GitHub, pr: int, sleeps: Sleeps
) -> None:
    fake.rate_limit(retry_after=7)
    assert github.upsert_comment(pr, MARKER, "body")[0] == "created"
    assert sleeps == [7.0]
    assert len(fake.comment_bodies(pr)) == 1


def test_rate_limit_twice_says_when_to_retry(
    fake: FakeGitHub, github: GitHub, pr: int, sleeps: Sleeps
) -> None:
    fake.rate_limit(retry_after=7, times=2)
    with pytest.raises(GitHubError, match=r"rate limit is exhausted \(HTTP 403\); try again after"):
        github.upsert_comment(pr, MARKER, "body")
    assert sleeps == [7.0]
    assert fake.comment_bodies(pr) == []


def test_long_rate_limit_is_not_waited(
    fake: FakeGitHub, github: GitHub, pr: int, sleeps: Sleeps
) -> None:
    fake.rate_limit(retry_after=3600)
    with pytest.raises(GitHubError, match=r"in 3600 s") as excinfo:
        github.upsert_comment(pr, MARKER, "body")
    assert sleeps == []
    assert "UTC" in _error(excinfo)


def test_rate_limit_from_the_reset_header(fake: FakeGitHub, github: GitHub, pr: int) -> None:
    fake.rate_limit(retry_after=None)  # only X-RateLimit-Remaining: 0 and a reset an hour ahead
    with pytest.raises(GitHubError, match="rate limit is exhausted"):
        github.upsert_comment(pr, MARKER, "body")


def test_forbidden_names_the_missing_permission(fake: FakeGitHub, github: GitHub, pr: int) -> None:
    fake.fail(403, method="POST", message="Resource not accessible by integration")
    with pytest.raises(GitHubError) as excinfo:
        github.upsert_comment(pr, MARKER, "body")
    message = _error(excinfo)
    assert "needs the `issues: write` permission" in message
    assert "Resource not accessible by integration" in message


def test_unknown_pull_request_or_repository(fake: FakeGitHub, pr: int) -> None:
    with GitHub(TOKEN, REPO, api_url=fake.url) as client, pytest.raises(GitHubError) as excinfo:
        client.upsert_comment(99, MARKER, "body")
    assert "found no pull request #99 in acme/care-flows (HTTP 404)" in _error(excinfo)
    with GitHub(TOKEN, "acme/other", api_url=fake.url) as client, pytest.raises(GitHubError) as e:
        client.upsert_comment(pr, MARKER, "body")
    assert "HTTP 404" in _error(e)


def test_unreachable_github(sleeps: Sleeps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    client = GitHub(TOKEN, REPO, api_url=f"http://127.0.0.1:{port}", sleep=sleeps, retries=1)
    with client, pytest.raises(GitHubError, match="cannot reach GitHub") as excinfo:
        client.upsert_comment(1, MARKER, "body")
    assert "tried 2 times" in _error(excinfo)


def test_pagination_link_to_another_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        link = '<https://evil.example/steal?page=2>; rel="next"'
        return httpx.Response(200, json=[], headers={"Link": link})

    transport = httpx.MockTransport(handler)
    client = GitHub(TOKEN, REPO, transport=transport)
    with client, pytest.raises(GitHubError, match=r"leaves https://api\.github\.com"):
        client.list_comments(1)


# -- pull requests ----------------------------------------------------------------------------------


def test_pull_requests_find_create_update(fake: FakeGitHub, github: GitHub) -> None:
    assert github.find_pull("backport/eu/intake-r7", "main") is None
    created = github.create_pull("Backport hotfix", "backport/eu/intake-r7", "main", "body")
    assert github.find_pull("backport/eu/intake-r7")["number"] == created["number"]  # type: ignore[index]
    found = github.find_pull("acme:backport/eu/intake-r7", "main")
    assert found is not None and found["number"] == created["number"]
    assert github.find_pull("backport/eu/intake-r7", "release") is None
    updated = github.update_pull(created["number"], title="Backport hotfix r8", body="new body")
    assert (updated["title"], updated["body"]) == ("Backport hotfix r8", "new body")
    assert fake.pulls[created["number"]]["title"] == "Backport hotfix r8"


def test_a_lost_pull_request_create_is_found_not_repeated(fake: FakeGitHub, github: GitHub) -> None:
    fake.fail(502, method="POST", path="/pulls", after=True)
    created = github.create_pull("Backport", "backport/x", "main", "body")
    assert created["head"]["ref"] == "backport/x"
    assert len(fake.pulls) == 1 and fake.count("POST", "/pulls") == 1


def test_pull_request_permission_error(fake: FakeGitHub, github: GitHub) -> None:
    fake.fail(403, method="POST", path="/pulls", message="Resource not accessible by integration")
    with pytest.raises(GitHubError, match="`pull_requests: write`"):
        github.create_pull("Backport", "backport/x", "main", "body")


def test_existing_pull_request_is_reported(fake: FakeGitHub, github: GitHub) -> None:
    fake.open_pull("backport/x", "main")
    with pytest.raises(GitHubError, match="A pull request already exists for acme:backport/x"):
        github.create_pull("Backport", "backport/x", "main", "body")


# -- job summary ------------------------------------------------------------------------------------


def test_step_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert append_step_summary("## production-eu", env) == summary
    append_step_summary("## production-us\n", env)
    assert (
        summary.read_text(encoding="utf-8")
        == "# earlier step\n## production-eu\n## production-us\n"
    )


def test_step_summary_outside_actions_does_nothing() -> None:
    assert append_step_summary("x", {}) is None


def test_step_summary_unwritable(tmp_path: Path) -> None:
    with pytest.raises(GitHubError, match="GITHUB_STEP_SUMMARY"):
        append_step_summary("x", {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "s.md")})


def test_commit_statuses_one_per_context_description_cut() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    with FakeGitHub(token="t0k", repository="acme/flows") as gh:
        client = GitHub("t0k", "acme/flows", api_url=gh.url, sleep=lambda _s: None)
        client.set_status(sha, "syncer/production-eu", "success", "Nothing needs a person.")
        client.set_status(sha, "syncer/production-eu", "failure", "x" * 300, "https://e/x")
        gh.fail(502, method="POST", after=True)  # done, but the answer is lost: set again, harmless
        client.set_status(sha, "syncer/production-us", "success", "fine")
        statuses = gh.statuses(sha)
    assert statuses["syncer/production-eu"]["state"] == "failure"
    assert len(statuses["syncer/production-eu"]["description"]) == 140
    assert statuses["syncer/production-us"]["state"] == "success"
    with pytest.raises(ConfigError):
        client.set_status("not-a-sha", "syncer/x", "success", "")


def test_a_status_without_the_permission_says_which() -> None:
    with FakeGitHub(token="t0k", repository="acme/flows") as gh:
        gh.fail(403, method="POST", path="/statuses/", message="Resource not accessible")
        client = GitHub("t0k", "acme/flows", api_url=gh.url, sleep=lambda _s: None)
        with pytest.raises(GitHubError, match="statuses: write"):
            client.set_status("ab" * 20, "syncer/production-eu", "success", "ok")
