"""What the attack tests share: a listener on 127.0.0.1 that records every connection, a marker
that a command would touch if anything from the repository ran, the real entry points."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
NETPOL = str(BIN / "netpol-gitops")


@dataclass
class Listener:
    port: int
    connections: list[str] = field(default_factory=list)


@contextmanager
def listener() -> Iterator[Listener]:
    """A TCP server on 127.0.0.1 (a free port) that counts who connects, for as long as the
    block runs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    seen = Listener(server.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            seen.connections.append(f"{addr[0]}:{addr[1]}")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(2)
        server.close()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> Result:
    """The installed console script, as a user or the Action runs it."""
    done = subprocess.run(
        [NETPOL, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def refused(result: Result, *needles: str) -> None:
    """Exit 1, nothing on stdout, one located line per problem, no traceback, every needle."""
    assert result.code == 1, result
    assert result.stdout == "", result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def flagged(result: Result, *needles: str) -> None:
    """``check``: exit 1, the findings on stdout naming every needle, no traceback."""
    assert result.code == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stdout, (needle, result.stdout)
