"""Agreement as a property: on any drawn run-length schedule, the simulator and a real stack make
the same transitions in the same order, for the same causes, at times within stated bounds.

The hand-written cases in test_simulate.py check two schedules with jitter; this draws them.
Every example runs real processes, so the suite draws a few (SUPERVISOR_AGREE_EXAMPLES, default
3); `scripts/agree --examples N` draws many.  The policy has no jitter, so both sides wait the
same delays and a real time can only be later than the simulated one, by the time the machine
takes to fork, exec and report each start (bounded per start below).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from supervisor.policy.restart import ExitStatus
from supervisor.testing.harness import WriteConfig
from supervisor.testing.realrun import run_for_real
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
EARLY = 0.02  # s: clocks read on either side of a write
LATE_AT_ONCE, LATE_PER_START = 0.5, 0.15  # s: the start-up, then each fork, exec and report


def compared(events: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["from"], e["to"], e["cause"]) for e in events]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=SCHEDULES)
def test_the_simulator_and_a_real_stack_agree_on_drawn_schedules(
    schedule: RunList, write_config: WriteConfig, tmp_path: Path
):
    path = write_config(POLICY)
    simulated = simulate(path, {"crasher": schedule}, seed=None, duration=120)
    real = run_for_real(path, {"crasher": schedule}, tmp_path / uuid.uuid4().hex)

    sim_events = simulated.of("crasher")
    assert compared(real.of("crasher")) == compared(sim_events), schedule.describe()
    assert real.states["crasher"] == simulated.states["crasher"]
    assert real.group_status == simulated.group_status
    starts = 0
    for real_event, sim_event in zip(real.of("crasher"), sim_events, strict=True):
        starts += sim_event["to"] == "starting"
        late = real_event["time"] - sim_event["time"]
        bound = LATE_AT_ONCE + LATE_PER_START * starts
        assert -EARLY <= late <= bound, (real_event, sim_event, schedule.describe())


def test_a_service_of_several_processes_cannot_follow_one_schedule(
    write_config: WriteConfig, tmp_path: Path
):
    path = write_config('[services.pool]\ncommand = ["true"]\nworkers = 2\n')
    with pytest.raises(ValueError, match="'pool' must be a service of one process"):
        run_for_real(path, {"pool": RunList(())}, tmp_path / "run")
