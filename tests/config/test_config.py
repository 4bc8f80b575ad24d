"""services.toml: every class of error names file, line, key, value and what is allowed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from supervisor import config
from supervisor.cli.planview import plan_json
from supervisor.testing.harness import WriteConfig
from tests.support.configtext import OPTIONS, at, errors_of


def test_the_repository_stack_resolves_through_the_topic_convention():
    plan = config.load(Path(__file__).parents[2] / "services.toml")
    by_name = {process.name: process for process in plan.processes}
    assert list(by_name) == [
        "cinder-scheduler",
        "cinder-volume@lvm-1",
        "cinder-volume@lvm-2",
        "cinder-backup#1",
        "cinder-backup#2",
        "web",
    ]
    volume = by_name["cinder-volume@lvm-2"]
    assert volume.host == "node1@lvm-2"
    assert volume.resolution is not None
    assert volume.resolution.subtopic == "volume"
    assert volume.resolution.manager == "supervisor.managers.volume.VolumeManager"
    assert volume.spec is not None and volume.spec.backend == "lvm-2"
    assert by_name["cinder-backup#2"].spec.process_number == 2  # type: ignore[union-attr]
    assert by_name["web"].kind == "command"


def test_invalid_toml_names_the_line(write_config: WriteConfig):
    path = write_config('[services.web]\ncommand = ["a"\n')
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:") and "invalid TOML" in error


def test_a_bad_choice_lists_what_is_allowed(write_config: WriteConfig):
    path = write_config(
        """
        [services.web]
        command = ["true"]

        [services.web.restart]
        policy = "sometimes"
        """
    )
    assert errors_of(path) == [
        f"{at(path, 'policy =')}: services.web.restart.policy = 'sometimes':"
        " expected one of always, on-failure, never"
    ]


def test_unknown_keys_get_a_close_match(write_config: WriteConfig):
    path = write_config(
        """
        [services.web]
        command = ["true"]
        stop_timeuot = 3
        restart = { polcy = "always" }
        """
    )
    assert errors_of(path) == [
        f"{at(path, 'stop_timeuot')}: services.web.stop_timeuot: unknown key;"
        " did you mean 'stop_timeout'?",
        f"{at(path, 'polcy')}: services.web.restart.polcy: unknown key; did you mean 'policy'?",
    ]


def test_wrong_types_and_ranges_are_reported_together(write_config: WriteConfig):
    path = write_config(
        """
        [services.web]
        command = ["true"]
        workers = 0
        stop_timeout = "soon"
        critical = "yes"
        stop_signal = "BOOM"

        [services.web.restart]
        success_exit_codes = [0, 300]
        backoff = { initial = -1, jitter = 2 }
        start_limit = { burst = 1.5 }
        """
    )
    errors = errors_of(path)
    assert errors == [
        f"{at(path, 'workers')}: services.web.workers = 0: expected a value from 1 to 1000",
        f"{at(path, 'stop_timeout')}: services.web.stop_timeout = 'soon': expected a number",
        f"{at(path, 'critical')}: services.web.critical = 'yes': expected true or false",
        f"{at(path, 'stop_signal')}: services.web.stop_signal = 'BOOM':"
        " expected one of TERM, INT, QUIT, HUP, KILL, USR1, USR2",
        f"{at(path, 'success_exit_codes')}: services.web.restart.success_exit_codes = [0, 300]:"
        " expected exit codes from 0 to 255",
        f"{at(path, 'backoff')}: services.web.restart.backoff.initial = -1:"
        " expected a value from 0 to 86400",
        f"{at(path, 'backoff')}: services.web.restart.backoff.jitter = 2:"
        " expected a value from 0 to 1",
        f"{at(path, 'start_limit')}: services.web.restart.start_limit.burst = 1.5:"
        " expected an integer",
    ]


def test_a_missing_manager_option_names_the_option(write_config: WriteConfig):
    path = write_config(
        """
        [options]
        volume_manager = "supervisor.managers.volume.VolumeManager"

        [services.cinder-backup]
        """
    )
    (error,) = errors_of(path)
    assert error.startswith(
        f"{at(path, '[services.cinder-backup]')}: services.cinder-backup:"
        " option 'backup_manager' is not set"
    )
    assert 'set [options] backup_manager = "package.module.Class"' in error


def test_manager_paths_must_be_dotted_class_paths(write_config: WriteConfig):
    path = write_config(
        """
        [options]
        volume_manager = "VolumeManager"

        [services.cinder-scheduler]
        manager = "not a path"
        """
    )
    assert errors_of(path) == [
        f"{at(path, 'volume_manager')}: options.volume_manager = 'VolumeManager':"
        ' expected a dotted class path like "package.module.Class"',
        f"{at(path, 'not a path')}: services.cinder-scheduler.manager = 'not a path':"
        ' expected a dotted class path like "package.module.Class"',
    ]


def test_backends_must_name_at_least_one_and_exclude_workers(write_config: WriteConfig):
    path = write_config(
        OPTIONS
        + """
        [services.cinder-volume]
        backends = ["", " "]
        workers = 2
        """
    )
    assert errors_of(path) == [
        f"{at(path, 'backends')}: services.cinder-volume.backends = ['', ' ']:"
        " expected at least one backend",
        f"{at(path, 'workers')}: services.cinder-volume.workers = 2: not allowed with backends",
    ]


def test_empty_backend_entries_are_skipped_as_cinder_does(write_config: WriteConfig):
    path = write_config(OPTIONS + '[services.cinder-volume]\nbackends = ["", "a", "", "b"]\n')
    names = [process.name for process in config.load(path).processes]
    assert names == ["cinder-volume@a", "cinder-volume@b"]


def test_an_unreadable_file_is_an_error(tmp_path: Path):
    (error,) = errors_of(tmp_path / "missing.toml")
    assert error == f"{tmp_path / 'missing.toml'}: cannot read: No such file or directory"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor", *args], capture_output=True, text=True, timeout=60
    )


def test_run_and_check_refuse_an_invalid_file_with_status_2(write_config: WriteConfig):
    path = write_config('[services.web]\ncommand = ["true"]\nworkers = -1\n')
    for command in ("check", "run"):
        result = run_cli(command, "-c", str(path))
        assert result.returncode == 2
        assert f"{at(path, 'workers')}: services.web.workers = -1" in result.stderr
    assert not (path.parent / "state").exists(), "nothing may start from an invalid file"


def test_check_prints_the_resolved_plan_without_importing_managers(write_config: WriteConfig):
    path = write_config(
        OPTIONS.replace("supervisor.managers.volume.VolumeManager", "no.such.module.Manager")
        + '[services.cinder-volume]\nbackends = ["lvm-1"]\n'
    )
    result = run_cli("check", "-c", str(path))
    assert result.returncode == 0, result.stderr
    assert "cinder-volume@lvm-1" in result.stdout
    assert "subtopic  volume (option volume_manager)" in result.stdout
    assert "manager   no.such.module.Manager" in result.stdout
    assert "host      node1@lvm-1" in result.stdout

    plan = json.loads(run_cli("check", "--json", "-c", str(path)).stdout)
    (process,) = plan["processes"]
    assert process["topic"] == "cinder-volume"
    assert process["manager"] == "no.such.module.Manager"
    assert process["restart"]["prevent_exit_codes"] == [78]


def test_check_json_is_strict_even_if_a_number_slipped_through(write_config: WriteConfig):
    plan = config.load(write_config('[services.web]\ncommand = ["true"]\n'))
    (web,) = plan.processes
    broken = replace(web, settings=replace(web.settings, stop_timeout=math.nan))
    with pytest.raises(ValueError, match="not JSON compliant"):
        plan_json(replace(plan, processes=(broken,)))
    assert json.loads(plan_json(plan))["processes"][0]["stop_timeout"] == 10.0


def test_an_inline_table_broken_over_lines_still_loads(write_config: WriteConfig):
    """TOML 1.0 forbids it and the fast reader refuses it, but files have always used it."""
    path = write_config(
        """
        [services.web]
        command = ["true"]
        restart = { backoff = { initial = 0.5 },
                    start_limit = { burst = 2 } }
        """
    )
    (web,) = config.load(path).processes
    assert web.settings.restart.backoff.initial == 0.5
    assert web.settings.restart.start_limit.burst == 2
