"""The command line: options -> one call -> output and exit code. Typer only: no policy logic,
no I/O beyond writing what a command returns.

Exit codes: 0 ok, 1 problems found or bad input, 2 usage, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # typer's own click: usage errors
from typer.core import TyperGroup

from netpol_gitops import __version__
from netpol_gitops.adapters import commands
from netpol_gitops.errors import Deadline
from netpol_gitops.generate import schemas


class _Boundary(TyperGroup):
    """The one error boundary (pre-commit's error_handler is the model): every command raises,
    this turns what it raised into output and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.get("standalone_mode", True)
        kwargs["standalone_mode"] = False  # click raises; guarded() decides what is printed
        code = guarded(lambda: super(_Boundary, self).main(*args, **kwargs))
        if standalone:
            sys.exit(code)
        return code


def guarded(run: Callable[[], object]) -> int:
    """Run a command; its exit code. Problems in the input: located lines, exit 1. The deadline:
    exit 1. Interrupted: 130. Anything else is a bug: exit 3, with the traceback under --debug.
    Commands write only once their work is done, so a failure leaves stdout empty."""
    try:
        code = run()
    except ClickException as exc:  # usage: typer's own message and exit code (2)
        exc.show()
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return 130
    except (Exception, Deadline) as exc:  # the boundary launch.py shares (adapters/commands.py)
        return commands.failed(exc)
    return code if isinstance(code, int) else 0


app = typer.Typer(
    name="netpol-gitops",
    cls=_Boundary,
    help="Zero-trust by default for every namespace of a GitOps repository: reads "
    "netpol-gitops.io/ annotations on Namespace manifests and generates their NetworkPolicies.\n\n"
    "Exit codes: 0 ok, 1 problems in the input (printed as FILE:LINE:COL), 2 usage, "
    "3 internal error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Output(StrEnum):
    yaml = "yaml"
    json = "json"


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
    commands.DEBUG["on"] = debug


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
# the build cache (issue 17): render, check, reach and diff build kustomizations
BuildCacheOpt = Annotated[
    str | None,
    typer.Option(
        "--build-cache",
        metavar="DIR",
        envvar="NETPOL_GITOPS_BUILD_CACHE",
        show_envvar=True,
        help="Keep each built kustomization in DIR, keyed by kustomize's version and every file "
        "the build reads: an unchanged one is not built again. DIR must be outside the "
        "repository being read.",
    ),
]


def _build_cache(directory: str | None, repo: str | None = None) -> None:
    from netpol_gitops.adapters import build_cache  # noqa: PLC0415

    build_cache.configure(directory)
    if repo is not None:  # diff: the work tree the revisions come from
        from netpol_gitops.adapters.inputs import repo_root  # noqa: PLC0415

        build_cache.refuse_inside(repo_root(Path(repo)))


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
    build_cache: BuildCacheOpt = None,
) -> None:
    """Print the input objects unchanged, in their order, then the generated NetworkPolicies
    sorted by namespace and name.

    Examples:

      netpol-gitops render examples/three-tier/

      kubectl kustomize overlays/prod | netpol-gitops render -

      netpol-gitops render overlays/prod/ --only-generated -o json
    """
    _build_cache(build_cache)
    commands.render(path, config, output is Output.json, only_generated)


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
    raise typer.Exit(commands.krm())


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
    commands.argocd_generate()


@argocd_app.command("discover")
def argocd_discover() -> None:
    """Print the file that makes this app directory ours (a .netpol-gitops.yaml, or YAML that
    contains the netpol-gitops.io/ prefix) and exit 0; print nothing if there is none. Argo CD
    matches the plugin only on non-empty output, so other apps are never captured."""
    from netpol_gitops.adapters.argocd import discover, repo_root  # noqa: PLC0415

    here = Path.cwd()
    found = discover(here, repo_root(here, os.environ.get("ARGOCD_APP_SOURCE_PATH")))
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
            help="Also write comment.md (fits a comment), summary.md (fits a job summary), "
            "report.md (everything), report.json "
            "and report.txt there.",
        ),
    ] = None,
    build_cache: BuildCacheOpt = None,
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
    from netpol_gitops.adapters.review import review, write_reports  # noqa: PLC0415
    from netpol_gitops.output.report import report_json, to_text  # noqa: PLC0415
    from netpol_gitops.output.report_markdown import to_markdown  # noqa: PLC0415

    _build_cache(build_cache, repo)
    result = review(repo, base, head, path or [], config)
    if report_dir:
        write_reports(result, report_dir, limit)
    if output is DiffOutput.md:
        sys.stdout.write(to_markdown(result, limit))
    else:
        sys.stdout.write(report_json(result) if output is DiffOutput.json else to_text(result))
    if fail_on is FailOn.unprotected and result.regressions:
        typer.echo(f"netpol-gitops: less protection in: {', '.join(result.regressions)}", err=True)
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
    author: Annotated[
        str,
        typer.Option(
            "--author",
            metavar="LOGIN",
            help="The login the token comments as: only its own marked comment is updated "
            "(a GitHub App's 'name[bot]', or a PAT's user).",
        ),
    ] = "github-actions[bot]",
) -> None:
    """Post or update the one netpol-gitops comment on the pull request.

    Reads GITHUB_API_URL (default https://api.github.com), GITHUB_REPOSITORY, GITHUB_TOKEN and
    the PR number from GITHUB_EVENT_PATH. Adds the hidden marker to the body; updates the marked
    comment written by --author, else creates one (a refused update creates one too). When
    creating is refused (a read-only token: pull requests from forks) the body goes to the job
    summary instead, with a notice, and the exit is 0. The full report is always appended to
    GITHUB_STEP_SUMMARY when that is set.
    """
    from netpol_gitops.adapters.github import post_comment  # noqa: PLC0415

    typer.echo(post_comment(body_file, summary_file, pr, os.environ, author), nl=False)


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
    from netpol_gitops.adapters.github import write_outputs  # noqa: PLC0415

    sys.stdout.write(write_outputs(report, os.environ))


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
    build_cache: BuildCacheOpt = None,
) -> None:
    """Findings a platform team gates merges on, each with a rule id, severity and location.

    Rules: no-default-deny, egress-without-dns, half-open-flow (a flow the other namespace's
    deny blocks), selector-matches-nothing, unresolved-named-port (a named port no destination
    pod declares), redundant-policy and name-clash (hand-written
    policies), stale-generated-policy (labelled as generated but not what the generator makes
    now), deny-breaks-existing (the generated policies block what hand-written ones allow),
    unmanaged-namespace (workloads without a Namespace manifest), overridden-allow and
    undecidable-peer (cluster policies: AdminNetworkPolicy, BaselineAdminNetworkPolicy,
    ClusterNetworkPolicy), and the invalid-* problems render reports. Every format prints a
    whole document, with input problems as findings.

    Examples:

      netpol-gitops check clusters/prod

      netpol-gitops check . --format sarif > netpol-gitops.sarif
    """
    from netpol_gitops.adapters.pipeline import checked  # noqa: PLC0415
    from netpol_gitops.checks.rules import at_or_above  # noqa: PLC0415
    from netpol_gitops.model.severity import Severity  # noqa: PLC0415
    from netpol_gitops.output.problems import RENDERERS  # noqa: PLC0415

    _build_cache(build_cache)
    found = checked(path, config)
    sys.stdout.write(RENDERERS[output_format.value](found))
    if fail_on is not Level.never and at_or_above(found, Severity(fail_on.value)):
        raise typer.Exit(1)


