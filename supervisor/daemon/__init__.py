"""The parent: one event loop, its units and their processes."""
