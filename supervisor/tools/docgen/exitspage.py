"""docs/reference/exit-statuses.md: every exit status, from `shared.exits`."""

from __future__ import annotations

from itertools import groupby

from supervisor.tools.docgen.exitcodes import ExitStatus, exit_statuses
from supervisor.tools.docgen.markdown import code, page, table

PATH = "docs/reference/exit-statuses.md"

_INTRO = (
    "Every exit status the package gives: the `supervisor` command line's, the supervisor's"
    " own when its group ends, and a service process's, which the supervisor judges it by."
    " Where a number has a meaning elsewhere it keeps it: 2 is a usage error as argparse's,"
    ' 3 is "not running" as systemctl\'s, 124 is timeout(1)\'s, 128 + N is "killed by signal'
    " N\" as a shell reports it, 70 and 78 are sysexits.h's `EX_SOFTWARE` and `EX_CONFIG`."
)


def render() -> str:
    blocks = [_INTRO]
    ungrouped: list[ExitStatus] = []  # before the module's first group (0): in the first table
    for group, statuses in groupby(exit_statuses(), key=lambda status: status.group):
        if not group:
            ungrouped.extend(statuses)
            continue
        blocks.append(f"## {group[0].upper()}{group[1:]}")
        blocks.append(table(("status", "meaning"), _rows([*ungrouped, *statuses])))
        ungrouped = []
    return page("Exit statuses", *blocks)


def _rows(statuses: list[ExitStatus]) -> list[tuple[str, str]]:
    """One row per number, in the module's order: the meanings of the constants that share
    it joined."""
    meanings: dict[int, list[str]] = {}
    for status in statuses:
        meanings.setdefault(status.value, []).append(" ".join(status.meaning.split()))
    return [(code(str(value)), "; ".join(texts)) for value, texts in meanings.items()]