class AdoptOutput(StrEnum):
    text = "text"
    json = "json"


@app.command()
def adopt(
    path: PathArg,
    config: ConfigOpt = None,
    output: Annotated[
        AdoptOutput,
        typer.Option("--output", "-o", help="text (annotation blocks) or json."),
    ] = AdoptOutput.text,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write the proven annotations into the Namespace manifests, in place (only "
            "that document changes), or create namespace-NAME.yaml beside PATH. Deletes nothing.",
        ),
    ] = False,
) -> None:
    """Propose annotations that replace a namespace's hand-written NetworkPolicies, proven to
    allow exactly the same connections.

    For each namespace with hand-written NetworkPolicies: the default deny their policyTypes
    imply, one flow per rule and peer, flows that keep open the workloads no policy isolated,
    allow-dns and allow-same-namespace off. Then the proof: the repository analysed with the
    hand-written policies and with the annotations instead (rendered again) must give the same
    connections for every (source, destination) pair; a namespace whose proposal differs is
    shown with the pairs that differ, and nothing is proposed for it. Policies the vocabulary
    cannot say (matchExpressions, an item of a List) are kept as written and listed. The
    policies a proposal replaces are listed for you to remove: adopt never deletes.

    Exit 0 when every proposal is proven (or there is nothing to adopt); 1 when a namespace
    could not be proven, or on an input problem.

    Examples:

      netpol-gitops adopt apps/

      netpol-gitops adopt apps/ --write && git diff
    """
    from pathlib import Path  # noqa: PLC0415

    from netpol_gitops.adapters.adopt_write import write as write_files  # noqa: PLC0415
    from netpol_gitops.adapters.pipeline import adopted  # noqa: PLC0415
    from netpol_gitops.adopt.propose import summary  # noqa: PLC0415
    from netpol_gitops.output.adopted import to_json, to_text  # noqa: PLC0415

    if write and path == "-":
        raise typer.BadParameter(
            "needs files to write into, not a stream on stdin", param_hint="--write"
        )
    proposals = adopted(path, config)
    written = write_files(proposals, Path(path)) if write else []
    sys.stdout.write((to_json if output is AdoptOutput.json else to_text)(proposals))
    for file in written:
        sys.stderr.write(f"wrote {file}\n")
    _, unproven = summary(proposals)
    if unproven:
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
            "--focus",
            metavar="PEER",
            help="Only connections from or to this peer, in any form reach prints: a namespace, "
            "NS/NAME, NS/NAME[Kind] or an IP range (A-B[External]). Exit 1 when it matches "
            "nothing.",
        ),
    ] = None,
    build_cache: BuildCacheOpt = None,
) -> None:
    """Who can reach whom: every allowed connection between workloads (Pod, Deployment,
    StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob) and external IP
    ranges, under Kubernetes NetworkPolicy semantics and the cluster policy tiers around it
    (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy).

    Examples:

      netpol-gitops reach examples/three-tier/ --generate

      netpol-gitops reach cluster-dump.yaml --focus my-app/backend -o md
    """
    from netpol_gitops.adapters.pipeline import analysis, focused  # noqa: PLC0415
    from netpol_gitops.output.connections import RENDERERS, span_lines, txt_lines  # noqa: PLC0415

    _build_cache(build_cache)
    analysed = analysis(path, config, generate=generate)  # every problem before any output
    for warning in analysed.topo.warnings:  # what the analysis skipped (nodes, domainNames)
        typer.echo(warning.line(), err=True)
    if output is ReachOutput.txt and not focus:  # streamed: can run to millions of lines
        sys.stdout.writelines(span_lines(analysed.iter_spans()))
        return
    conns = analysed.iter_connections()
    if focus:
        conns = focused(analysed, conns, focus)
    if output is ReachOutput.txt:
        sys.stdout.writelines(txt_lines(conns))
    else:
        sys.stdout.write(RENDERERS[output.value](list(conns)))


