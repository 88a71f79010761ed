"""The single, sticky PR comment: a small GitHub REST client with bounded retries.

Finds the comment carrying the marker (following ``Link: rel="next"``), PATCHes it or POSTs a new
one: never two. Retries 5xx and connection errors with backoff; on 403/429 with ``retry-after``
or ``x-ratelimit-remaining: 0`` waits as told, bounded. The token never appears in messages.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol_gitops.errors import Failure, NetpolError, Problem, UsageFailure, printable
from netpol_gitops.model.location import Location
from netpol_gitops.output.report_markdown import COMMENT_LIMIT, MARKER, SUMMARY_LIMIT, fit

API_VERSION = "2022-11-28"
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class GitHubError(Failure):
    """A request that failed for good; the message names the request, never the token."""


ARTIFACT = "The full report is in the workflow artifact."
DEFAULT_AUTHOR = "github-actions[bot]"  # who GITHUB_TOKEN comments as in GitHub Actions


class ReadOnlyToken(GitHubError):
    """403 on a write without rate-limit signs: a fork's read-only token."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Client:
    api_url: str
    repo: str
    token: str
    sleep: Callable[[float], None] = time.sleep
    attempts: int = 5  # per request
    max_wait: float = 60.0  # longest single wait, seconds
    budget: float = 180.0  # total waiting per request, seconds
    timeout: float = 30.0
    waited: list[float] = field(default_factory=list)

    def _once(self, method: str, url: str, payload: Any) -> Response:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "netpol-gitops",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                raw = resp.read()
                headers = {k.lower(): v for k, v in resp.headers.items()}
                return Response(resp.status, headers, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as err:
            raw = err.read()
            headers = {k.lower(): v for k, v in err.headers.items()}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            return Response(err.code, headers, body)

    def request(self, method: str, url: str, payload: Any = None) -> Response:
        waited = 0.0
        what = f"{method} {_path(url)}"
        for attempt in range(1, self.attempts + 1):
            try:
                resp = self._once(method, url, payload)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                if attempt == self.attempts:
                    raise GitHubError(f"{what}: connection failed: {reason}") from None
                waited = self._wait(min(2.0 ** (attempt - 1), self.max_wait), waited, what)
                continue
            delay = self._delay(resp)
            if resp.status >= 500 or delay is not None:
                if attempt == self.attempts:
                    raise GitHubError(f"{what}: HTTP {resp.status} after {attempt} attempts")
                step = delay if delay is not None else 2.0 ** (attempt - 1)
                waited = self._wait(min(step, self.max_wait), waited, what)
                continue
            return resp
        raise GitHubError(f"{what}: gave up")  # pragma: no cover - the loop returns or raises

    def _delay(self, resp: Response) -> float | None:
        """How long GitHub asks us to wait, for a rate-limited 403/429; else None."""
        if resp.status not in (403, 429):
            return None
        if "retry-after" in resp.headers:
            try:
                return max(0.0, float(resp.headers["retry-after"]))
            except ValueError:
                return 60.0
        if resp.headers.get("x-ratelimit-remaining") == "0":
            try:
                return max(0.0, float(resp.headers.get("x-ratelimit-reset", "0")) - time.time())
            except ValueError:
                return 60.0
        return None

    def _wait(self, seconds: float, waited: float, what: str) -> float:
        if waited + seconds > self.budget:
            raise GitHubError(f"{what}: still failing after waiting {waited:.0f}s; giving up")
        self.sleep(seconds)
        self.waited.append(seconds)
        return waited + seconds

    def comments(self, pr: int) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.api_url}/repos/{self.repo}/issues/{pr}/comments?per_page=100"
        pages = 0
        while url and pages < 100:
            resp = self.request("GET", url)
            if resp.status != 200:
                raise GitHubError(f"GET {_path(url)}: HTTP {resp.status}")
            yield from resp.body or []
            match = _NEXT.search(resp.headers.get("link", ""))
            url = match.group(1) if match else None
            pages += 1

    def upsert(self, pr: int, body: str, author: str = DEFAULT_AUTHOR) -> str:
        """Update our marked comment, or create it. Returns 'updated' or 'created'.

        The marker is added here, whatever the body; a comment counts as ours only when it
        carries the marker AND was written by ``author`` (the identity the token acts for), so
        a participant who posts the marker is never edited. A PATCH refused with 403 (the
        comment is not ours after all, or locked) creates a new comment; only a refused POST is
        a read-only token."""
        if MARKER not in body:
            body = f"{MARKER}\n{body}"
        ours = next(
            (
                c
                for c in self.comments(pr)
                if MARKER in (c.get("body") or "")
                and ((c.get("user") or {}).get("login") == author)
            ),
            None,
        )
        if ours is not None:
            url = f"{self.api_url}/repos/{self.repo}/issues/comments/{ours['id']}"
            resp = self.request("PATCH", url, {"body": body})
            if resp.status in (200, 201):
                return "updated"
            if resp.status != 403:
                raise GitHubError(f"PATCH {_path(url)}: HTTP {resp.status}")
        url = f"{self.api_url}/repos/{self.repo}/issues/{pr}/comments"
        resp = self.request("POST", url, {"body": body})
        if resp.status == 403:
            raise ReadOnlyToken(
                f"POST {_path(url)}: HTTP 403 (a read-only token, as on pull requests from forks)"
            )
        if resp.status not in (200, 201):
            raise GitHubError(f"POST {_path(url)}: HTTP {resp.status}")
        return "created"


