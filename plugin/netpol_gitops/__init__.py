"""netpol-gitops: generate zero-trust NetworkPolicies from Namespace annotations."""

__version__ = "0.1.0"
