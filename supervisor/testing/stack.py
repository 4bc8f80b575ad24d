"""A stack under test: a real `supervisor run`, driven and observed from a test (the stack
driver `chaos` uses too)."""

from supervisor.tools.stackdriver.stack import STACK_MARKER, Events, Stack, write_test_config

__all__ = ["STACK_MARKER", "Events", "Stack", "write_test_config"]
