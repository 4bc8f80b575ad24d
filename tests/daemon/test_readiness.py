"""Readiness probes: a service is running only once its probe program exits 0."""

from __future__ import annotations

from pathlib import Path

from supervisor.testing.harness import RunningStack, RunStack, WriteConfig
from tests.support.stackcli import cli, status_of, wait_for_cause


def probed_stack(
    write_config: WriteConfig, run_stack: RunStack, flag: Path, probe: str, extra: str = ""
) -> RunningStack:
    return run_stack(
        write_config(
            f"""
            [services.broker]
            command = ["sleep", "1000"]
            {extra}
            [services.broker.readiness]
            exec = {probe}
            period = 0.05
            timeout = 0.2

            [services.client]
            command = ["sleep", "1000"]
            start_seconds = 0
            depends_on = ["broker"]
            """
        )
    )


def test_a_service_is_starting_until_its_probe_passes_and_dependants_wait_for_it(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    flag = tmp_path / "answers"
    stack = probed_stack(write_config, run_stack, flag, f'["test", "-e", "{flag}"]')
    broker = wait_for_cause(stack, "broker", "readiness probe: exit status 1")
    assert broker["state"] == "starting" and not broker["ready"]
    assert status_of(stack.config)["client"]["state"] == "waiting"

    flag.touch()
    running = stack.wait_event(event="state", unit="broker", to="running")
    assert running["cause"] == "readiness probe passed"
    stack.wait_event(event="state", unit="client", to="running")
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    assert stack.stop() == 0


def test_a_probe_that_hangs_is_killed_at_its_timeout_and_tried_again(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    flag = tmp_path / "answers"
    hangs_until_flag = f'["sh", "-c", "test -e {flag} || exec sleep 1000"]'
    stack = probed_stack(write_config, run_stack, flag, hangs_until_flag)
    wait_for_cause(stack, "broker", "readiness probe: timed out after 0.2s")
    flag.touch()
    stack.wait_event(event="state", unit="broker", to="running", cause="readiness probe passed")
    assert stack.stop() == 0  # and the suite's guard finds no probe left behind


def test_a_probe_that_never_passes_fails_the_start_like_a_crash(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    flag = tmp_path / "never"
    limits = 'start_timeout = 0.5\nrestart = { policy = "never" }'
    stack = probed_stack(write_config, run_stack, flag, f'["test", "-e", "{flag}"]', limits)
    event = stack.wait_event(event="kill", unit="broker")
    assert event["cause"] == "start timeout: no passing readiness probe within 0.5s"
    assert stack.wait_exit() != 0
