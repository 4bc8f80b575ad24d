"""Managers the runtime tests load by class path, as a user's own managers would be."""
