"""The settle loop: after a change, apply its consequences until nothing is left to apply.

A consequence (a unit released from waiting, the next layer of a stop, a sibling restarted by a
`[groups]` strategy) makes transitions of its own, and each reports back as a change.  Handled
where it is reported, that would nest one transition inside another; so a change reported while
the loop runs only marks it unsettled, and the loop goes round once more.  The supervisor
(`daemon.arbiter`) settles through this, and so does the policy simulator, which drives that
same supervisor: there is one loop, and it settles alike on the real and the virtual loop.
"""

from __future__ import annotations

from collections.abc import Callable


class SettleLoop:
    def __init__(self, step: Callable[[], None]) -> None:
        """`step` applies every consequence due now; a change it causes asks again."""
        self._step = step
        self._settling = False
        self._unsettled = False

    def changed(self) -> None:
        """Something changed: settle now, or, inside a step, once that step is done."""
        self._unsettled = True
        if self._settling:
            return
        self._settling = True
        try:
            while self._unsettled:
                self._unsettled = False
                self._step()
        finally:
            self._settling = False
