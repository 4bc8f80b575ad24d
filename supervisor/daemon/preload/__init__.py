"""The supervisor's side of preloading: templates started and replaced, processes forked
from them and watched as any other child (see docs/guides/preloading.md)."""
