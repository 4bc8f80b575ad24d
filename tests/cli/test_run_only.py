"""`supervisor run --only NAME`: a service (all its processes) or one process, against real
stacks; a name the file does not have is a mistake on the command line (exit 2, did you mean),
and the dependencies a selection names are not started and count as met."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from supervisor.testing.harness import RunStack, WriteConfig
from tests.support.stackcli import SLEEPERS, cli, status_of

USAGE = 2
CONFIG_INVALID = 2


def run_at_once(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A `run` expected to end at once, without starting anything."""
    return subprocess.run(
        [sys.executable, "-m", "supervisor", "run", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def test_an_unknown_name_is_a_usage_error_with_the_closest_names(write_config: WriteConfig):
    config = write_config(SLEEPERS)
    result = run_at_once(config, "--only", "apii")
    assert result.returncode == USAGE, result.stderr
    assert result.stderr == (
        f"supervisor run: error: --only 'apii': no such service or process in {config}; "
        "did you mean 'api', 'api#2' or 'api#1'?; services: db, api; processes: db, api#1, api#2\n"
    )
    # The first unknown one, even after known ones; a process's name is close too.
    result = run_at_once(config, "--only", "db", "--only", "api#3")
    assert result.returncode == USAGE
    assert "--only 'api#3': no such service or process" in result.stderr
    assert "did you mean 'api#2', 'api#1' or 'api'?" in result.stderr
    far = run_at_once(config, "--only", "nope")
    assert far.returncode == USAGE
    assert "did you mean" not in far.stderr and "services: db, api" in far.stderr
    assert not (config.parent / "state" / "events.jsonl").exists()  # nothing ran


def test_an_invalid_file_is_still_the_files_error(write_config: WriteConfig):
    config = write_config("[services.web]\ncommand = 3\n")
    result = run_at_once(config, "--only", "nope")
    assert result.returncode == CONFIG_INVALID
    assert "services.toml" in result.stderr and "--only" not in result.stderr


def test_one_process_of_a_service_runs_alone_and_its_dependency_is_not_started(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(SLEEPERS)
    stack = run_stack(config, "--only", "api#2")
    waited = cli(config, "wait", "--ready", "--timeout", "20")
    assert waited.returncode == 0, waited.stderr + stack.console()
    processes = status_of(config)
    # api depends on db, which --only left out: the dependency counts as met.
    assert list(processes) == ["api#2"]
    assert processes["api#2"]["state"] == "running"
    assert cli(config, "status", "api#1").returncode == 1  # unknown to this supervisor

    # A reload keeps the selection; a file that loses the name is refused as an invalid one.
    config.write_text(config.read_text().replace("workers = 2", "workers = 1"))
    refused = cli(config, "reload")
    assert refused.returncode == CONFIG_INVALID
    assert "--only = 'api#2': no longer a service or process" in refused.stderr
    assert list(status_of(config)) == ["api#2"]
    shut = cli(config, "shutdown")
    assert shut.returncode == 0, shut.stderr
    assert stack.wait_exit() == 0


def test_a_service_and_a_process_of_another_together(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(SLEEPERS)
    stack = run_stack(config, "--only", "db", "--only", "api#1")
    waited = cli(config, "wait", "--ready", "--timeout", "20")
    assert waited.returncode == 0, waited.stderr + stack.console()
    assert list(status_of(config)) == ["db", "api#1"]
    assert cli(config, "shutdown").returncode == 0
    assert stack.wait_exit() == 0
