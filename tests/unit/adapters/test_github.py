"""The GitHub client against a local server that behaves like the documented endpoints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from netpol_gitops import __version__
from netpol_gitops.adapters.github import API_VERSION, Client, GitHubError, ReadOnlyToken
from netpol_gitops.model.connection import Change
from netpol_gitops.model.portsets import ALL, NONE, Conns
from netpol_gitops.output.report import report_json
from netpol_gitops.output.report_markdown import MARKER
from netpol_gitops.review.compare import Diff, Edit
from tests.helpers import Run, cli

ALL_TCP = Conns.of([("TCP", 1, 65535)])
TOKEN = "ghs_SECRETtoken123"  # a fake token, to prove it never leaks
REPO = "org/repo"
COMMENTS = f"/repos/{REPO}/issues/7/comments"
BOT = {"login": "github-actions[bot]"}


def client(server: HTTPServer, **kw: object) -> Client:
    slept: list[float] = []
    c = Client(server.url_for("").rstrip("/"), REPO, TOKEN, sleep=slept.append, **kw)  # type: ignore[arg-type]
    return c


def test_marker_on_the_second_page_means_one_patch_and_no_post(httpserver: HTTPServer) -> None:
    page2 = httpserver.url_for(COMMENTS) + "?per_page=100&page=2"
    httpserver.expect_ordered_request(
        COMMENTS, method="GET", query_string="per_page=100"
    ).respond_with_json(
        [{"id": 1, "body": "hello"}],
        headers={"Link": f'<{page2}>; rel="next", <{page2}>; rel="last"'},
    )
    httpserver.expect_ordered_request(
        COMMENTS, method="GET", query_string="per_page=100&page=2"
    ).respond_with_json([{"id": 2, "body": f"{MARKER}\nold", "user": BOT}])
    httpserver.expect_ordered_request(
        f"/repos/{REPO}/issues/comments/2", method="PATCH", json={"body": f"{MARKER}\nnew"}
    ).respond_with_json({"id": 2})
    assert client(httpserver).upsert(7, "new") == "updated"
    httpserver.check_assertions()
    assert [r.method for r, _ in httpserver.log] == ["GET", "GET", "PATCH"]


def test_no_marker_means_one_post_and_the_marker_is_added(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json([])
    httpserver.expect_ordered_request(
        COMMENTS, method="POST", json={"body": f"{MARKER}\nb"}
    ).respond_with_json({"id": 9}, status=201)
    assert client(httpserver).upsert(7, "b") == "created"
    assert [r.method for r, _ in httpserver.log] == ["GET", "POST"]


def test_a_body_from_elsewhere_is_still_one_comment_across_runs(httpserver: HTTPServer) -> None:
    """The second run finds the first run's comment by the marker the client added."""
    posted: list[str] = []

    def post(request: Request) -> Response:
        posted.append(json.loads(request.get_data(as_text=True))["body"])
        return Response(json.dumps({"id": 5}), status=201, content_type="application/json")

    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json([])
    httpserver.expect_ordered_request(COMMENTS, method="POST").respond_with_handler(post)
    assert client(httpserver).upsert(7, "plain report") == "created"
    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json(
        [{"id": 5, "body": posted[0], "user": BOT}]
    )
    httpserver.expect_ordered_request(
        f"/repos/{REPO}/issues/comments/5", method="PATCH"
    ).respond_with_json({"id": 5})
    assert client(httpserver).upsert(7, "plain report, v2") == "updated"
    httpserver.check_assertions()


