"""Going back from a lock to an environment: index hashes and restore (start processes)."""
