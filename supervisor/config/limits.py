"""The limits of an accepted services file: name syntax and the ranges of numbers.

`rules.py` explains them and checks them; the schema reader applies the ranges as it reads.
"""

from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# A process's stderr, kept apart, is written to `<name>.err.log`: a name ending in `.err` would
# take another process's stderr file for its own log.
RESERVED_SUFFIX = ".err"
NAME_RULE = (
    "expected 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
    " and not ending in '.err' ('@' and '#' separate backends and workers)"
)

# Every duration in seconds: no timer of a supervisor needs more than a day, and a larger value
# is almost always a unit slip (milliseconds written as seconds).
MAX_SECONDS = 86_400.0
MAX_PROCESSES = 1_000  # workers, or backends, of one service: thousands, never billions
MAX_FACTOR = 10.0  # backoff growth per restart; x10 reaches a day from 0.1 s in 6 restarts
MAX_BURST = 1_000
MAX_LOG_BYTES = 1 << 40  # 1 TiB per log file
MAX_LOG_BACKUPS = 1_000
MAX_PROBE_FAILURES = 1_000  # failed probe runs in a row before the verdict
MAX_OPTION_DEPTH = 32  # [options] values are handed to every manager as JSON
