"""The GitHub client against a local server that behaves like the documented endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from netpol_gitops.diff import MARKER
from netpol_gitops.github import API_VERSION, Client, GitHubError, ReadOnlyToken
from tests.helpers import cli

TOKEN = "ghs_SECRETtoken123"  # a fake token, to prove it never leaks
REPO = "org/repo"
COMMENTS = f"/repos/{REPO}/issues/7/comments"


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
    ).respond_with_json([{"id": 2, "body": f"{MARKER}\nold"}])
    httpserver.expect_ordered_request(
        f"/repos/{REPO}/issues/comments/2", method="PATCH", json={"body": "new"}
    ).respond_with_json({"id": 2})
    assert client(httpserver).upsert(7, "new") == "updated"
    httpserver.check_assertions()
    assert [r.method for r, _ in httpserver.log] == ["GET", "GET", "PATCH"]


def test_no_marker_means_one_post(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(COMMENTS, method="GET").respond_with_json([])
    httpserver.expect_ordered_request(
        COMMENTS, method="POST", json={"body": "b"}
    ).respond_with_json({"id": 9}, status=201)
    assert client(httpserver).upsert(7, "b") == "created"
    assert [r.method for r, _ in httpserver.log] == ["GET", "POST"]


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

    httpserver.expect_request(COMMENTS, method="GET").respond_with_json([{"id": 3, "body": MARKER}])
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
