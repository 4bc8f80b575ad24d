"""`[groups]` strategies through the simulator and through real processes, on the same
schedules: each strategy's restarts, a group ended by its intensity, a group ended by a
significant member, with the supervisor's exit status; the real run and the simulation must
agree (`supervisor.testing.realrun.disagreements`: the same transitions per process, the same
strategy actions, real times within bounds of the simulated ones).

Every member follows a schedule (an empty one runs until stopped), so both sides run the same
stand-in with the file's own start settings.  The policy has no jitter, so both sides wait the
same delays.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from supervisor.policy.restart import ExitStatus
from supervisor.testing.harness import WriteConfig
from supervisor.testing.realrun import RealRun, disagreements, run_for_real
from supervisor.testing.schedules import simulate
from supervisor.tools.crashschedule import RunList
from supervisor.tools.report.html import render_html
from supervisor.tools.report.text import render_text
from supervisor.tools.report.timeline import build_timeline
from supervisor.tools.simulate import SimulationResult

RESTART = "restart = { backoff = { initial = 0.3, factor = 1.0, jitter = 0.0 } }"
MEMBERS = ("db", "api", "worker")
STACK = f"""
[services.db]
command = ["true"]
start_seconds = 0.1
{RESTART}
[services.api]
command = ["true"]
depends_on = ["db"]
start_seconds = 0.1
{RESTART}
[services.worker]
command = ["true"]
depends_on = ["api"]
start_seconds = 0.1
{RESTART}
"""
STEADY = RunList(())
API_CRASHES_ONCE = {"db": STEADY, "api": RunList(((1.0, ExitStatus(code=1)),)), "worker": STEADY}


def both(path: Path, schedules: dict[str, RunList], tmp_path: Path) -> SimulationResult:
    """The simulation of `schedules`, once a real run agreed with it."""
    simulated = simulate(path, schedules, seed=None, duration=60)
    real = run_for_real(path, schedules, tmp_path / uuid.uuid4().hex)
    assert disagreements(real, simulated, schedules) == [], _timelines(real, simulated)
    return simulated


def _timelines(real: RealRun, simulated: SimulationResult) -> str:
    def lines(events: list[dict]) -> str:
        return "\n".join(
            f"  {e['time']:7.3f} {e.get('unit', e.get('group'))}"
            f" {e.get('from', e.get('action'))}->{e.get('to', '')} {e.get('cause')}"
            for e in events
        )

    return f"real:\n{lines(real.events)}\nsimulated:\n{lines(simulated.events)}"


def steps(result: SimulationResult, unit: str) -> list[tuple[str, str, str]]:
    return [(e["from"], e["to"], e["cause"]) for e in result.of(unit)]


BOOT = [
    ("stopped", "starting", "supervisor started"),
    ("starting", "running", "up for 0.1s"),
]
WAITED_BOOT = [
    ("stopped", "waiting", "waiting for {} to be ready"),
    ("waiting", "starting", "dependencies ready"),
    ("starting", "running", "up for 0.1s"),
]


def booted(unit: str, dependency: str | None) -> list[tuple[str, str, str]]:
    if dependency is None:
        return list(BOOT)
    return [(a, b, cause.format(dependency)) for a, b, cause in WAITED_BOOT]


def restarted_by(cause: str, dependency: str | None) -> list[tuple[str, str, str]]:
    """A sibling stopped and started again by a strategy, waiting for `dependency` if any."""
    stop = [
        ("running", "stopping", cause),
        ("stopping", "exited", "stopped cleanly: killed by SIGTERM"),
    ]
    if dependency is None:
        return [*stop, ("exited", "starting", cause), ("starting", "running", "up for 0.1s")]
    return [
        *stop,
        ("exited", "waiting", f"waiting for {dependency} to be ready"),
        ("waiting", "starting", "dependencies ready"),
        ("starting", "running", "up for 0.1s"),
    ]


API_CRASH = [
    ("running", "backoff", "exit status 1; restart 1 in a row, in 0.300s"),
    ("backoff", "starting", "backoff elapsed"),
    ("starting", "running", "up for 0.1s"),
]


def test_one_for_one_restarts_only_the_crashed_member(write_config: WriteConfig, tmp_path: Path):
    path = write_config(STACK + '[groups.core]\nservices = ["db", "api", "worker"]\n')
    result = both(path, API_CRASHES_ONCE, tmp_path)
    assert steps(result, "api") == booted("api", "db") + API_CRASH
    assert steps(result, "db") == booted("db", None)
    assert steps(result, "worker") == booted("worker", "api")
    assert result.strategy_events == []


def test_one_for_all_restarts_every_member_as_one_action(write_config: WriteConfig, tmp_path: Path):
    path = write_config(
        STACK + '[groups.core]\nservices = ["db", "api", "worker"]\nstrategy = "one_for_all"\n'
    )
    result = both(path, API_CRASHES_ONCE, tmp_path)
    cause = "one_for_all: api exited with status 1"
    (action,) = result.strategy_events
    assert action["action"] == "restart" and action["strategy"] == "one_for_all"
    assert (action["unit"], action["members"], action["cause"]) == (
        "api",
        ["api", "db", "worker"],
        cause,
    )
    assert steps(result, "db") == booted("db", None) + restarted_by(cause, None)
    assert steps(result, "worker") == booted("worker", "api") + restarted_by(cause, "api")
    assert steps(result, "api") == booted("api", "db") + API_CRASH


def test_rest_for_one_restarts_the_members_after_it(write_config: WriteConfig, tmp_path: Path):
    path = write_config(
        STACK + '[groups.core]\nservices = ["db", "api", "worker"]\nstrategy = "rest_for_one"\n'
    )
    result = both(path, API_CRASHES_ONCE, tmp_path)
    cause = "rest_for_one: api exited with status 1"
    (action,) = result.strategy_events
    assert (action["members"], action["cause"]) == (["api", "worker"], cause)
    assert steps(result, "db") == booted("db", None)  # before api: left alone
    assert steps(result, "worker") == booted("worker", "api") + restarted_by(cause, "api")


def test_more_restarts_than_the_intensity_end_the_group_in_failure(
    write_config: WriteConfig, tmp_path: Path
):
    path = write_config(
        STACK
        + """
        [groups.core]
        services = ["db", "api", "worker"]
        strategy = "rest_for_one"
        intensity = 1
        period = 30
        """
    )
    crashes = RunList(((0.6, ExitStatus(code=1)), (0.6, ExitStatus(code=4))))
    result = both(path, {"db": STEADY, "api": crashes, "worker": STEADY}, tmp_path)
    assert steps(result, "api")[-1] == (
        "running",
        "fatal",
        "exit status 4; group core: more than 1 restarts within 30s",
    )
    restart, end = result.strategy_events
    assert restart["action"] == "restart"
    ended = "group core ended: api exited with status 4, more than 1 restarts within 30s"
    assert (end["action"], end["result"], end["status"], end["cause"]) == (
        "end",
        "failure",
        4,
        ended,
    )
    assert end["members"] == list(MEMBERS)
    assert steps(result, "db")[-2:] == [
        ("running", "stopping", ended),
        ("stopping", "exited", "stopped cleanly: killed by SIGTERM"),
    ]
    assert result.group_status == 4  # the supervisor's exit status: the group failed


JOB = """
[services.job]
command = ["true"]
start_seconds = 0.1
restart = {{ policy = "{policy}" }}
[groups.core]
services = ["db", "job"]
significant = ["job"]
ends_when = "any_significant"
"""


@pytest.mark.parametrize(
    ("policy", "code", "result_", "status"),
    [("on-failure", 0, "success", 0), ("never", 3, "failure", 3)],
)
def test_a_significant_member_that_ends_ends_the_group_with_its_result(
    write_config: WriteConfig, tmp_path: Path, policy: str, code: int, result_: str, status: int
):
    path = write_config(STACK.split("[services.api]")[0] + JOB.format(policy=policy))
    job = RunList(((0.8, ExitStatus(code=code)),))
    result = both(path, {"db": STEADY, "job": job}, tmp_path)
    (end,) = result.strategy_events
    cause = f"group core ended: significant job exited with status {code}"
    assert (end["action"], end["result"], end["status"], end["cause"]) == (
        "end",
        result_,
        status,
        cause,
    )
    assert steps(result, "db")[-1] == ("stopping", "exited", "stopped cleanly: killed by SIGTERM")
    assert result.group_status == status


def test_disagreements_say_where_a_real_run_differs(write_config: WriteConfig):
    path = write_config(
        STACK + '[groups.core]\nservices = ["db", "api", "worker"]\nstrategy = "one_for_all"\n'
    )
    simulated = simulate(path, API_CRASHES_ONCE, seed=None, duration=60)
    events = [dict(e) for e in simulated.events if e["event"] in ("state", "strategy")]
    real = RealRun(events, dict(simulated.states), simulated.group_status)
    assert disagreements(real, simulated, MEMBERS) == []
    late = [{**e, "time": e["time"] + 5} if e.get("unit") == "db" else e for e in events]
    (slow,) = disagreements(RealRun(late, {}, simulated.group_status), simulated, ["db"])[:1]
    assert slow.startswith("db: 5.000s late")
    fewer = [e for e in events if e["event"] != "strategy"]
    (missing,) = disagreements(RealRun(fewer, {}, simulated.group_status), simulated, ["db"])
    assert missing.startswith("strategy: real [] != simulated [('restart', 'core'")


def test_the_timeline_draws_a_group_restart_as_one_mark(write_config: WriteConfig):
    path = write_config(
        STACK + '[groups.core]\nservices = ["db", "api", "worker"]\nstrategy = "one_for_all"\n'
    )
    simulated = simulate(path, API_CRASHES_ONCE, seed=None, duration=60)
    timeline = build_timeline(simulated.events, "simulated")
    (mark,) = timeline.strategies
    assert (mark.action, mark.time, mark.members) == ("restart", 1.1, ("api", "db", "worker"))
    page = render_html(timeline)
    assert page.count('<g class="strategy-mark restart" data-group="core">') == 1
    assert page.count('class="notch"') == 3  # one notch on each member's bar, in that one mark
    assert "group core restart (one_for_all): api, db, worker" in page
    assert "one_for_all: api exited with status 1" in render_text(timeline)


JOBS = """
[services.web]
command = ["true"]
start_seconds = 0
[services.job-a]
command = ["true"]
start_seconds = 0
restart = {{ policy = "never" }}
[services.job-b]
command = ["true"]
start_seconds = 0
restart = {{ policy = "never" }}
[services.outside]
command = ["true"]
start_seconds = 0
[groups.jobs]
services = ["web", "job-a", "job-b"]
significant = ["job-a", "job-b"]
ends_when = "all_significant"
critical = {critical}
"""
JOBS_END = {
    "job-a": RunList(((1.0, ExitStatus(code=0)),)),
    "job-b": RunList(((2.0, ExitStatus(code=2)),)),
}


def test_all_significant_waits_for_the_last_and_a_critical_group_stops_the_stack(
    write_config: WriteConfig,
):
    result = simulate(write_config(JOBS.format(critical="true")), JOBS_END, seed=None)
    (end,) = result.strategy_events
    assert (end["time"], end["result"], end["status"]) == (2.0, "failure", 2)
    assert end["cause"] == "group jobs ended: significant job-b exited with status 2"
    stop = next(e for e in result.events if e["event"] == "group" and e["action"] == "stop")
    assert stop["cause"] == f"critical {end['cause']}"
    assert result.of("outside")[-1]["to"] == "exited"  # outside the group, stopped with the stack
    assert result.group_status == 2


def test_a_group_that_is_not_critical_ends_alone(write_config: WriteConfig):
    result = simulate(write_config(JOBS.format(critical="false")), JOBS_END, seed=None)
    assert [e["action"] for e in result.strategy_events] == ["end"]
    assert result.of("web")[-1]["to"] == "exited"
    assert result.of("outside") == []  # the rest of the stack runs on, untouched
    assert result.group_status is None and result.would_exit_with == 2


def test_a_sibling_already_in_its_backoff_is_left_to_it(write_config: WriteConfig):
    path = write_config(
        STACK + '[groups.core]\nservices = ["db", "api", "worker"]\nstrategy = "one_for_all"\n'
    )
    api = RunList(((0.5, ExitStatus(code=1)),))  # up at 0.1, down at 0.6, back at 0.9
    # Its first run is cut short by api's crash at 0.6; the next one ends at 0.8, while api
    # is in its backoff and worker waits for api: nobody else is up to restart.
    db = RunList(((5.0, ExitStatus(code=1)), (0.2, ExitStatus(code=1))))
    result = simulate(path, {"db": db, "api": api, "worker": STEADY}, seed=None)
    restarts = [(e["time"], e["unit"], e["members"]) for e in result.strategy_events]
    assert restarts == [(0.6, "api", ["api", "db", "worker"])]
    assert ("running", "backoff", "exit status 1; restart 1 in a row, in 0.300s") in steps(
        result, "db"
    )
    assert [s for s in steps(result, "api") if s[0] == "backoff"] == [
        ("backoff", "starting", "backoff elapsed")  # its own backoff, untouched by db's crash
    ]
