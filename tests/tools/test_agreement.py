"""Agreement as a property: on any drawn run-length schedule, the simulator and a real stack make
the same transitions in the same order, for the same causes, at times within stated bounds.

The hand-written cases in test_simulate.py check two schedules with jitter; this draws them.
Every example runs real processes, so the suite draws a few (SUPERVISOR_AGREE_EXAMPLES, default
3); `scripts/agree --examples N` draws many.  The policy has no jitter, so both sides wait the
same delays and a real time can only be later than the simulated one, by the time the machine
takes to fork, exec and report each start (bounded per start below).

The second property draws a `[groups]` table too: its strategy, its intensity, and which of
three members (each depending on the one before) crashes on the drawn schedule; the siblings
the strategy restarts must agree as well, and so must the group's end.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervisor.policy.restart import ExitStatus
from supervisor.policy.strategy import STRATEGIES
from supervisor.testing.harness import WriteConfig
from supervisor.testing.realrun import Lateness, disagreements, run_for_real
from supervisor.testing.schedules import run_lengths, simulate
from supervisor.tools.crashschedule import RunList

EXAMPLES = int(os.environ.get("SUPERVISOR_AGREE_EXAMPLES", "3"))
START_SECONDS = 0.1
RESET_AFTER = 0.8
POLICY = f"""
[services.crasher]
command = ["true"]
start_seconds = {START_SECONDS}
[services.crasher.restart]
backoff = {{ initial = 0.05, factor = 2.0, max = 0.4, jitter = 0.0, reset_after = {RESET_AFTER} }}
start_limit = {{ burst = 3, interval = 60 }}
"""
# A real run is a little longer than its schedule says (the fork and exec before the sleep):
# no drawn length is near a threshold where that could change the decision.
SCHEDULES = run_lengths(
    most=5,
    shortest=0.2,
    longest=1.2,
    exits=[ExitStatus(code=1), ExitStatus(code=3), ExitStatus(signal=9), ExitStatus(code=0)],
    avoid=[START_SECONDS, RESET_AFTER],
    margin=0.15,
)
# s: clocks read on either side of a write; the start-up, then each fork, exec and report.
LATENESS = Lateness(at_once=0.5, per_start=0.15, early=0.02)
EXAMPLE_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLE_SETTINGS
@given(schedule=SCHEDULES)
def test_the_simulator_and_a_real_stack_agree_on_drawn_schedules(
    schedule: RunList, write_config: WriteConfig, tmp_path: Path
):
    path = write_config(POLICY)
    simulated = simulate(path, {"crasher": schedule}, seed=None, duration=120)
    real = run_for_real(path, {"crasher": schedule}, tmp_path / uuid.uuid4().hex)

    assert disagreements(real, simulated, ["crasher"], LATENESS) == [], schedule.describe()
    assert real.states["crasher"] == simulated.states["crasher"]


MEMBERS = ("first", "second", "third")
GROUP_POLICY = "".join(
    f"""
[services.{name}]
command = ["true"]
start_seconds = {START_SECONDS}
{f'depends_on = ["{MEMBERS[n - 1]}"]' if n else ""}
[services.{name}.restart]
backoff = {{ initial = 0.05, factor = 2.0, max = 0.4, jitter = 0.0, reset_after = {RESET_AFTER} }}
start_limit = {{ burst = 3, interval = 60 }}
"""
    for n, name in enumerate(MEMBERS)
)
# A sibling is up again START_SECONDS after each member before it: no drawn run is that short
# (with room for a loaded machine's slow forks), so a crash never races a sibling's start.
GROUP_SCHEDULES = run_lengths(
    most=4,
    shortest=START_SECONDS * len(MEMBERS) + 0.3,
    longest=1.2,
    exits=[ExitStatus(code=1), ExitStatus(signal=9), ExitStatus(code=0)],
    avoid=[RESET_AFTER],
    margin=0.15,
)


@EXAMPLE_SETTINGS
@given(
    schedule=GROUP_SCHEDULES,
    strategy=st.sampled_from(STRATEGIES),
    intensity=st.sampled_from([None, 0, 1, 2]),
    crasher=st.sampled_from(MEMBERS),
)
def test_the_simulator_and_a_real_stack_agree_on_group_strategies(
    schedule: RunList,
    strategy: str,
    intensity: int | None,
    crasher: str,
    write_config: WriteConfig,
    tmp_path: Path,
):
    limit = "" if intensity is None else f"intensity = {intensity}\nperiod = 60\n"
    group = f'[groups.g]\nservices = {list(MEMBERS)}\nstrategy = "{strategy}"\n{limit}'
    path = write_config(GROUP_POLICY + group.replace("'", '"'))
    schedules = {name: schedule if name == crasher else RunList(()) for name in MEMBERS}
    simulated = simulate(path, schedules, seed=None, duration=120)
    real = run_for_real(path, schedules, tmp_path / uuid.uuid4().hex)
    drawn = f"{strategy}, intensity {intensity}, {crasher}: {schedule.describe()}"
    assert disagreements(real, simulated, MEMBERS, LATENESS) == [], drawn


def test_a_service_of_several_processes_cannot_follow_one_schedule(
    write_config: WriteConfig, tmp_path: Path
):
    path = write_config('[services.pool]\ncommand = ["true"]\nworkers = 2\n')
    with pytest.raises(ValueError, match="'pool' must be a service of one process"):
        run_for_real(path, {"pool": RunList(())}, tmp_path / "run")
