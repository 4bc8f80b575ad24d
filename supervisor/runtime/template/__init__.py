"""A preload template: one process that imports a runtime and its managers once, then forks
each service process on the supervisor's request (see docs/guides/preloading.md)."""
