"""Bytes and processes at the edge: files, the safe kustomize build, KRM, Argo CD, GitHub,
git revisions, progress."""
