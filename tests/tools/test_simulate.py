"""The policy simulator: schedules, the simulated group, the command, agreement with real runs."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from supervisor import config
from supervisor.cli.main import main
from supervisor.policy.restart import ExitStatus
from supervisor.testing.harness import RunStack, WriteConfig
from supervisor.tools.crashschedule import (
    ExitList,
    Periodic,
    ScheduleError,
    parse_duration,
    parse_exit,
    parse_schedule,
)
from supervisor.tools.simulate import Simulation, SimulationResult, processes_named

REPO_SERVICES = Path(__file__).resolve().parents[2] / "services.toml"


def no_jitter(low: float, high: float) -> float:
    return 0.0


def simulate(
    path: Path, names: list[str], crashes: str, *, duration: float = 3600.0, seed: int = 0
) -> SimulationResult:
    plan = config.load(path)
    return Simulation(
        plan,
        processes_named(plan, names),
        parse_schedule(crashes),
        uniform=random.Random(seed).uniform if seed >= 0 else no_jitter,
        duration=duration,
    ).run()


def transitions(events: list[dict], unit: str) -> list[tuple[str, str]]:
    return [(e["from"], e["to"]) for e in events if e["event"] == "state" and e["unit"] == unit]


# -- schedules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("2", 2.0), ("1.5s", 1.5), ("300ms", 0.3), ("2m", 120.0), ("1h", 3600.0)]
)
def test_durations_take_an_optional_unit(text: str, seconds: float):
    assert parse_duration(text) == pytest.approx(seconds)


def test_an_exit_is_a_code_or_a_signal_name():
    assert parse_exit("137") == ExitStatus(code=137)
    assert parse_exit("KILL") == parse_exit("sigkill") == ExitStatus(signal=9)
    with pytest.raises(ScheduleError, match="neither an exit code"):
        parse_exit("boom")
    with pytest.raises(ScheduleError, match="out of range"):
        parse_exit("256")


def test_the_two_forms_of_a_schedule():
    assert parse_schedule("every 2s for 60s") == Periodic(2.0, 60.0, ExitStatus(code=1))
    assert parse_schedule("every 500ms exit TERM") == Periodic(0.5, None, ExitStatus(signal=15))
    assert parse_schedule("1.5:1, 3.2:137, 10:0") == ExitList(
        ((1.5, ExitStatus(code=1)), (3.2, ExitStatus(code=137)), (10.0, ExitStatus(code=0)))
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty schedule"),
        ("every 0s", "above 0"),
        ("every often", "not a duration"),
        ("1.5, 3", "expected TIME:EXIT"),
        ("3:1, 2:1", "must increase"),
    ],
)
def test_a_bad_schedule_says_what_is_expected(text: str, message: str):
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text)


def test_periodic_runs_stop_crashing_after_for():
    schedule = parse_schedule("every 2s for 5s")
    assert schedule.next_exit(2.9) == (4.9, ExitStatus(code=1))
    assert schedule.next_exit(3.1) is None


# -- the simulated group -------------------------------------------------------------------------


def test_backoff_grows_then_the_start_limit_makes_it_fatal(write_config: WriteConfig):
    path = write_config(
        """
        [services.crasher]
        command = ["sh", "-c", "exit 3"]
        start_seconds = 0
        restart = { backoff = { initial = 0.02, factor = 2.0, max = 0.05, jitter = 0.0 },
                    start_limit = { burst = 3, interval = 60 } }
        """
    )
    result = simulate(path, ["crasher"], "every 1s exit 3")
    delays = [e["delay"] for e in result.of("crasher") if e["to"] == "backoff"]
    assert delays == [0.02, 0.04, 0.05]
    assert result.starts("crasher") == 4
    assert result.states == {"crasher": "fatal"}
    assert "start limit hit: 3 restarts within 60s" in result.of("crasher")[-1]["cause"]
    assert result.group_status == 3
    assert result.events[-1] == {
        "event": "group",
        "time": pytest.approx(4.11),
        "action": "exit",
        "status": 3,
        "cause": "crasher failed: exit status 3; start limit hit: 3 restarts within 60s",
    }


def test_a_run_longer_than_reset_after_starts_the_backoff_afresh(write_config: WriteConfig):
    path = write_config(
        """
        [services.flaky]
        command = ["true"]
        [services.flaky.restart]
        backoff = { initial = 0.01, factor = 10.0, reset_after = 0.2, jitter = 0.0 }
        start_limit = { burst = 100 }
        """
    )
    result = simulate(path, ["flaky"], "every 0.3s for 2s")
    delays = {e["delay"] for e in result.of("flaky") if e["to"] == "backoff"}
    assert delays == {0.01}
    assert result.states == {"flaky": "running"}  # its last run outlives the schedule


def test_an_exit_the_policy_cannot_heal_is_fatal_at_once(write_config: WriteConfig):
    path = write_config(
        """
        [services.broken]
        command = ["true"]
        restart = { prevent_exit_codes = [78] }
        """
    )
    result = simulate(path, ["broken"], "0.5:78")
    assert transitions(result.events, "broken") == [("stopped", "starting"), ("starting", "fatal")]
    assert result.group_status == 78


def test_exit_list_times_are_absolute_and_an_exit_during_backoff_hits_nothing(
    write_config: WriteConfig,
):
    path = write_config(
        """
        [services.job]
        command = ["true"]
        start_seconds = 0
        restart = { backoff = { initial = 1.0, jitter = 0.0 } }
        """
    )
    result = simulate(path, ["job"], "1:1, 1.5:KILL, 3:0")
    assert [(e["time"], e["to"]) for e in result.of("job")] == [
        (0.0, "starting"),
        (0.0, "running"),
        (1.0, "backoff"),
        (2.0, "starting"),
        (2.0, "running"),
        (3.0, "exited"),
    ]
    ignored = [e for e in result.events if e["event"] == "ignored"]
    assert ignored == [
        {
            "event": "ignored",
            "time": 1.5,
            "unit": "job",
            "cause": "no process was running to killed by SIGKILL",
        }
    ]
    assert result.group_status == 0


def test_an_exit_due_with_readiness_wins(write_config: WriteConfig):
    path = write_config(
        """
        [services.slow]
        command = ["true"]
        start_seconds = 1.0
        restart = { start_limit = { burst = 0 } }
        """
    )
    result = simulate(path, ["slow"], "every 1s")
    assert transitions(result.events, "slow") == [("stopped", "starting"), ("starting", "fatal")]


def test_a_critical_process_failing_stops_the_rest_dependants_first(write_config: WriteConfig):
    path = write_config(
        """
        [services.db]
        command = ["true"]
        critical = true
        restart = { start_limit = { burst = 1 } }
        [services.api]
        command = ["true"]
        workers = 2
        [services.web]
        command = ["true"]
        depends_on = ["api"]
        """
    )
    result = simulate(path, ["db"], "every 3s exit 2")
    stop = next(e for e in result.events if e["event"] == "group")
    assert stop["action"] == "stop"
    assert stop["cause"] == "critical unit db failed for good"
    stopped = [e["unit"] for e in result.events if e["event"] == "state" and e["to"] == "exited"]
    assert stopped == ["web", "api#1", "api#2"]
    assert result.group_status == 2
    assert result.finished == "the group ended"


def test_a_non_critical_failure_leaves_the_group_running(write_config: WriteConfig):
    path = write_config(
        """
        [services.worker]
        command = ["true"]
        restart = { start_limit = { burst = 0 } }
        [services.web]
        command = ["true"]
        """
    )
    result = simulate(path, ["worker"], "every 2s exit KILL")
    assert result.states == {"worker": "fatal"}
    assert result.group_status is None
    assert (result.would_exit_with, result.first_failure) == (137, "worker")
    assert result.steady == ("web",)


def test_the_group_stops_a_service_once_its_dependants_are_down(write_config: WriteConfig):
    path = write_config(
        """
        [services.db]
        command = ["true"]
        critical = true
        restart = { start_limit = { burst = 0 } }
        [services.api]
        command = ["true"]
        workers = 2
        [services.web]
        command = ["true"]
        depends_on = ["api"]
        """
    )
    result = simulate(path, ["db"], "every 3s exit 2")
    stopping = [
        (e["unit"], e["to"], e.get("exit_status"))
        for e in result.events
        if e["event"] == "state" and e["to"] in ("stopping", "exited")
    ]
    # As the supervisor does it: both api processes are asked to stop only once web is down.
    assert stopping == [
        ("web", "stopping", None),
        ("web", "exited", 143),
        ("api#1", "stopping", None),
        ("api#2", "stopping", None),
        ("api#1", "exited", 143),
        ("api#2", "exited", 143),
    ]


def test_a_notify_service_slower_than_its_start_timeout_is_killed(write_config: WriteConfig):
    path = write_config(
        """
        [services.slow]
        command = ["true"]
        notify = true
        start_timeout = 2
        restart = { start_limit = { burst = 0 } }
        """
    )
    plan = config.load(path)
    result = Simulation(
        plan, ["slow"], parse_schedule("1h:0"), uniform=no_jitter, duration=60.0, ready_after=5.0
    ).run()
    assert transitions(result.events, "slow") == [("stopped", "starting"), ("starting", "fatal")]
    assert result.of("slow")[-1]["time"] == 2.0
    assert result.of("slow")[-1]["cause"] == (
        "start timeout: no READY=1 within 2s; killed by SIGABRT; start limit hit:"
        " 0 restarts within 60s"
    )


def test_a_oneshot_job_and_a_probed_service_start_as_the_supervisor_says(
    write_config: WriteConfig,
):
    path = write_config(
        """
        [services.migrate]
        command = ["true"]
        oneshot = true
        [services.broker]
        command = ["true"]
        readiness = { exec = ["true"] }
        """
    )
    plan = config.load(path)
    result = Simulation(
        plan,
        ["migrate", "broker"],
        parse_schedule("4:0"),
        uniform=no_jitter,
        duration=60.0,
        ready_after=1.5,
    ).run()
    assert [(e["time"], e["to"], e["cause"]) for e in result.of("migrate")] == [
        (0.0, "starting", "supervisor started"),
        (4.0, "exited", "exit status 0; restart policy 'on-failure'"),
    ]
    assert [(e["time"], e["to"]) for e in result.of("broker")][:2] == [
        (0.0, "starting"),
        (1.5, "running"),
    ]


def test_each_process_of_a_service_or_one_by_name():
    plan = config.load(REPO_SERVICES)
    assert processes_named(plan, ["cinder-volume"]) == [
        "cinder-volume@lvm-1",
        "cinder-volume@lvm-2",
    ]
    assert processes_named(plan, ["cinder-backup#2"]) == ["cinder-backup#2"]
    with pytest.raises(KeyError, match="no service or process 'cinder-api'; known: "):
        processes_named(plan, ["cinder-api"])


def test_the_seed_makes_the_jitter_reproducible():
    def delays(seed: int) -> list[float]:
        result = simulate(REPO_SERVICES, ["cinder-volume@lvm-1"], "every 2s for 60s", seed=seed)
        return [e["delay"] for e in result.of("cinder-volume@lvm-1") if e["to"] == "backoff"]

    assert delays(7) == delays(7)
    assert delays(7) != delays(8)


def test_an_hour_of_simulated_time_takes_milliseconds():
    # CPU time, not wall time: on a loaded machine the wall clock also counts the time spent
    # waiting for a core, which says nothing about the simulator.
    began = time.process_time()
    result = simulate(REPO_SERVICES, ["cinder-volume", "cinder-backup"], "every 15s")
    elapsed = time.process_time() - began
    assert result.end == 3600.0
    assert result.starts("cinder-backup#1") > 200
    assert elapsed < 0.5  # typically under 20 ms


# -- the command ---------------------------------------------------------------------------------


def run_command(*argv: str) -> int:
    return main(["simulate", *argv])


def test_the_command_prints_the_timeline_and_the_outcome(capsys: pytest.CaptureFixture[str]):
    args = ("-c", str(REPO_SERVICES), "--service", "cinder-volume", "--crashes", "every 2s for 60s")
    assert run_command(*args) == 0
    text = capsys.readouterr().out
    assert text.startswith("simulating cinder-volume@lvm-1, cinder-volume@lvm-2\n")
    assert "  crashes   each run exits with status 1, 2s after it started, until 60s" in text
    assert "cinder-volume@lvm-1  running → fatal" in text
    assert "its exit status will be 1 (cinder-volume@lvm-1 failed for good first)" in text
    assert run_command(*args) == 0
    assert capsys.readouterr().out == text  # the default seed is fixed


def test_the_command_prints_json(capsys: pytest.CaptureFixture[str]):
    crashes = "1:1, 2:0"
    args = ("-c", str(REPO_SERVICES), "--service", "web", "--crashes", crashes, "--json")
    assert run_command(*args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["end"]["states"] == {"web": "exited"}
    assert document["end"]["starts"] == {"web": 2}
    assert document["events"][0] == {
        "event": "state",
        "time": 0.0,
        "unit": "web",
        "from": "stopped",
        "to": "starting",
        "cause": "supervisor started",
    }


def test_the_command_rejects_a_bad_schedule_or_name(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
):
    repo = str(REPO_SERVICES)
    assert run_command("-c", repo, "--service", "web", "--crashes", "sometimes") == 2
    assert "expected TIME:EXIT" in capsys.readouterr().err
    assert run_command("-c", repo, "--service", "nope", "--crashes", "every 1s") == 2
    assert "no service or process 'nope'" in capsys.readouterr().err
    broken = write_config("[services.x]\ncommand = 3\n")
    assert run_command("-c", str(broken), "--service", "x", "--crashes", "every 1s") == 2


# -- agreement with a real run -------------------------------------------------------------------

JITTER = 0.2
AGREEMENT_CASES = {
    "backoff-grows-to-the-start-limit": (
        "exit 3",
        "initial = 0.05, factor = 2.0, max = 0.15, reset_after = 30.0",
        "burst = 3, interval = 60",
    ),
    "backoff-starts-afresh-after-long-runs": (
        "exit 1",
        "initial = 0.05, factor = 4.0, max = 1.0, reset_after = 0.2",
        "burst = 2, interval = 60",
    ),
}


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_the_simulator_agrees_with_a_real_run(
    case: str, write_config: WriteConfig, run_stack: RunStack
):
    exit, backoff, start_limit = AGREEMENT_CASES[case]
    path = write_config(
        f"""
        [services.crasher]
        command = ["sh", "-c", "sleep 0.3; {exit}"]
        start_seconds = 0.1
        [services.crasher.restart]
        backoff = {{ {backoff}, jitter = {JITTER} }}
        start_limit = {{ {start_limit} }}
        """
    )
    stack = run_stack(path)
    real_status = stack.wait_exit()
    real = stack.select(event="state", unit="crasher")
    # Without jitter the simulator gives each delay's centre; the real one is drawn around it.
    simulated = simulate(path, ["crasher"], f"every 0.3s {exit}", seed=-1)

    assert transitions(real, "crasher") == transitions(simulated.events, "crasher")
    assert [e["cause"] for e in real if e["to"] in ("starting", "running")] == [
        e["cause"] for e in simulated.of("crasher") if e["to"] in ("starting", "running")
    ]
    assert sum(e["to"] == "starting" for e in real) == simulated.starts("crasher")
    assert real[-1]["to"] == simulated.states["crasher"] == "fatal"
    assert real_status == simulated.group_status == int(exit.split()[1])
    assert stack.wait_event(event="group", action="exit")["status"] == simulated.group_status
    maximum = config.load(path).processes[0].settings.restart.backoff.max
    real_delays = [e["delay"] for e in real if e["to"] == "backoff"]
    centres = [e["delay"] for e in simulated.of("crasher") if e["to"] == "backoff"]
    assert len(real_delays) == len(centres)
    for delay, centre in zip(real_delays, centres, strict=True):
        low, high = centre * (1 - JITTER), min(centre * (1 + JITTER), maximum)
        assert low - 1e-6 <= delay <= high + 1e-6, (delay, centre)