class Hook(StrEnum):
    none = "none"
    argocd = "argocd"


@app.command()
def probe(
    path: PathArg,
    config: ConfigOpt = None,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate", help="Probe the input plus the policies netpol-gitops would generate."
        ),
    ] = False,
    hook: Annotated[
        Hook,
        typer.Option(
            "--hook",
            help="argocd: Argo CD PostSync hooks (a failing probe fails the sync; the canary "
            "runs first).",
        ),
    ] = Hook.none,
    image: Annotated[
        str,
        typer.Option(
            "--image",
            help="The probe image: agnhost (its `connect`), or any image with /bin/sh and "
            "`nc -z -w` (busybox).",
        ),
    ] = "registry.k8s.io/e2e-test-images/agnhost:2.53",
    external: Annotated[
        str,
        typer.Option(
            "--external-address",
            metavar="IPV4",
            help="Where probes of internet egress connect (TCP 443 when allowed).",
        ),
    ] = "1.1.1.1",
    output: Annotated[
        Output, typer.Option("--output", "-o", help="yaml stream or a json list.")
    ] = Output.yaml,
) -> None:
    """Print manifests that prove in a live cluster what `reach` says: first an enforcement
    canary (a pair the policies deny; if it connects, the CNI does not enforce NetworkPolicy),
    then one Job per (source, destination) pair a policy admits, connecting on each allowed
    TCP port the destination declares, and one Job per protected namespace connecting where its
    policies deny. Each Job runs in the source's namespace with the source workload's labels;
    a destination is reached through a Service of the input that selects it, or a probe-only
    headless Service printed first. What cannot be probed is listed on stderr.

    Examples:

      netpol-gitops probe examples/three-tier/ --generate | kubectl apply -f -

      netpol-gitops probe apps/ --generate --hook argocd > apps/probes.yaml
    """
    import ipaddress  # noqa: PLC0415

    from netpol_gitops.adapters.probes import probed  # noqa: PLC0415
    from netpol_gitops.probe.manifests import Options  # noqa: PLC0415
    from netpol_gitops.yaml.emit import dump_json, dump_objects  # noqa: PLC0415

    try:
        ipaddress.IPv4Address(external)
    except ValueError:
        raise typer.BadParameter(
            f"expected an IPv4 address; got {external!r}", param_hint="--external-address"
        ) from None
    options = Options(image, None if hook is Hook.none else hook.value)
    found = probed(path, config, generate=generate, options=options, external=external)
    out = dump_json(found.objects) if output is Output.json else dump_objects(found.objects)
    sys.stdout.write(out)
    for note in found.notes:
        typer.echo(f"netpol-gitops: probe: {note}", err=True)


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
    commands.prepare()
    app()


if __name__ == "__main__":
    main()
