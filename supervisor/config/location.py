"""Where the supervisor of a services file keeps its socket, logs and events.

A client command (`status`, `stop`, `logs`, ...) needs only this of the file, so it reads the
one key and never loads the reader or builds a plan.
"""

from __future__ import annotations

import os
from pathlib import Path

from supervisor.config.tomlfile import read

DEFAULT_STATE_DIR = ".supervisor"


def state_dir_of(path: str | os.PathLike[str]) -> Path:
    """Where the supervisor of this file keeps its socket, judging nothing else in the file."""
    text, document = read(path)
    main = document.get("supervisor", {})
    state_dir = main.get("state_dir", DEFAULT_STATE_DIR) if isinstance(main, dict) else None
    if isinstance(state_dir, str) and "$" in state_dir:
        # Only a state_dir with a variable in it needs the reader and the env files.
        from supervisor.config.interpolate import interpolated_string, read_env_files
        from supervisor.config.schema import TableReader
        from supervisor.config.source import SourceMap

        root = TableReader.root(document, SourceMap(text), [])
        state_dir = interpolated_string(
            state_dir, read_env_files(root, Path(path).parent).variables()
        )
    if not isinstance(state_dir, str):
        state_dir = DEFAULT_STATE_DIR
    return Path(path).resolve().parent / state_dir
