"""A module that fails while being imported, as one with a bug at module level would."""

raise RuntimeError("module-level bug")
