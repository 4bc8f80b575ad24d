"""A signal as a user writes it (TERM, SIGTERM, term, 15) and as the kernel numbers it: one reader
for the command line and the control protocol, so both take exactly the same words."""

from __future__ import annotations

import signal


def signal_number(value: str) -> int | None:
    """The signal's number; None when `value` names no signal of this system."""
    if value.isdigit():
        number = int(value)
        return number if number in {member.value for member in signal.Signals} else None
    name = "SIG" + value.upper().removeprefix("SIG")
    member = signal.Signals.__members__.get(name)
    return None if member is None else member.value
