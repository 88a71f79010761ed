"""Frozen records and enums every floor shares: intents, config, locations, severities,
Kubernetes constants, port sets and connections. No I/O."""
