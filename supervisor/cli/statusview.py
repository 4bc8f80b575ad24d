"""`supervisor status` as a table people read at a glance.

A STATUS column (what a process last sent as `STATUS=`) comes before CAUSE, and only when some
process sent one: a stack without notify services keeps its narrower table."""

from __future__ import annotations

from typing import Any

_STATE_COLOURS = {
    "running": 32,
    "starting": 33,
    "waiting": 33,
    "backoff": 33,
    "stopping": 33,
    "fatal": 31,
    "blocked": 31,
}
_COLUMNS = (
    "NAME",
    "STATE",
    "AGE",
    "PID",
    "UPTIME",
    "RESTARTS",
    "LAST EXIT",
    "READY",
    "HEARTBEAT",
    "CPU",
    "MEMORY",
    "CAUSE",
)


def duration(seconds: float | None) -> str:
    """3s, 4m05s, 2h03m, 3d04h: short and sortable by eye."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{seconds:.1f}s" if seconds < 10 else f"{secs}s"


def size(octets: int | None) -> str:
    """812K, 45.2M, 1.3G: a cgroup's memory at a glance."""
    if octets is None:
        return "-"
    units = "BKMGT"
    value, index = float(octets), 0
    while value >= 1024 and index < len(units) - 1:
        value /= 1024
        index += 1
    return f"{value:.1f}{units[index]}" if index and value < 10 else f"{value:.0f}{units[index]}"


def _last_exit(process: dict[str, Any]) -> str:
    """The last exit; for a `fatal` process also the reason it gave on its way out (its last
    STATUS=), which its exit status alone cannot say: "exit status 78: no device-mapper"."""
    last = process["last_exit"]
    if not last:
        return "-"
    said = last.get("status_text")  # a supervisor from before it sends none
    if said and process["state"] == "fatal":
        return f"{last['description']}: {said}"
    return last["description"]


def _row(process: dict[str, Any], *, with_status: bool) -> list[str]:
    status_text = [process.get("status_text") or "-"] if with_status else []
    return [
        process["name"],
        process["state"],
        duration(process["age"]),
        str(process["pid"] or "-"),
        duration(process["uptime"]),
        str(process["restarts"]),
        _last_exit(process),
        "yes" if process["ready"] else "no",
        duration(process["heartbeat_age"]),
        # Only under cgroup containment; a supervisor from before it sends neither.
        duration(process.get("cpu")),
        size(process.get("memory")),
        *status_text,
        process["cause"],
    ]


def template_lines(templates: list[dict[str, Any]]) -> list[str]:
    """One line per preload template, under the table: what the forks come from."""
    lines = []
    for template in templates:
        modules = template.get("modules")
        what = [f"pid {template['pid']}", template["state"]]
        if modules is not None:
            what.append(f"{modules} modules")
        what.append(f"{template.get('forks', 0)} forks")
        if template.get("replaced"):
            what.append(f"replaced {template['replaced']}x, last: {template['replaced_because']}")
        if template.get("error"):
            what.append(template["error"])
        lines.append(f"template {template['name']}: {', '.join(what)}")
    return lines


def status_table(processes: list[dict[str, Any]], *, colour: bool = False) -> str:
    with_status = any(process.get("status_text") for process in processes)
    columns = [*_COLUMNS[:-1], "STATUS", _COLUMNS[-1]] if with_status else list(_COLUMNS)
    rows = [columns, *(_row(process, with_status=with_status) for process in processes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        state_colour = _STATE_COLOURS.get(row[1]) if index else None
        if colour and state_colour:
            cells[1] = f"\x1b[{state_colour}m{cells[1]}\x1b[0m"
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)
