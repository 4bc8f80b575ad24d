"""Crash schedules for the policy simulator: when simulated processes exit, and how.

Two forms, both on the simulator's clock, which starts at 0 when the group starts:

``every N for M [exit X]``
    Run lengths.  Each run of a process exits N seconds after that run started, as long as that
    moment is no later than M (so no exit happens after M; a run that would outlive M keeps
    running).  ``for M`` may be left out: the runs crash for the whole simulation.

``runs L:X, L:X, ...``
    Run lengths, one per start: the first run exits L seconds after it started, with X, the
    second after the next L, and so on; runs after the last keep running.  Unlike absolute
    times, no exit can miss (each belongs to its run), so the same list means the same thing
    to the simulator and to a real process that follows it (`supervisor.testing.schedules`).

``T:X, T:X, ...``
    Absolute times.  At each time T the process running at that moment exits with X.  A time at
    which no process of the unit runs (it waits in backoff, or has ended for good) exits nothing;
    the simulator reports it as ignored.  Times must increase.

Durations are seconds, with an optional unit: ``1.5``, ``1.5s``, ``300ms``, ``2m``, ``1h``.
X is an exit code (``0``..``255``, default ``1``) or a signal that killed the process
(``KILL``, ``SIGKILL``, ``TERM``...).  Note that ``137`` is the exit code 137, as ``exit 137`` in a
shell gives, while ``KILL`` is a death by SIGKILL: the policy treats them alike except for
``success_exit_codes`` and ``prevent_exit_codes``, which only hold exit codes.
"""

from __future__ import annotations

import itertools
import re
import signal
from dataclasses import dataclass

from supervisor.policy.restart import ExitStatus

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_PERIODIC = re.compile(
    r"^\s*every\s+(?P<every>\S+)(?:\s+for\s+(?P<until>\S+))?(?:\s+exit\s+(?P<exit>\S+))?\s*$"
)


class ScheduleError(ValueError):
    pass


def parse_duration(text: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        raise ScheduleError(f"{text.strip()!r} is not a duration (examples: 2, 2s, 300ms, 5m, 1h)")
    number, unit = match.groups()
    return float(number) * _UNITS[unit or "s"]


def parse_exit(text: str) -> ExitStatus:
    text = text.strip()
    if text.isdigit():
        code = int(text)
        if code > 255:
            raise ScheduleError(f"exit code {code} is out of range 0..255")
        return ExitStatus(code=code)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return ExitStatus(signal=signal.Signals[name])
    except KeyError:
        raise ScheduleError(
            f"{text!r} is neither an exit code (0..255) nor a signal name (KILL, TERM...)"
        ) from None


def describe_exit(exit: ExitStatus) -> str:
    return exit.describe().replace("exit status", "exits with status")


@dataclass(frozen=True)
class Periodic:
    """Each run exits `every` seconds after it started, while that is no later than `until`."""

    every: float
    until: float | None
    exit: ExitStatus

    def next_exit(self, started_at: float, run: int = 0) -> tuple[float, ExitStatus] | None:
        when = started_at + self.every
        if self.until is not None and when > self.until:
            return None
        return when, self.exit

    def ignored(self, consumed: set[float], end: float) -> list[tuple[float, ExitStatus]]:
        return []  # every planned exit belongs to a run, so none can miss

    def describe(self) -> str:
        until = f", until {self.until:g}s" if self.until is not None else ""
        return f"each run {describe_exit(self.exit)}, {self.every:g}s after it started{until}"


@dataclass(frozen=True)
class ExitList:
    """Exits at absolute times, each hitting whatever process of the unit runs then."""

    exits: tuple[tuple[float, ExitStatus], ...]

    def next_exit(self, started_at: float, run: int = 0) -> tuple[float, ExitStatus] | None:
        return next(((t, x) for t, x in self.exits if t >= started_at), None)

    def ignored(self, consumed: set[float], end: float) -> list[tuple[float, ExitStatus]]:
        """Planned exits that found no process running (or came after the end)."""
        return [(t, x) for t, x in self.exits if t not in consumed and t <= end]

    def describe(self) -> str:
        listed = ", ".join(f"{t:g}s ({x.describe()})" for t, x in self.exits)
        return f"the running process exits at {listed}"


@dataclass(frozen=True)
class RunList:
    """The length and the end of each run in turn; runs after the last keep running."""

    runs: tuple[tuple[float, ExitStatus], ...]

    def next_exit(self, started_at: float, run: int = 0) -> tuple[float, ExitStatus] | None:
        """`run`: how many runs of the process came before this one."""
        if run >= len(self.runs):
            return None
        length, exit = self.runs[run]
        return started_at + length, exit

    def ignored(self, consumed: set[float], end: float) -> list[tuple[float, ExitStatus]]:
        return []  # every exit belongs to a run, so none can miss

    def describe(self) -> str:
        listed = ", ".join(f"{length:g}s ({x.describe()})" for length, x in self.runs)
        return f"the runs in turn last {listed}; later ones keep running"


Schedule = Periodic | ExitList | RunList


def parse_schedule(text: str) -> Schedule:
    """The `--crashes` value, in one of the two forms of this module's docstring."""
    periodic = _PERIODIC.match(text)
    if periodic is not None:
        every = parse_duration(periodic["every"])
        if every <= 0:
            raise ScheduleError("'every' needs a duration above 0")
        until = parse_duration(periodic["until"]) if periodic["until"] else None
        exit = parse_exit(periodic["exit"]) if periodic["exit"] else ExitStatus(code=1)
        return Periodic(every, until, exit)
    runs = text.strip().startswith("runs ")
    exits: list[tuple[float, ExitStatus]] = []
    for item in filter(
        None, (part.strip() for part in text.strip().removeprefix("runs ").split(","))
    ):
        when, colon, what = item.partition(":")
        if not colon:
            raise ScheduleError(
                f"{item!r}: expected TIME:EXIT (like 1.5:1 or 10:KILL),"
                " or the form 'every 2s for 60s [exit 1]'"
            )
        exits.append((parse_duration(when), parse_exit(what)))
    if runs and exits:
        if any(length <= 0 for length, _ in exits):
            raise ScheduleError("each run of 'runs L:X, ...' needs a length above 0")
        return RunList(tuple(exits))
    if not exits:
        raise ScheduleError("empty schedule: give 'every 2s for 60s' or a list like '1.5:1, 3:137'")
    times = [when for when, _ in exits]
    if any(later <= earlier for earlier, later in itertools.pairwise(times)):
        raise ScheduleError("the times of an exit list must increase")
    return ExitList(tuple(exits))