def _path(url: str) -> str:
    """The URL without scheme and host (and so without anything secret in userinfo)."""
    return re.sub(r"^[a-z]+://[^/]+", "", url)


def _problem(source: str, what: str, message: str, line: int = 0, col: int = 0) -> NetpolError:
    return NetpolError([Problem(Location(source, line, col, what), message)])


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start})"
    return exc.strerror or type(exc).__name__


def read_text(path: str, what: str) -> str:
    """A file the user named (``what``: the option or variable that named it), as text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(path, what, f"cannot read: {_reason(exc)}") from None


def append_text(path: str, what: str, text: str) -> None:
    """Append to a file GitHub named in the environment (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT)."""
    try:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise _problem(path, what, f"cannot append: {_reason(exc)}") from None


def _read_json(path: str, what: str) -> Any:
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(path, what, f"not JSON: {exc.msg}", exc.lineno, exc.colno) from None


def pr_number(event_path: str | None) -> int | None:
    """The pull request's number from the event payload GitHub wrote (GITHUB_EVENT_PATH)."""
    if not event_path:
        return None
    event = _read_json(event_path, "GITHUB_EVENT_PATH")
    if not isinstance(event, dict):
        raise _problem(event_path, "GITHUB_EVENT_PATH", "expected a JSON object (an event)")
    pull = event.get("pull_request")
    number = (pull.get("number") if isinstance(pull, dict) else None) or event.get("number")
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise _problem(
            event_path,
            "GITHUB_EVENT_PATH",
            f"pull_request.number: expected a positive integer; got {number!r}",
        )
    return number


def step_outputs(report_path: str) -> dict[str, str]:
    """The action's outputs from ``report.json`` of ``netpol-gitops diff --report-dir``:
    ``changed`` ("true"/"false") and ``regressions`` (namespaces, comma-separated)."""
    report = _read_json(report_path, "--report")
    try:
        changed = any(
            [
                report["namespaces"],
                *report["connections"].values(),
                *report["workloads"].values(),
                report["input_policies"],
                *report["policies"].values(),
            ]
        )
        regressions = [
            str(f["namespace"]) for f in report["findings"] if f["rule"] == "protection-reduced"
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        detail = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else "unexpected shape"
        raise _problem(
            report_path,
            "--report",
            f"not a report.json of `netpol-gitops diff --report-dir` ({detail})",
        ) from None
    # One line per output whatever the names hold: a newline could forge another output.
    return {
        "changed": "true" if changed else "false",
        "regressions": printable(",".join(regressions)),
    }


def output_lines(outputs: dict[str, str]) -> str:
    """``name=value`` lines, the format of GITHUB_OUTPUT for one-line values."""
    return "".join(f"{name}={value}\n" for name, value in outputs.items())


def post_comment(
    body_file: str,
    summary_file: str | None,
    pr: int | None,
    environ: Mapping[str, str],
    author: str = DEFAULT_AUTHOR,
) -> str:
    """Post or update the PR comment (``github comment``); the line to print. The full report
    goes to GITHUB_STEP_SUMMARY first, when that is set. A read-only token is no failure."""
    body = fit(read_text(body_file, "--body-file"), COMMENT_LIMIT, ARTIFACT)
    summary = read_text(summary_file, "--summary-file") if summary_file else body
    summary = fit(summary, SUMMARY_LIMIT, ARTIFACT)
    number = pr or pr_number(environ.get("GITHUB_EVENT_PATH"))
    step_summary = environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        append_text(step_summary, "GITHUB_STEP_SUMMARY", summary + "\n")
    repository, token = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_TOKEN")
    if not number or not repository or not token:
        raise UsageFailure(
            "need GITHUB_REPOSITORY, GITHUB_TOKEN and a PR number (GITHUB_EVENT_PATH or --pr)"
        )
    api = environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    try:
        action = Client(api, repository, token).upsert(number, body, author)
    except ReadOnlyToken as exc:
        return (
            f"::notice title=netpol-gitops::could not comment ({exc}); the report is in "
            "the job summary\n"
        )
    return f"netpol-gitops: comment {action} on #{number}\n"


def write_outputs(report: str, environ: Mapping[str, str]) -> str:
    """The action's outputs from a diff report, appended to GITHUB_OUTPUT; when that is unset,
    returned to be printed."""
    lines = output_lines(step_outputs(report))
    target = environ.get("GITHUB_OUTPUT")
    if target:
        append_text(target, "GITHUB_OUTPUT", lines)
        return ""
    return lines
