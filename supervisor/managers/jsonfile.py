"""JSON documents that other processes read while they are being replaced."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomically(path: Path, document: Any) -> None:
    """Write `document` to a hidden file beside `path`, then rename it over `path`.

    A reader sees the previous document or the new one, never half of one.  Readers that scan
    the directory should skip names starting with a dot: those are documents not yet in place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as stream:
            json.dump(document, stream, separators=(",", ":"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
