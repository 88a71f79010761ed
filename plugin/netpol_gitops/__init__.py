"""netpol-gitops: generate zero-trust NetworkPolicies from Namespace annotations."""

__version__ = "0.1.0"
PREFIX = "netpol-gitops.io/"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "netpol-gitops"
SOURCE_ANNOTATION = PREFIX + "generated-from"
