"""Pure decisions: restarts, backoff, start limits, the group's exit status."""
