"""The files a template imported, as they were when it imported them: a code change on disk
is never silently ignored by a fork (see docs/guides/preloading.md)."""

from __future__ import annotations

import os
import sys


class ModuleFiles:
    """(mtime_ns, size) of the file of every module in sys.modules, taken as it loads."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._files: list[tuple[str, int, int]] = []

    def __len__(self) -> int:
        return len(self._files)

    def refresh(self) -> None:
        """Take the modules imported since the last refresh."""
        for name, module in list(sys.modules.items()):
            if name in self._known:
                continue
            self._known.add(name)
            path = getattr(module, "__file__", None)
            if not isinstance(path, str):
                continue  # built in, frozen, or a namespace package
            try:
                stat = os.stat(path)
            except OSError:
                continue
            self._files.append((path, stat.st_mtime_ns, stat.st_size))

    def changed(self) -> str | None:
        """The first file that changed (or went) since it was imported, or None."""
        for path, mtime, size in self._files:
            try:
                stat = os.stat(path)
            except OSError:
                return f"{path} was removed since the template imported it"
            if stat.st_mtime_ns != mtime or stat.st_size != size:
                return f"{path} changed on disk since the template imported it"
        return None
