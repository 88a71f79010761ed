"""Base vs head: protection, the semantic connection diff, policy diffs."""