def test_a_participants_comment_with_the_marker_is_never_edited(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json(
        [{"id": 4, "body": f"{MARKER} gotcha", "user": {"login": "mallory"}}]
    )
    httpserver.expect_ordered_request(COMMENTS, method="POST").respond_with_json(
        {"id": 9}, status=201
    )
    assert client(httpserver).upsert(7, "report") == "created"
    assert [r.method for r, _ in httpserver.log] == ["GET", "POST"]  # no PATCH of #4


def test_an_app_token_updates_its_own_comment(httpserver: HTTPServer) -> None:
    app = {"login": "netpol-bot[bot]"}
    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json(
        [{"id": 1, "body": MARKER, "user": BOT}, {"id": 2, "body": MARKER, "user": app}]
    )
    httpserver.expect_ordered_request(
        f"/repos/{REPO}/issues/comments/2", method="PATCH"
    ).respond_with_json({"id": 2})
    assert client(httpserver).upsert(7, "r", "netpol-bot[bot]") == "updated"
    httpserver.check_assertions()


def test_a_refused_update_creates_a_new_comment(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json(
        [{"id": 3, "body": MARKER, "user": BOT}]
    )
    httpserver.expect_ordered_request(
        f"/repos/{REPO}/issues/comments/3", method="PATCH"
    ).respond_with_json({"message": "Forbidden"}, status=403)
    httpserver.expect_ordered_request(COMMENTS, method="POST").respond_with_json(
        {"id": 8}, status=201
    )
    assert client(httpserver).upsert(7, "r") == "created"
    assert [r.method for r, _ in httpserver.log] == ["GET", "PATCH", "POST"]


def test_exact_request_headers(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        COMMENTS,
        method="GET",
        headers={
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {TOKEN}",
        },
    ).respond_with_json([])
    assert list(client(httpserver).comments(7)) == []
    httpserver.check_assertions()


def test_a_502_then_success_is_retried_with_backoff(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(COMMENTS).respond_with_data("bad gateway", status=502)
    httpserver.expect_ordered_request(COMMENTS).respond_with_json([{"id": 1, "body": "x"}])
    c = client(httpserver)
    assert [x["id"] for x in c.comments(7)] == [1]
    assert c.waited == [1.0]


def test_secondary_rate_limit_waits_as_told(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(COMMENTS).respond_with_json(
        {"message": "You have exceeded a secondary rate limit"},
        status=403,
        headers={"retry-after": "1"},
    )
    httpserver.expect_ordered_request(COMMENTS).respond_with_json([])
    c = client(httpserver)
    assert list(c.comments(7)) == []
    assert c.waited == [1.0]


def test_retries_are_bounded_and_never_show_the_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMMENTS).respond_with_data("down", status=503)
    c = client(httpserver, attempts=3)
    with pytest.raises(GitHubError) as err:
        list(c.comments(7))
    assert str(err.value) == f"GET {COMMENTS}?per_page=100: HTTP 503 after 3 attempts"
    assert TOKEN not in str(err.value)
    assert len(httpserver.log) == 3 and c.waited == [1.0, 2.0]


def test_a_long_retry_after_is_bounded_by_the_budget(httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMMENTS).respond_with_data(
        "", status=429, headers={"retry-after": "3600"}
    )
    c = client(httpserver, budget=120.0)
    with pytest.raises(GitHubError, match="giving up"):
        list(c.comments(7))
    assert sum(c.waited) <= 120.0


def test_a_read_only_token_is_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMMENTS, method="GET").respond_with_json([])
    httpserver.expect_request(COMMENTS, method="POST").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403
    )
    with pytest.raises(ReadOnlyToken):
        client(httpserver).upsert(7, "b")


def test_the_cli_falls_back_to_the_job_summary_on_a_read_only_token(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(COMMENTS, method="GET").respond_with_json([])
    httpserver.expect_request(COMMENTS, method="POST").respond_with_json({}, status=403)
    body = tmp_path / "body.md"
    body.write_text(f"{MARKER}\nreport")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = cli("github", "comment", "--body-file", str(body))
    assert run.code == 0
    assert run.stdout.startswith("::notice title=netpol-gitops::could not comment")
    assert summary.read_text() == f"{MARKER}\nreport\n"
    assert TOKEN not in run.stdout + run.stderr


def test_the_cli_updates_in_place(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def record(request: Request) -> Response:
        seen.append(request.get_data(as_text=True))
        return Response(json.dumps({"id": 3}), status=200, content_type="application/json")

    httpserver.expect_request(COMMENTS, method="GET").respond_with_json(
        [{"id": 3, "body": MARKER, "user": BOT}]
    )
    httpserver.expect_request(
        f"/repos/{REPO}/issues/comments/3", method="PATCH"
    ).respond_with_handler(record)
    body = tmp_path / "body.md"
    body.write_text(f"{MARKER}\nv2")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = cli("github", "comment", "--body-file", str(body), "--pr", "7")
    assert run.code == 0, run.stderr
    assert run.stdout == "netpol-gitops: comment updated on #7\n"
    assert json.loads(seen[0]) == {"body": f"{MARKER}\nv2"}


# ------------------------------------------------ user errors: one located line, exit 1


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No GitHub variable set; a body file that reads fine. Returns the body file."""
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH", "GITHUB_OUTPUT", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    body = tmp_path / "comment.md"
    body.write_text(f"{MARKER}\nreport")
    return body


def _one_error(run: Run, expected: str) -> None:
    """The problem's one located line, then the count every command closes with."""
    summary = "netpol-gitops: 1 problem; nothing written\n"
    assert (run.code, run.stdout, run.stderr) == (1, "", expected + "\n" + summary)


def test_a_missing_body_file_is_one_located_line(env: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.md"
    run = cli("github", "comment", "--body-file", str(missing), "--pr", "7")
    _one_error(run, f"{missing}: error: --body-file: cannot read: No such file or directory")


def test_an_unreadable_summary_file_is_one_located_line(env: Path, tmp_path: Path) -> None:
    run = cli("github", "comment", "--body-file", str(env), "--summary-file", str(tmp_path))
    _one_error(run, f"{tmp_path}: error: --summary-file: cannot read: Is a directory")
    latin1 = tmp_path / "report.md"
    latin1.write_bytes(b"ok\n\xe9t\xe9\n")
    run = cli("github", "comment", "--body-file", str(env), "--summary-file", str(latin1))
    _one_error(run, f"{latin1}: error: --summary-file: cannot read: not UTF-8 text (byte 3)")


def test_nothing_is_written_to_the_summary_before_every_input_is_read(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    missing = tmp_path / "report.md"
    run = cli("github", "comment", "--body-file", str(env), "--summary-file", str(missing))
    _one_error(run, f"{missing}: error: --summary-file: cannot read: No such file or directory")
    assert not summary.exists()


def test_an_unwritable_step_summary_is_one_located_line(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "no-such-dir" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    run = cli("github", "comment", "--body-file", str(env), "--pr", "7")
    _one_error(
        run, f"{target}: error: GITHUB_STEP_SUMMARY: cannot append: No such file or directory"
    )


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            '{"pull_request": \n  {"number": 7,}}',
            "2:16: error: GITHUB_EVENT_PATH: not JSON: "
            "Expecting property name enclosed in double quotes",
        ),
        ("[7]", ": error: GITHUB_EVENT_PATH: expected a JSON object (an event)"),
        (
            '{"pull_request": {"number": "7; rm -rf /"}}',
            ": error: GITHUB_EVENT_PATH: pull_request.number: expected a positive integer; "
            "got '7; rm -rf /'",
        ),
    ],
)
def test_a_bad_event_file_is_one_located_line(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event: str, expected: str
) -> None:
    path = tmp_path / "event.json"
    path.write_text(event)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    run = cli("github", "comment", "--body-file", str(env))
    _one_error(run, f"{path}{':' if expected[0].isdigit() else ''}{expected}")


def test_a_missing_event_file_is_one_located_line(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "event.json"
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    run = cli("github", "comment", "--body-file", str(env))
    _one_error(run, f"{path}: error: GITHUB_EVENT_PATH: cannot read: No such file or directory")


# ------------------------------------------------------------------------ github outputs


def _report(tmp_path: Path, diff: Diff) -> Path:
    path = tmp_path / "report.json"
    path.write_text(report_json(diff))
    return path


@pytest.mark.parametrize(
    "diff",
    [
        Diff("a", "b"),
        Diff("a", "b", connections=[Change("x/web[Pod]", "x/api[Pod]", NONE, ALL)]),
        Diff("a", "b", connections=[Change("x/web[Pod]", "x/api[Pod]", ALL - ALL_TCP, ALL)]),
        Diff("a", "b", workloads_removed=["x/web[Pod]"]),
        Diff("a", "b", inputs=[Edit("x/p", "added", "x.yaml:4:9", False, False)]),
        Diff("a", "b", policies_changed=["x/default-deny-all"]),
        Diff("a", "b", namespaces=[("shop", "all", "off"), ("db", "ingress", "all")]),
        Diff("a", "b", namespaces=[("shop", "all", "ingress"), ("db", "all", "none")]),
    ],
)
def test_outputs_say_what_the_report_says(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, diff: Diff
) -> None:
    outputs = tmp_path / "github_output"
    outputs.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    run = cli("github", "outputs", "--report", str(_report(tmp_path, diff)))
    assert (run.code, run.stdout, run.stderr) == (0, "", "")
    changed = "true" if diff.changed else "false"
    assert outputs.read_text() == (
        f"earlier=1\nchanged={changed}\nregressions={','.join(diff.regressions)}\n"
    )


def test_outputs_go_to_stdout_without_github_output(env: Path, tmp_path: Path) -> None:
    diff = Diff("a", "b", namespaces=[("shop", "all", "off")])
    run = cli("github", "outputs", "--report", str(_report(tmp_path, diff)))
    assert (run.code, run.stdout) == (0, "changed=true\nregressions=shop\n")


def test_a_name_cannot_forge_another_output_line(env: Path, tmp_path: Path) -> None:
    diff = Diff("a", "b", namespaces=[("shop\nchanged=false", "all", "off")])
    run = cli("github", "outputs", "--report", str(_report(tmp_path, diff)))
    assert run.stdout == "changed=true\nregressions=shop\\x0achanged=false\n"


def test_outputs_from_a_missing_or_foreign_report_is_one_located_line(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    missing = tmp_path / "report.json"
    run = cli("github", "outputs", "--report", str(missing))
    _one_error(run, f"{missing}: error: --report: cannot read: No such file or directory")
    missing.write_text('{"namespaces": []}')
    run = cli("github", "outputs", "--report", str(missing))
    _one_error(
        run,
        f"{missing}: error: --report: not a report.json of `netpol-gitops diff --report-dir` "
        "(no 'connections')",
    )
    assert not outputs.exists()


def test_an_unwritable_github_output_is_one_located_line(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path))
    report = _report(tmp_path, Diff("a", "b"))
    run = cli("github", "outputs", "--report", str(report))
    _one_error(run, f"{tmp_path}: error: GITHUB_OUTPUT: cannot append: Is a directory")


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    """`python -I -m netpol_gitops` (action.yml) and `python -m netpol_gitops.cli` both run it."""
    for module in ("netpol_gitops", "netpol_gitops.cli"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (done.returncode, done.stdout) == (0, f"netpol-gitops {__version__}\n"), module
