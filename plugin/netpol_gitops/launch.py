"""The console script. Argo CD starts `argocd generate` once per app and commit, kustomize starts
`krm` once per build: typer's import (and pydantic's, which it builds its parameters with) cost
more than the work on a one-namespace app. Those commands and `render` are parsed here without
typer when their arguments take one of their plain forms; anything else (usage errors, --help,
every other command) goes to cli.py, which stays the one definition of the command line.
tests/unit/test_launch.py runs both on the same arguments and requires the same output.

`--help` (and the usage without arguments, which prints the help) is printed from helptext.py,
typer's own output pre-rendered at the width it uses when stdout is no terminal (78 columns of
text), in the cases where typer would print exactly that; tests/unit/test_helptext.py
regenerates it from typer and requires the same bytes."""

from __future__ import annotations

import _thread
import gc
import os
import sys
import types

TYPE_CHECKING = False  # typing's, without importing typing and collections at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PROG = "netpol-gitops"  # the console script: click names the program after it in the usage line


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
    # each command's modules are imported here, before main() freezes what the imports made
    if args == ["krm"]:
        from netpol_gitops.adapters import krm  # noqa: F401, PLC0415

        return commands.krm
    if args == ["argocd", "generate"]:
        from netpol_gitops.adapters import argocd  # noqa: F401, PLC0415

        return commands.argocd_generate
    if args[0] == "render":
        from netpol_gitops.adapters import pipeline  # noqa: F401, PLC0415

        return _render(args[1:])
    return None


def help_for(argv: list[str]) -> tuple[str, bool] | None:
    """What typer prints for ``argv`` when it asks for help: the text, and whether typer shows
    it as a usage error (on stderr, exit 2: the program or a group named without a command).
    None for any other argv, and when typer would wrap its help at another width or name the
    program otherwise: typer decides then."""
    from netpol_gitops.helptext import GROUPS, TEXTS  # noqa: PLC0415

    path = tuple(argv)
    if path[-1:] == ("--help",) and path[:-1] in TEXTS:
        found = TEXTS[path[:-1]], False
    elif path in GROUPS:
        found = TEXTS[path], True
    else:
        return None
    return found if _columns() >= 80 and _program() == PROG else None


def _columns() -> int:
    """The columns shutil.get_terminal_size() reports, without importing shutil: COLUMNS when
    it is a positive number, else stdout's terminal, else 80. Click wraps help text at
    min(columns, 80) - 2: the pre-rendered texts hold for 80 columns and more."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            stdout = sys.__stdout__  # None (no stdout at all): AttributeError, as in shutil
            columns = os.get_terminal_size(stdout.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns


def _program() -> str | None:
    """The program name click gives the usage line when it is the script's file name (not
    ``python -m ...``); None otherwise."""
    main = sys.modules.get("__main__")
    if getattr(main, "__package__", None) in (None, ""):
        return os.path.basename(sys.argv[0])  # noqa: PTH119 - click's own call; no pathlib here
    return None


class _Deferred(types.ModuleType):
    """A module that is imported on its first use: it stands in sys.modules for the real one
    until an attribute is asked for, then imports it (once, under a lock: threads may ask at
    the same time) and answers for it from then on."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._lock = _thread.RLock()

    def __getattr__(self, attr: str) -> Any:
        with self._lock:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            __import__(self.__name__)
        return getattr(sys.modules[self.__name__], attr)


def defer(name: str) -> None:
    """Import ``name`` on its first use rather than where it is imported. For `inspect`:
    dataclasses imports it (with ast, dis and tokenize: 7 % of the instructions of a
    one-namespace render) only to write a docstring for a dataclass that has none, and every
    dataclass of netpol-gitops has one."""
    if name not in sys.modules:
        sys.modules[name] = _Deferred(name)


def main() -> None:
    shown = help_for(sys.argv[1:])
    if shown is not None:
        text, usage = shown
        (sys.stderr if usage else sys.stdout).write(text)
        sys.exit(2 if usage else 0)
    # Start-up: the imports make tens of thousands of objects (modules, classes, functions) that
    # live until the exit. No collection runs while they are made, and gc.freeze() then moves
    # them out of every later collection's way, the one at the exit included (9 % of the
    # instructions of a one-namespace render). Cycles made later are collected as ever.
    gc.disable()
    defer("inspect")
    try:
        run = fast(sys.argv[1:])
        if run is None:
            from netpol_gitops.cli import main as full  # noqa: PLC0415
        gc.freeze()
    finally:
        gc.enable()
    if run is None:
        full()
        return
    from netpol_gitops.adapters import commands  # noqa: PLC0415

    commands.prepare()
    sys.exit(commands.guarded(run))


if __name__ == "__main__":
    main()
