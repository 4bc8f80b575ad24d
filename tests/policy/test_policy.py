"""The restart policy, exhaustively and without a single real second passing."""

from __future__ import annotations

import signal

import pytest

from supervisor.policy.restart import (
    Action,
    Backoff,
    Decision,
    ExitStatus,
    History,
    RestartPolicy,
    StartLimit,
    backoff_delay,
    decide,
)

NO_JITTER = Backoff(initial=1.0, max=8.0, factor=2.0, jitter=0.0, reset_after=10.0)
CRASH = ExitStatus(code=1)
CLEAN = ExitStatus(code=0)
KILLED = ExitStatus(signal=signal.SIGKILL)
FRESH = History()


def midpoint(low: float, high: float) -> float:
    return (low + high) / 2


def decide_now(
    policy: RestartPolicy, exit: ExitStatus, history: History = FRESH, ran_for: float = 0.0
) -> Decision:
    return decide(policy, history, exit, ran_for=ran_for, now=100.0, uniform=midpoint)


@pytest.mark.parametrize(
    ("policy", "exit", "action"),
    [
        ("always", CLEAN, Action.RESTART),
        ("always", CRASH, Action.RESTART),
        ("always", KILLED, Action.RESTART),
        ("on-failure", CLEAN, Action.EXIT),
        ("on-failure", CRASH, Action.RESTART),
        ("on-failure", KILLED, Action.RESTART),
        ("never", CLEAN, Action.EXIT),
        ("never", CRASH, Action.EXIT),
        ("never", KILLED, Action.EXIT),
    ],
)
def test_each_policy_against_each_kind_of_exit(policy: str, exit: ExitStatus, action: Action):
    assert decide_now(RestartPolicy(policy=policy, backoff=NO_JITTER), exit).action is action


def test_success_exit_codes_decide_what_a_failure_is():
    policy = RestartPolicy(policy="on-failure", success_exit_codes=frozenset({0, 3}))
    assert decide_now(policy, ExitStatus(code=3)).action is Action.EXIT
    assert decide_now(policy, ExitStatus(code=0)).action is Action.EXIT
    assert decide_now(policy, ExitStatus(code=4)).action is Action.RESTART


def test_prevent_exit_codes_are_fatal_under_every_policy():
    for name in ("always", "on-failure", "never"):
        policy = RestartPolicy(policy=name, prevent_exit_codes=frozenset({78}))
        decision = decide_now(policy, ExitStatus(code=78))
        assert decision.action is Action.FATAL
        assert "cannot heal" in decision.reason


def test_backoff_grows_by_factor_up_to_max():
    policy = RestartPolicy(policy="always", backoff=NO_JITTER, start_limit=StartLimit(100, 60))
    history, delays = History(), []
    for _ in range(6):
        decision = decide_now(policy, CRASH, history)
        history = decision.history
        delays.append(decision.delay)
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_resets_after_a_long_enough_run():
    policy = RestartPolicy(policy="always", backoff=NO_JITTER, start_limit=StartLimit(100, 60))
    history = History(failures=3)
    assert decide_now(policy, CRASH, history, ran_for=9.99).delay == 8.0
    fresh = decide_now(policy, CRASH, history, ran_for=10.0)
    assert fresh.delay == 1.0
    assert fresh.history.failures == 1


@pytest.mark.parametrize("draw", [-0.25, 0.0, 0.25])
def test_jitter_stays_within_its_fraction(draw: float):
    backoff = Backoff(initial=4.0, max=100.0, factor=2.0, jitter=0.25)

    def uniform(low: float, high: float) -> float:
        assert (low, high) == (-0.25, 0.25)
        return draw

    assert backoff_delay(backoff, 1, uniform) == pytest.approx(4.0 * (1 + draw))


def test_jittered_delay_never_exceeds_max():
    backoff = Backoff(initial=10.0, max=10.0, factor=2.0, jitter=0.5)
    assert backoff_delay(backoff, 1, lambda low, high: high) == 10.0


def test_zero_initial_means_restart_at_once():
    backoff = Backoff(initial=0.0, max=0.0, factor=1.0, jitter=0.0)
    assert backoff_delay(backoff, 50, midpoint) == 0.0


def test_start_limit_allows_burst_restarts_then_is_fatal():
    policy = RestartPolicy(policy="always", backoff=NO_JITTER, start_limit=StartLimit(3, 10.0))
    history = History()
    for now in (0.0, 1.0, 2.0):
        decision = decide(policy, history, CRASH, ran_for=0.1, now=now, uniform=midpoint)
        assert decision.action is Action.RESTART
        history = decision.history
    decision = decide(policy, history, CRASH, ran_for=0.1, now=3.0, uniform=midpoint)
    assert decision.action is Action.FATAL
    assert "start limit hit: 3 restarts within 10s" in decision.reason


def test_start_limit_window_slides():
    policy = RestartPolicy(policy="always", backoff=NO_JITTER, start_limit=StartLimit(2, 10.0))
    history = History(restarts=(0.0, 5.0))
    assert decide(policy, history, CRASH, ran_for=0, now=9.9, uniform=midpoint).action == "fatal"
    later = decide(policy, history, CRASH, ran_for=0, now=10.5, uniform=midpoint)
    assert later.action is Action.RESTART
    assert later.history.restarts == (5.0, 10.5)


def test_a_restart_exactly_an_interval_old_is_out_of_the_window_despite_float_error():
    policy = RestartPolicy(policy="always", backoff=NO_JITTER, start_limit=StartLimit(3, 30.0))
    history = History(restarts=(0.02, 10.02, 20.02))  # 30.02 - 30.0 is 0.0199999... in floats
    decision = decide(policy, history, CRASH, ran_for=0.1, now=30.02, uniform=midpoint)
    assert decision.action is Action.RESTART
    assert decision.history.restarts == (10.02, 20.02, 30.02)


def test_a_zero_burst_never_restarts():
    policy = RestartPolicy(policy="always", start_limit=StartLimit(0, 10.0))
    assert decide_now(policy, CRASH).action is Action.FATAL


def test_decisions_are_reproducible():
    policy = RestartPolicy(policy="always")
    first = decide_now(policy, KILLED, History(failures=2, restarts=(99.0,)))
    second = decide_now(policy, KILLED, History(failures=2, restarts=(99.0,)))
    assert first == second


def test_exit_status_follows_the_shell_convention():
    assert ExitStatus.from_returncode(3) == ExitStatus(code=3)
    killed = ExitStatus.from_returncode(-9)
    assert killed.signal == signal.SIGKILL
    assert killed.status == 137
    assert killed.describe() == "killed by SIGKILL"
    assert ExitStatus(code=2).describe() == "exit status 2"
