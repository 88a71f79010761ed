"""The command line: options -> core call -> exit code. No policy logic lives here.

Exit codes: 0 ok, 1 problems found or bad input, 2 usage, 3 internal error.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from netpol_gitops import __version__
from netpol_gitops.errors import Deadline, NetpolError, Problem
from netpol_gitops.generate import schemas
from netpol_gitops.model.location import Location

app = typer.Typer(
    name="netpol-gitops",
    help="Zero-trust by default for every namespace of a GitOps repository: reads "
    "netpol-gitops.io/ annotations on Namespace manifests and generates their NetworkPolicies.\n\n"
    "Exit codes: 0 ok, 1 problems in the input (printed as FILE:LINE:COL), 2 usage, "
    "3 internal error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
T = TypeVar("T")
if TYPE_CHECKING:
    from netpol_gitops.generate.render import Rendered
_state = {"debug": False}


class Output(StrEnum):
    yaml = "yaml"
    json = "json"


def _run(job: Callable[[], T]) -> T:
    """Run the core; problems -> stderr + exit 1; anything else -> exit 3 (traceback with
    --debug). Nothing reaches stdout unless the whole job succeeded."""
    try:
        return job()
    except NetpolError as exc:
        _problems(exc.problems)
    except Deadline as exc:
        _problems(
            [Problem(Location(str(exc.args[0]) if exc.args else "netpol-gitops"), str(exc.args[1]))]
        )
    except OSError as exc:  # an unreadable or unwritable path the user named
        where = str(exc.filename) if exc.filename else "netpol-gitops"
        _problems([Problem(Location(where), exc.strerror or str(exc))])
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(
            f"netpol-gitops: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug and report it)",
            err=True,
        )
        raise typer.Exit(3) from None


def _problems(problems: list[Problem]) -> NoReturn:
    for problem in problems:
        typer.echo(problem.render(), err=True)
    n = len(problems)
    typer.echo(f"netpol-gitops: {n} problem{'s' if n != 1 else ''}; nothing written", err=True)
    raise typer.Exit(1)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netpol-gitops {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


PathArg = Annotated[
    str,
    typer.Argument(
        metavar="PATH|-",
        help="A YAML/JSON file, a directory, or - for a stream on stdin. A directory with a "
        "kustomization is built (every reference checked to be a path inside the repository "
        "first; never plugins, Helm or remote bases); otherwise it is read recursively and each "
        "kustomization under it that no other one references is built.",
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="NetworkPolicyGenerator config. Default: for each file or kustomization read, the "
        "nearest .netpol-gitops.yaml from its folder up to the repository root.",
    ),
]


def _rendered(path: str, config: str | None) -> Rendered:
    """PATH read and rendered, each unit under the config that applies to it."""
    from netpol_gitops.adapters.inputs import read_units  # noqa: PLC0415
    from netpol_gitops.generate.config import parse_config  # noqa: PLC0415 - keeps --help fast
    from netpol_gitops.generate.render import render_units  # noqa: PLC0415

    return render_units([(parse_config(cfg), docs) for cfg, docs in read_units(path, config)])


@app.command()
def render(
    path: PathArg,
    config: ConfigOpt = None,
    output: Annotated[
        Output, typer.Option("--output", "-o", help="yaml stream or a json list.")
    ] = Output.yaml,
    only_generated: Annotated[
        bool, typer.Option("--only-generated", help="Print only the generated NetworkPolicies.")
    ] = False,
) -> None:
    """Print the input objects unchanged, in their order, then the generated NetworkPolicies
    sorted by namespace and name.

    Examples:

      netpol-gitops render examples/three-tier/

      kubectl kustomize overlays/prod | netpol-gitops render -

      netpol-gitops render overlays/prod/ --only-generated -o json
    """

    def job() -> Callable[[], object]:
        result = _rendered(path, config)  # all problems found before any output
        if output is Output.json:
            text = result.json(only_generated)
            return lambda: sys.stdout.write(text)
        return lambda: sys.stdout.writelines(result.yaml_parts(only_generated))

    _run(job)()


@app.command()
def krm() -> None:
    """Run as a KRM function: a ResourceList (YAML or JSON) on stdin, the ResourceList with the
    generated policies on stdout. The functionConfig is a NetworkPolicyGenerator (or a ConfigMap
    with the same keys in data).

    As a transformer it reads Namespaces from the items, echoes every item and appends the
    policies. As a generator (kustomize passes no items) it reads the Namespace files named by
    spec.sources, relative to the kustomization directory.

    Problems are results AND stderr lines with exit 1 (kustomize never shows results); the
    items are then returned unchanged. See kustomize/README.md for kustomize and kpt set-ups.
    """
    from pathlib import Path  # noqa: PLC0415

    from netpol_gitops.adapters.krm import run  # noqa: PLC0415

    def job() -> object:
        result = run(sys.stdin.buffer.read(), Path.cwd())
        sys.stdout.writelines(result.chunks())
        for line in result.stderr:
            typer.echo(line, err=True)
        return result.exit_code

    code = _run(job)
    if code:
        raise typer.Exit(int(str(code)))


argocd_app = typer.Typer(
    name="argocd",
    help="The Argo CD Config Management Plugin's commands (run by argocd-cmp-server in the app "
    "directory; see plugin/argocd/).",
    no_args_is_help=True,
)
app.add_typer(argocd_app)


@argocd_app.command("generate")
def argocd_generate() -> None:
    """Print the app's manifests plus the generated policies (the plugin's generate step).

    Runs in the app directory: builds it with kustomize when it holds a kustomization (plugins
    never enabled), else reads all YAML below it. Settings, lowest to highest: the nearest
    .netpol-gitops.yaml up to the repository root, the Namespace annotations, ARGOCD_ENV_<KEY>
    (e.g. ARGOCD_ENV_DEFAULT_DENY, ARGOCD_ENV_ALLOW_FROM_NAMESPACES, ARGOCD_ENV_OPT_IN,
    ARGOCD_ENV_NAME_PREFIX), the Application parameters (ARGOCD_APP_PARAMETERS, named like the
    annotations without the prefix, plus opt-in and name-prefix). Env and parameters apply to
    ARGOCD_APP_NAMESPACE, whose policies are generated even when the app does not carry the
    Namespace object. Any problem: exit 1, message on stderr, nothing on stdout.
    """
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from netpol_gitops.adapters.argocd import deadline_seconds, generate  # noqa: PLC0415

    limit = deadline_seconds(os.environ)

    def expired(_signum: int, _frame: object) -> None:
        # a BaseException raised inside whatever runs: no problem handler catches it, the
        # kustomize process group is killed, temporary folders are removed
        raise Deadline(
            "argocd generate",
            f"took longer than {limit}s (NETPOL_GITOPS_DEADLINE); stopped, nothing written",
        )

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        result = _run(lambda: generate(Path.cwd(), dict(os.environ)))
    finally:
        signal.alarm(0)
    sys.stdout.writelines(result.yaml_parts())  # after the deadline: all or nothing


@argocd_app.command("discover")
def argocd_discover() -> None:
    """Print the file that makes this app directory ours (a .netpol-gitops.yaml, or YAML that
    contains the netpol-gitops.io/ prefix) and exit 0; print nothing if there is none. Argo CD
    matches the plugin only on non-empty output, so other apps are never captured."""
    import os  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from netpol_gitops.adapters.argocd import discover, repo_root  # noqa: PLC0415

    here = Path.cwd()
    found = _run(lambda: discover(here, repo_root(here, os.environ.get("ARGOCD_APP_SOURCE_PATH"))))
    if found:
        typer.echo(found)


class DiffOutput(StrEnum):
    md = "md"
    json = "json"
    txt = "txt"


class FailOn(StrEnum):
    never = "never"
    unprotected = "unprotected"


@app.command()
def diff(
    base: Annotated[str, typer.Option("--base", help="The base revision (branch, tag or SHA).")],
    head: Annotated[str, typer.Option("--head", help="The head revision.")] = "HEAD",
    repo: Annotated[str, typer.Option("--repo", help="The git repository.")] = ".",
    path: Annotated[
        list[str] | None,
        typer.Option(
            "--path",
            help="Only these folders (each built if it holds a kustomization). Repeatable.",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            metavar="FILE",
            help="NetworkPolicyGenerator config: a path in the repository (relative to its root), "
            "read from each revision's own tree. Default: each revision's nearest "
            ".netpol-gitops.yaml per part.",
        ),
    ] = None,
    output: Annotated[
        DiffOutput, typer.Option("--output", "-o", help="md (the PR comment), json or txt.")
    ] = DiffOutput.txt,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on", help="unprotected: exit 1 when a namespace ends up less protected."
        ),
    ] = FailOn.never,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="Longest markdown output (GitHub's comment limit by default)."
        ),
    ] = 65_536,
    report_dir: Annotated[
        str | None,
        typer.Option(
            "--report-dir",
            metavar="DIR",
            help="Also write comment.md (fits a comment), report.md (everything), report.json "
            "and report.txt there.",
        ),
    ] = None,
) -> None:
    """What a change does to the network: protection per namespace, connections opened and
    closed, and the generated policies' YAML diff, between two revisions.

    Writes each revision from the git objects into a temporary folder byte for byte (no
    checkout, no git attributes) and reads each --path there as `render` reads a folder
    (kustomizations checked and built safely; nothing from the revision runs or is fetched).
    Exit 0 whether or not there are changes, unless --fail-on unprotected finds a regression
    (exit 1).

    Example: netpol-gitops diff --base origin/main --head HEAD -o md > comment.md
    """
    from netpol_gitops.adapters.review import review  # noqa: PLC0415
    from netpol_gitops.output.report import to_json, to_text  # noqa: PLC0415
    from netpol_gitops.output.report_markdown import to_markdown  # noqa: PLC0415

    render_fn = {"md": lambda d: to_markdown(d, limit), "json": to_json, "txt": to_text}

    def job() -> str:
        result = review(repo, base, head, path or [], config)
        if report_dir:
            from pathlib import Path  # noqa: PLC0415

            from netpol_gitops.adapters.inputs import write_atomic  # noqa: PLC0415

            out = Path(report_dir)
            out.mkdir(parents=True, exist_ok=True)
            write_atomic(out / "comment.md", to_markdown(result, limit))
            write_atomic(out / "report.md", to_markdown(result, limit=2**62))
            write_atomic(out / "report.json", to_json(result))
            write_atomic(out / "report.txt", to_text(result))
        regressions.extend(result.regressions)
        return render_fn[output.value](result)

    regressions: list[str] = []
    sys.stdout.write(_run(job))
    if fail_on is FailOn.unprotected and regressions:
        typer.echo(f"netpol-gitops: less protection in: {', '.join(regressions)}", err=True)
        raise typer.Exit(1)


github_app = typer.Typer(
    name="github", help="GitHub integration (used by action.yml).", no_args_is_help=True
)
app.add_typer(github_app)


@github_app.command("comment")
def github_comment(
    body_file: Annotated[str, typer.Option("--body-file", help="The comment body (markdown).")],
    summary_file: Annotated[
        str | None,
        typer.Option(
            "--summary-file", help="The full report for the job summary (default: the body)."
        ),
    ] = None,
    pr: Annotated[
        int | None, typer.Option("--pr", help="PR number (default: from GITHUB_EVENT_PATH).")
    ] = None,
) -> None:
    """Post or update the one netpol-gitops comment on the pull request.

    Reads GITHUB_API_URL (default https://api.github.com), GITHUB_REPOSITORY, GITHUB_TOKEN and
    the PR number from GITHUB_EVENT_PATH. Updates the comment carrying the hidden marker, or
    creates it. With a read-only token (pull requests from forks) the body goes to the job
    summary instead, with a notice, and the exit is 0. The full report is always appended to
    GITHUB_STEP_SUMMARY when that is set.
    """
    import os  # noqa: PLC0415

    from netpol_gitops.adapters import github  # noqa: PLC0415

    def inputs() -> tuple[str, str, int | None]:
        body = github.read_text(body_file, "--body-file")
        summary = github.read_text(summary_file, "--summary-file") if summary_file else body
        return body, summary, pr or github.pr_number(os.environ.get("GITHUB_EVENT_PATH"))

    body, summary, number = _run(inputs)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        _run(lambda: github.append_text(step_summary, "GITHUB_STEP_SUMMARY", summary + "\n"))
    repository, token = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_TOKEN")
    if not number or not repository or not token:
        typer.echo(
            "netpol-gitops: need GITHUB_REPOSITORY, GITHUB_TOKEN and a PR number "
            "(GITHUB_EVENT_PATH or --pr)",
            err=True,
        )
        raise typer.Exit(2)
    client = github.Client(
        os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"), repository, token
    )
    try:
        action = client.upsert(number, body)
    except github.ReadOnlyToken as exc:
        typer.echo(
            f"::notice title=netpol-gitops::could not comment ({exc}); the report is in "
            "the job summary"
        )
        return
    except github.GitHubError as exc:
        typer.echo(f"netpol-gitops: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"netpol-gitops: comment {action} on #{number}")


@github_app.command("outputs")
def github_outputs(
    report: Annotated[
        str,
        typer.Option(
            "--report", metavar="FILE", help="report.json written by `diff --report-dir`."
        ),
    ],
) -> None:
    """Set the action's outputs from a diff report: changed=true|false and regressions= (the
    namespaces that end up less protected, comma-separated).

    Appends them to the file GITHUB_OUTPUT names, or prints them when it is unset.
    """
    import os  # noqa: PLC0415

    from netpol_gitops.adapters import github  # noqa: PLC0415

    lines = github.output_lines(_run(lambda: github.step_outputs(report)))
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        _run(lambda: github.append_text(target, "GITHUB_OUTPUT", lines))
    else:
        sys.stdout.write(lines)


class CheckFormat(StrEnum):
    text = "text"
    github = "github"
    sarif = "sarif"
    json = "json"


class Level(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


@app.command()
def check(
    path: PathArg,
    config: ConfigOpt = None,
    output_format: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            "-f",
            help="text (FILE:LINE:COL: severity: [rule] message), github "
            "(workflow-command annotations), sarif (2.1.0, for code scanning) or json.",
        ),
    ] = CheckFormat.text,
    fail_on: Annotated[
        Level,
        typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity exists."),
    ] = Level.error,
) -> None:
    """Findings a platform team gates merges on, each with a rule id, severity and location.

    Rules: no-default-deny, egress-without-dns, half-open-flow (a flow the other namespace's
    deny blocks), selector-matches-nothing, redundant-policy and name-clash (hand-written
    policies), stale-generated-policy (labelled as generated but not what the generator makes
    now), and the invalid-* problems render reports. Every format prints a whole document, with
    input problems as findings.

    Examples:

      netpol-gitops check clusters/prod

      netpol-gitops check . --format sarif > netpol-gitops.sarif
    """
    from netpol_gitops.adapters.inputs import read_units  # noqa: PLC0415
    from netpol_gitops.checks.gate import findings  # noqa: PLC0415
    from netpol_gitops.checks.rules import at_or_above  # noqa: PLC0415
    from netpol_gitops.generate.config import parse_config  # noqa: PLC0415
    from netpol_gitops.model.severity import Severity  # noqa: PLC0415
    from netpol_gitops.output.problems import RENDERERS  # noqa: PLC0415

    def job() -> list[Problem]:
        """Every problem is a finding, so every format prints a whole document (a bug still
        exits 3 through _run). Each part is checked under the config that applies to it."""
        try:
            units = read_units(path, config)
        except NetpolError as exc:
            return list(exc.problems)
        found: set[Problem] = set()
        for config_doc, docs in units:
            try:
                found.update(findings(docs, parse_config(config_doc)))
            except NetpolError as exc:
                found.update(exc.problems)
        return sorted(found)

    found = _run(job)
    sys.stdout.write(RENDERERS[output_format.value](found))
    if fail_on is not Level.never and at_or_above(found, Severity(fail_on.value)):
        raise typer.Exit(1)


class ReachOutput(StrEnum):
    txt = "txt"
    json = "json"
    md = "md"
    mermaid = "mermaid"


@app.command()
def reach(
    path: PathArg,
    config: ConfigOpt = None,
    output: Annotated[
        ReachOutput,
        typer.Option(
            "--output", "-o", help="txt (`src => dst : conns`, one per line), json, md or mermaid."
        ),
    ] = ReachOutput.txt,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate", help="Analyse the input plus the policies netpol-gitops would generate."
        ),
    ] = False,
    focus: Annotated[
        str | None,
        typer.Option(
            "--focus", metavar="NS/NAME", help="Only connections from or to this workload."
        ),
    ] = None,
) -> None:
    """Who can reach whom: every allowed connection between workloads (Pod, Deployment,
    StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob) and external IP
    ranges, under Kubernetes NetworkPolicy semantics.

    Examples:

      netpol-gitops reach examples/three-tier/ --generate

      netpol-gitops reach cluster-dump.yaml --focus my-app/backend -o md
    """
    from netpol_gitops.adapters.inputs import read_manifests  # noqa: PLC0415
    from netpol_gitops.analysis.documents import topology_of  # noqa: PLC0415
    from netpol_gitops.analysis.reach import iter_analyse  # noqa: PLC0415
    from netpol_gitops.output.connections import RENDERERS, txt_lines  # noqa: PLC0415

    def job() -> Callable[[], object]:
        extra = []
        if generate:
            result = _rendered(path, config)
            docs, extra = result.documents, result.generated
        else:
            docs = read_manifests(path)
        topo = topology_of(docs, extra)
        conns = iter_analyse(topo)
        if focus:
            conns = (c for c in conns if any(p.startswith(focus + "[") for p in (c.src, c.dst)))
        if output is ReachOutput.txt:  # streamed: can run to millions of lines
            return lambda: sys.stdout.writelines(txt_lines(conns))
        text = RENDERERS[output.value](list(conns))
        return lambda: sys.stdout.write(text)

    _run(job)()


@app.command()
def schema(
    name: Annotated[
        str, typer.Argument(help=f"One of: {', '.join(schemas.NAMES)}.")
    ] = "annotations",
) -> None:
    """Print a JSON Schema: `annotations` (Namespace annotations), `flows` (the flows value and
    profiles) or `config` (the NetworkPolicyGenerator repo config). Point your editor or CI at
    it."""
    if name not in schemas.NAMES:
        typer.echo(
            f"netpol-gitops: unknown schema '{name}'; choose one of {', '.join(schemas.NAMES)}",
            err=True,
        )
        raise typer.Exit(2)
    sys.stdout.write(schemas.text(name))


def main() -> None:
    from netpol_gitops.yaml.document import c_parser_in_use  # noqa: PLC0415

    if not c_parser_in_use():  # pragma: no cover - install-specific
        sys.stderr.write(
            "netpol-gitops: ruamel.yaml.clib (the C YAML parser) is missing; "
            "reinstall with `pip install netpol-gitops`\n"
        )
        sys.exit(3)
    import os  # noqa: PLC0415

    from netpol_gitops.adapters.kustomize_build import trusted_path  # noqa: PLC0415

    os.environ["PATH"] = trusted_path()  # git (gitpython) and kustomize: never from the checkout
    app()


if __name__ == "__main__":
    main()
