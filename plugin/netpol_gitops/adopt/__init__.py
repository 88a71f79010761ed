"""`adopt`: annotations proposed from hand-written NetworkPolicies, proven equivalent."""
