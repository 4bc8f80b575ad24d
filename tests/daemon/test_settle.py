"""The one settle loop: a change reported while it settles is settled after, never inside."""

from __future__ import annotations

import pytest

from supervisor.daemon.settle import SettleLoop


def test_a_change_inside_a_step_is_settled_by_another_round_not_nested():
    depth, rounds = [0], []

    def step() -> None:
        depth[0] += 1
        rounds.append(depth[0])
        if len(rounds) < 3:
            loop.changed()  # a consequence that changes something again
        depth[0] -= 1

    loop = SettleLoop(step)
    loop.changed()
    assert rounds == [1, 1, 1]  # three rounds, each at depth one


def test_a_step_that_raises_leaves_the_loop_usable():
    calls = []

    def step() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("a callback failed")

    loop = SettleLoop(step)
    with pytest.raises(RuntimeError):
        loop.changed()
    loop.changed()
    assert calls == [0, 1]
