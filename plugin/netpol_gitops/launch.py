"""The console script. Argo CD starts `argocd generate` once per app and commit, kustomize starts
`krm` once per build: typer's import (and pydantic's, which it builds its parameters with) cost
more than the work on a one-namespace app. Those commands and `render` are parsed here without
typer when their arguments take one of their plain forms; anything else (usage errors, --help,
every other command) goes to cli.py, which stays the one definition of the command line.
tests/unit/test_launch.py runs both on the same arguments and requires the same output."""

from __future__ import annotations

import sys
from collections.abc import Callable


def _render(args: list[str]) -> Callable[[], int] | None:
    """render's plain forms: PATH with -c/--config FILE, -o/--output yaml|json and
    --only-generated, each at most once; None for anything else."""
    path: str | None = None
    options: dict[str, str] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name in ("-c", "--config", "-o", "--output") and (eq or rest):
            key = "config" if name in ("-c", "--config") else "output"
            if key in options or (eq and name.startswith("-") and not name.startswith("--")):
                return None
            options[key] = value if eq else rest.pop(0)
            if options[key].startswith("-") and options[key] != "-":
                return None  # click may read it as an option: let it decide
        elif arg == "--only-generated" and "only" not in options:
            options["only"] = ""
        elif path is None and (arg == "-" or not arg.startswith("-")):
            path = arg
        else:
            return None
    if path is None or options.get("output", "yaml") not in ("yaml", "json"):
        return None
    from netpol_gitops.adapters import commands  # noqa: PLC0415

    config, as_json, only = (
        options.get("config"),
        options.get("output") == "json",
        "only" in options,
    )
    return lambda: commands.render(path, config, as_json, only)


def fast(argv: list[str]) -> Callable[[], int] | None:
    """The command for ``argv`` (without the program) when it is one of the plain forms of
    render, krm or argocd generate; None otherwise (cli.py parses it)."""
    args = list(argv)
    debug = bool(args) and args[0] == "--debug"
    if debug:
        args.pop(0)
    if not args:
        return None
    from netpol_gitops.adapters import commands  # noqa: PLC0415

    commands.DEBUG["on"] = debug
    if args == ["krm"]:
        return commands.krm
    if args == ["argocd", "generate"]:
        return commands.argocd_generate
    if args[0] == "render":
        return _render(args[1:])
    return None


def main() -> None:
    run = fast(sys.argv[1:])
    if run is None:
        from netpol_gitops.cli import main as full  # noqa: PLC0415

        full()
        return
    from netpol_gitops.adapters import commands  # noqa: PLC0415

    commands.prepare()
    sys.exit(commands.guarded(run))


if __name__ == "__main__":
    main()
