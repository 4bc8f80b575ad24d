"""`status`'s lines for the `[groups]` tables, under the process table: each group's strategy,
its restarts against its intensity, and its last action (one line for all the members a
restart or an end concerned)."""

from __future__ import annotations

from typing import Any


def group_lines(groups: list[dict[str, Any]]) -> list[str]:
    lines = []
    for group in groups:
        what = [f"{group['strategy']} of {', '.join(group['services'])}"]
        if group.get("intensity") is not None:
            what.append(
                f"{group['restarts']}/{group['intensity']} restarts in {group['period']:g}s"
            )
        if group.get("significant"):
            what.append(f"ends on {group['ends_when']} of {', '.join(group['significant'])}")
        if group.get("ended"):
            what.append(f"ENDED: {group['ended']}")
        lines.append(f"group {group['name']}: {'; '.join(what)}")
        last = group.get("last")
        if last and last["action"] == "restart":
            lines.append(f"  last restart: {', '.join(last['members'])} ({last['cause']})")
    return lines
