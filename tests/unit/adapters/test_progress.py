"""The progress line appears on a terminal, never in a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.helpers import cli


def many_files(tmp_path: Path, n: int = 300) -> Path:
    for i in range(n):
        (tmp_path / f"cm{i:03d}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"
        )
    return tmp_path


def test_progress_on_a_terminal_stderr(tmp_path: Path) -> None:
    directory = many_files(tmp_path)
    leader, follower = pty.openpty()
    exe = Path(sys.executable).with_name("netpol-gitops")
    done = subprocess.run(
        [str(exe), "render", str(directory)],
        stdout=subprocess.PIPE,
        stderr=follower,
        check=False,
        timeout=60,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert done.returncode == 0
    assert f"reading {directory} ".encode() in seen and b"/300" in seen
    assert seen.endswith(b"\r\x1b[K")  # erased when done
    assert b"reading" not in done.stdout


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    run = cli("render", str(many_files(tmp_path)))
    assert run.code == 0
    assert run.stderr == ""
