"""Workloads + policies -> who can reach whom. Pure."""
