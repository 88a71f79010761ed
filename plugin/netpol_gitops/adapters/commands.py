"""What the commands Argo CD and kustomize start once per app (render, krm, argocd generate) do
once their options are parsed, and the one error boundary: shared by cli.py (typer) and
launch.py (the start-up path that parses those commands without typer). Each returns its exit
code; output is written only once the work is done, so a failure leaves stdout empty."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from netpol_gitops.errors import Deadline, Failure, NetpolError, Problem
from netpol_gitops.model.location import Location

if TYPE_CHECKING:
    from collections.abc import Callable

DEBUG = {"on": False}  # --debug: tracebacks of internal errors


def prepare() -> None:
    """Before any command: the C parser present (exit 3 without it), and a PATH that never
    finds a program in the working directory (git and kustomize)."""
    from netpol_gitops.adapters.search_path import trusted_path  # noqa: PLC0415
    from netpol_gitops.yaml.document import c_parser_in_use  # noqa: PLC0415

    if not c_parser_in_use():  # pragma: no cover - install-specific
        sys.stderr.write(
            "netpol-gitops: ruamel.yaml.clib (the C YAML parser) is missing; "
            "reinstall with `pip install netpol-gitops`\n"
        )
        sys.exit(3)
    os.environ["PATH"] = trusted_path()  # git (gitpython) and kustomize: never from the checkout


def failed(exc: Exception | Deadline) -> int:
    """The exit code of what a command raised, its message written to stderr. Problems in the
    input: located lines, exit 1. The deadline: exit 1. Anything else is a bug: exit 3, with
    the traceback under --debug."""
    if isinstance(exc, NetpolError):
        return problems(exc.problems)
    if isinstance(exc, Deadline):
        where = str(exc.args[0]) if exc.args else "netpol-gitops"
        return problems([Problem(Location(where), str(exc.args[1]))])
    if isinstance(exc, Failure):
        _err(f"netpol-gitops: {exc}")
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):  # the reader went away (`| head`): say nothing more
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 141  # as a shell reports a pipe closed under a writer (128 + SIGPIPE)
    if isinstance(exc, OSError):  # an unreadable or unwritable path the user named
        where = str(exc.filename) if exc.filename else "netpol-gitops"
        return problems([Problem(Location(where), exc.strerror or str(exc))])
    if DEBUG["on"]:
        import traceback  # noqa: PLC0415 - start-up: only a bug pays for it

        traceback.print_exception(exc)
    _err(
        f"netpol-gitops: internal error: {type(exc).__name__}: {exc} "
        "(rerun with --debug and report it)"
    )
    return 3


def problems(found: list[Problem]) -> int:
    for problem in found:
        _err(problem.line())
    n = len(found)
    _err(f"netpol-gitops: {n} problem{'s' if n != 1 else ''}; nothing written")
    return 1


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def guarded(run: Callable[[], int]) -> int:
    """``run``'s exit code, or what it raised as an exit code (130 when interrupted)."""
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    except (Exception, Deadline) as exc:  # the deadline is no Exception: no handler eats it
        return failed(exc)


def render(path: str, config: str | None, as_json: bool, only_generated: bool) -> int:
    from netpol_gitops.adapters.pipeline import render_warnings, rendered  # noqa: PLC0415

    result = rendered(path, config)  # all problems found before any output
    if as_json:
        sys.stdout.write(result.json(only_generated))
    else:
        sys.stdout.writelines(result.yaml_parts(only_generated))
    for warning in render_warnings(result):
        _err(warning.line())
    return 0


def krm() -> int:
    from netpol_gitops.adapters.krm import run  # noqa: PLC0415

    result = run(sys.stdin.buffer.read(), Path.cwd())
    sys.stdout.writelines(result.chunks())
    for line in result.stderr:
        _err(line)
    return result.exit_code


def argocd_generate() -> int:
    from netpol_gitops.adapters.argocd import deadline, generate  # noqa: PLC0415

    with deadline(os.environ):
        result = generate(Path.cwd(), dict(os.environ))
    sys.stdout.writelines(result.yaml_parts())  # after the deadline: all or nothing
    return 0
