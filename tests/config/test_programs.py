"""Every program a plan runs is found at load, as its start will find it, so that whatever
`check` accepts `run` can start: on the PATH it will run with, from the directory it will run in,
after interpolation and placeholders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor import config
from supervisor.testing.harness import WriteConfig

SEARCHED = os.pathsep.join(os.get_exec_path())


def problems_of(path: Path) -> list[str]:
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    return str(raised.value).splitlines()


def executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_a_program_that_is_not_there_is_refused_with_its_line_key_and_path(
    write_config: WriteConfig,
):
    path = write_config(
        """
        [services.cache]
        command = "redis-server-that-is-not-installed --port 6379"

        [services.gone]
        command = ["/nonexistent/bin", "-x"]
        """
    )
    assert problems_of(path) == [
        f"{path}:6: services.cache.command = 'redis-server-that-is-not-installed':"
        f" not found on the supervisor's PATH {SEARCHED}",
        f"{path}:9: services.gone.command = '/nonexistent/bin': no such file: /nonexistent/bin",
    ]


def test_a_file_that_is_not_executable_or_a_directory_is_refused(
    write_config: WriteConfig, tmp_path: Path
):
    (tmp_path / "plain").write_text("")
    path = write_config(
        f"""
        [services.plain]
        command = ["{tmp_path / "plain"}"]
        [services.folder]
        command = ["{tmp_path}"]
        """
    )
    assert problems_of(path) == [
        f"{path}:6: services.plain.command = '{tmp_path / 'plain'}':"
        f" not executable: {tmp_path / 'plain'}",
        f"{path}:8: services.folder.command = '{tmp_path}': a directory, not a program: {tmp_path}",
    ]


def test_the_services_own_path_is_searched_when_it_sets_one(
    write_config: WriteConfig, tmp_path: Path
):
    executable(tmp_path / "tools" / "serve")
    found = write_config(
        f"""
        [services.web]
        command = ["serve"]
        env = {{ PATH = "{tmp_path / "tools"}" }}
        """
    )
    assert [p.argv for p in config.load(found).processes] == [("serve",)]
    # Its own PATH replaces the supervisor's: `sleep` is not on it.
    lost = write_config(
        f"""
        [services.web]
        command = ["sleep", "1"]
        env = {{ PATH = "{tmp_path / "tools"}" }}
        """
    )
    assert problems_of(lost) == [
        f"{lost}:6: services.web.command = 'sleep': not found on the service's PATH"
        f" {tmp_path / 'tools'}"
    ]


def test_a_relative_program_is_found_from_the_services_directory(
    write_config: WriteConfig, tmp_path: Path
):
    executable(tmp_path / "app" / "bin" / "serve")
    path = write_config(
        """
        [services.web]
        command = ["bin/serve"]
        directory = "app"
        [services.elsewhere]
        command = ["bin/serve"]
        directory = "app/bin"
        """
    )
    assert problems_of(path) == [
        f"{path}:9: services.elsewhere.command = 'bin/serve':"
        f" no such file: {tmp_path / 'app' / 'bin' / 'bin' / 'serve'}"
        " (relative to the service's directory)"
    ]


def test_programs_are_judged_after_variables_and_placeholders(
    write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for number in (1, 2):
        executable(tmp_path / "bin" / f"worker-{number}")
    monkeypatch.setenv("BIN", str(tmp_path / "bin"))
    path = write_config(
        """
        [services.worker]
        command = ["${BIN}/worker-{process_number}"]
        workers = 3
        readiness = { exec = ["${BIN}/worker-{process_number}", "--ping"] }
        """
    )
    missing = tmp_path / "bin" / "worker-3"
    assert problems_of(path) == [
        f"{path}:6: services.worker.command = '{missing}': no such file: {missing}",
        f"{path}:8: services.worker.readiness.exec = '{missing}': no such file: {missing}",
    ]
    executable(missing)
    assert len(config.load(path).processes) == 3


def test_a_program_named_by_an_env_file_stays_unsaid(write_config: WriteConfig, tmp_path: Path):
    (tmp_path / "secret.env").write_text("PROGRAM=/opt/s3cr3t/tool\n")
    path = write_config(
        """
        [supervisor]
        state_dir = "state"
        env_file = "secret.env"

        [services.web]
        command = ["${PROGRAM}"]
        """
    )
    (problem,) = problems_of(path)
    assert problem == f"{path}:7: services.web.command = '***': no such file: ***"


def test_a_value_already_refused_is_not_judged_again(write_config: WriteConfig):
    path = write_config('[services.web]\ncommand = ["${NOT_SET_ANYWHERE}"]\n')
    problems = problems_of(path)
    assert "variable NOT_SET_ANYWHERE is not set" in problems[0]
    assert not any("PATH" in problem or "no such file" in problem for problem in problems)


def test_manager_services_run_this_interpreter(write_config: WriteConfig, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # nothing at all can be found on it
    path = write_config(
        """
        [options]
        scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"
        [services.cinder-scheduler]
        """
    )
    (process,) = config.load(path).processes
    assert process.argv[0] == sys.executable


def test_check_and_run_refuse_the_same_file_the_same_way(write_config: WriteConfig, tmp_path: Path):
    path = write_config(
        """
        [services.db]
        command = ["sleep", "1000"]
        [services.gone]
        command = ["/nonexistent/bin"]
        """
    )
    line = f"{path}:8: services.gone.command = '/nonexistent/bin': no such file: /nonexistent/bin\n"
    for command in ("check", "run"):
        result = subprocess.run(
            [sys.executable, "-m", "supervisor", command, "-c", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (result.returncode, result.stderr) == (2, line), command
    assert not (tmp_path / "state").exists()  # `run` started nothing, not even its state
