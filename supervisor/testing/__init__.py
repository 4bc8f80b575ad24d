"""Helpers for testing a stack from the outside: start it, read its events, wait on them."""
