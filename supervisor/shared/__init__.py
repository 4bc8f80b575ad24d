"""Both sides of the process boundary: the standard library only."""
