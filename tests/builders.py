"""Builders the tests share: temporary git repositories and the manifests they commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

NS = """apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  annotations:
    netpol-gitops.io/default-deny: all
    netpol-gitops.io/flows: |
{flows}"""
FLOW = """      - name: {name}
        from: {{pods: {{app: web}}}}
        to: {{pods: {{app: api}}}}
        ports: [{port}]
"""
APPS = """apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {ns}, labels: {{app: web}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: api, namespace: {ns}, labels: {{app: api}}}}
"""
CONFIG = """apiVersion: netpol-gitops.io/v1alpha1
kind: NetworkPolicyGenerator
spec:
  optIn: true
"""


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "t@example.com")
        self.git("config", "user.name", "t")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}
        done = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, check=True, env=env
        )
        return done.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, "--allow-empty")
        return self.git("rev-parse", "HEAD")


def shop_repo(path: Path) -> Repo:
    """A repository whose one commit holds namespace shop (web -> api on 8080) and its pods."""
    r = Repo(path)
    r.write(".netpol-gitops.yaml", CONFIG)
    r.write(
        "apps/shop/ns.yaml",
        NS.format(name="shop", flows=FLOW.format(name="web-to-api", port="8080")),
    )
    r.write("apps/shop/pods.yaml", APPS.format(ns="shop"))
    r.commit("base")
    return r


SHOP_PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}
"""
# the team's own policy: api accepts web on 8080; nothing restricts egress
API_FROM_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 8080}]
"""
