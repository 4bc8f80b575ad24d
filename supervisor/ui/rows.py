"""The process table of `supervisor ui` as plain data: what each line says, in which column.

Pure (no terminal, no socket): a `status` reply in, service headers and process rows out,
so the screen only lays them out and a test reads them without one.  Ages are the reply's
plus the seconds since it was fetched, so the table ticks between events without asking the
supervisor again.  A service of several processes has a header that sums them up
(`cinder-volume (2/2 running)`) and can be folded to that one line.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from supervisor.cli.statusview import duration, size

# (title, width); the last column, STATUS, takes what is left of the line.
COLUMNS = (
    ("NAME", 21),
    ("STATE", 8),
    ("RDY", 3),
    ("RST", 3),
    ("EXIT", 7),
    ("UP", 6),
    ("PID", 7),
    ("CPU", 5),
    ("MEM", 5),
    ("STATUS", 0),
)
# States that want an operator's eye: capitals too, so they stand out without colour.
ALARMING = frozenset({"backoff", "fatal", "blocked"})
# Where a state is still changing on its own (the supervisor will move it on).
MOVING = frozenset({"starting", "waiting", "stopping", "backoff"})


# Services of more processes than this start folded: a screen of one service's workers
# says less than its header does.
FOLD_ABOVE = 12
FOLDED_MARK = " [folded]"


@dataclass(frozen=True)
class ServiceLine:
    service: str
    count: int
    text: str  # `api`, `api (2/2 running)`, `api (1/2 running, 1 BACKOFF) [folded]`
    folded: bool = False

    @property
    def foldable(self) -> bool:
        return self.count > 1


def service_summary(service: str, states: list[str], *, colour: bool, folded: bool = False) -> str:
    """The header of a service: its name; with several processes, how many run and what the
    others do, in order of how many."""
    if len(states) <= 1:
        return service
    counts = Counter(states)
    running = counts.pop("running", 0)
    others = "".join(
        f", {count} {state_text(state, colour=colour)}" for state, count in counts.most_common()
    )
    return f"{service} ({running}/{len(states)} running{others})" + (FOLDED_MARK if folded else "")


@dataclass(frozen=True)
class ProcessLine:
    name: str
    service: str
    state: str
    cells: tuple[str, ...]  # one per COLUMNS, the state's cell as `state_text` has it


def state_text(state: str, *, colour: bool) -> str:
    """The state as shown: with colour the word itself; without, the alarming ones in capitals."""
    return state.upper() if not colour and state in ALARMING else state


def last_exit_text(last: dict[str, Any] | None) -> str:
    """`SIGKILL`, `exit 1`, or `-` before the first exit."""
    if not last:
        return "-"
    sent = last.get("signal")
    if isinstance(sent, str):
        return sent  # the supervisor names it: SIGKILL
    if sent:
        try:
            return signal.Signals(sent).name
        except ValueError:
            return f"sig {sent}"
    return f"exit {last.get('code')}"


def _later(seconds: float | None, elapsed: float) -> float | None:
    return None if seconds is None else seconds + elapsed


def process_line(process: dict[str, Any], *, colour: bool, elapsed: float = 0.0) -> ProcessLine:
    running = process.get("pid") is not None
    cells = (
        process["name"],
        state_text(process["state"], colour=colour),
        "yes" if process.get("ready") else "no",
        str(process.get("restarts", 0)),
        last_exit_text(process.get("last_exit")),
        duration(_later(process.get("uptime"), elapsed) if running else None),
        str(process.get("pid") or "-"),
        duration(process.get("cpu")),
        size(process.get("memory")),
        process.get("status_text") or "",
    )
    return ProcessLine(process["name"], process["service"], process["state"], cells)


def by_service(processes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The processes of each service, the services in the order they first appear (start
    order)."""
    services: dict[str, list[dict[str, Any]]] = {}
    for process in processes:
        services.setdefault(process["service"], []).append(process)
    return services


def table_lines(
    processes: list[dict[str, Any]],
    *,
    colour: bool,
    elapsed: float = 0.0,
    folded: Collection[str] = (),
) -> Iterator[ServiceLine | ProcessLine]:
    """A header per service, then its processes unless it is in `folded`."""
    for service, members in by_service(processes).items():
        fold = service in folded and len(members) > 1
        states = [member["state"] for member in members]
        text = service_summary(service, states, colour=colour, folded=fold)
        yield ServiceLine(service, len(members), text, fold)
        if not fold:
            for process in members:
                yield process_line(process, colour=colour, elapsed=elapsed)


def fit(text: str, width: int) -> str:
    """`text` in `width` columns: padded, or cut with a `~` where it was cut."""
    if width <= 0:
        return text
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "~"
