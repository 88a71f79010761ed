"""An emulation of argocd-cmp-server, after its source (cmpserver/plugin/plugin.go):

copy the repository into a fresh temp workdir, set files to 0644 and directories to 0755 (no
preserveFileMode), run discovery (fileName glob, find.glob, or find.command: a match is exit 0
with non-empty stdout), then init and generate as argv (no shell) in the app directory, with the
documented environment, and parse stdout as a YAML/JSON stream.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.helpers import ROOT

PLUGIN_YAML = ROOT / "plugin" / "argocd" / "plugin.yaml"
BIN = Path(sys.executable).parent
DEADLINE = 60  # the repo-server's default exec timeout, for the whole generate


@dataclass
class CmpRun:
    matched: bool
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    objects: list[dict[str, Any]] = field(default_factory=list)


def _modes(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath) / d
            if not p.is_symlink():
                p.chmod(0o755)
        for f in filenames:
            p = Path(dirpath) / f
            if not p.is_symlink():
                p.chmod(0o644)


def _command(
    step: dict[str, Any], app_dir: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A plugin.yaml step (``command`` + ``args``) run as argocd-cmp-server runs it: no shell,
    in the app directory, with the app's environment and the server's timeout."""
    return subprocess.run(
        [*step["command"], *step.get("args", [])],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def _discovered(spec: dict[str, Any], app_dir: Path, env: dict[str, str]) -> bool:
    discover = spec.get("discover") or {}
    if "fileName" in discover:
        return any(app_dir.glob(discover["fileName"]))
    find = discover.get("find") or {}
    if "glob" in find:
        return any(app_dir.glob(find["glob"]))
    if "command" in find:
        done = _command(find, app_dir, env)
        return done.returncode == 0 and done.stdout.strip() != ""
    return False


def cmp_generate(
    repo: Path,
    app_path: str,
    *,
    app_namespace: str = "",
    env_vars: dict[str, str] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    named: bool = False,
) -> CmpRun:
    """Discovery then generate; ``named``: the Application names the plugin, so discovery is not
    consulted (``plugin: {name: netpol-gitops-v0.1.0}``)."""
    spec = YAML(typ="safe").load(PLUGIN_YAML.read_text())["spec"]
    with tempfile.TemporaryDirectory(prefix="cmp-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(repo, work, symlinks=True)
        _modes(work)
        app_dir = work / app_path
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": tmp,
            "ARGOCD_APP_NAME": "test-app",
            "ARGOCD_APP_NAMESPACE": app_namespace,
            "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
            "ARGOCD_APP_REVISION_SHORT": "0123456",
            "ARGOCD_APP_REVISION_SHORT_8": "01234567",
            "ARGOCD_APP_SOURCE_PATH": app_path,
            "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/org/repo.git",
            "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
            "KUBE_VERSION": "1.32.0",
            "KUBE_API_VERSIONS": "v1,apps/v1,networking.k8s.io/v1",
        }
        if "PYTHONPATH" in os.environ:  # a worktree's tests run the worktree's code
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        for key, value in (env_vars or {}).items():
            env[f"ARGOCD_ENV_{key}"] = value
        if parameters is not None:
            env["ARGOCD_APP_PARAMETERS"] = json.dumps(parameters)
            for p in parameters:
                name = "PARAM_" + p["name"].upper().replace("-", "_")
                env[name] = p.get("string", ",".join(p.get("array", [])))
        if not named and not _discovered(spec, app_dir, env):
            return CmpRun(False)
        for step in ("init", "generate"):
            if step not in spec:
                continue
            done = _command(spec[step], app_dir, env)
            if done.returncode != 0:
                return CmpRun(True, done.returncode, done.stdout, done.stderr)
        objects = [d for d in YAML(typ="safe").load_all(done.stdout) if d]
        return CmpRun(True, 0, done.stdout, done.stderr, objects)
