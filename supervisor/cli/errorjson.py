"""The one shape of an error under `--json`: what a script reads instead of a line on stderr.

`{"error": "<what stderr shows>", "exit_status": N, ...}` on stdout, with the command's usual
exit status; some errors add their details (`problems` for an invalid services file, `unknown`
and `did_you_mean` for unknown names).  stderr still shows the error as without --json, so a
person running `... --json | jq` sees it too.  docs/reference/json.md documents it.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def error_object(message: str, exit_status: int, **details: Any) -> dict[str, Any]:
    return {"error": message, "exit_status": exit_status, **details}


def report_error(message: str, exit_status: int, *, as_json: bool, **details: Any) -> int:
    """The error on stderr and, under --json, as one JSON object on stdout; its exit status."""
    print(message, file=sys.stderr)
    if as_json:
        print(json.dumps(error_object(message, exit_status, **details), indent=2))
    return exit_status


def config_problems(error: Any) -> list[dict[str, Any]]:
    """The problems of a `config.ConfigError`, one object each: where, which key, what."""
    return [
        {
            "file": error.file,
            "line": problem.line,
            "key": problem.key or None,
            "message": problem.message,
            "text": problem.render(error.file),
        }
        for problem in error.problems
    ]
