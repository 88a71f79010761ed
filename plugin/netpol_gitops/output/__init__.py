"""Every renderer and all escaping: problems, connections, the PR report."""
