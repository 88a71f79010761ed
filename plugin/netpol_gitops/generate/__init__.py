"""Annotations + config -> intents -> NetworkPolicies; the render pipeline; schemas. Pure."""
