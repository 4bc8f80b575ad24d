"""The stack's own managers, named by the default `<subtopic>_manager` options."""
