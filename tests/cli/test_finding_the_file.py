"""Which services file a command reads when none is named: $SUPERVISOR_CONFIG, else the nearest
`services.toml` in the current directory or a parent, as git finds `.git`; against a real
`supervisor run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.config.location import find_services_file
from supervisor.testing.harness import RunningStack, WriteConfig
from tests.support.stackcli import SLEEPERS, ReadyStack


def supervisor(*args: str, cwd: Path, env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if k != "SUPERVISOR_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "supervisor", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**environment, **(env or {})},
        cwd=cwd,
    )


@pytest.fixture
def sleepers(ready_stack: ReadyStack) -> RunningStack:
    return ready_stack(SLEEPERS)


def test_status_from_a_subdirectory_finds_the_file_above_and_its_supervisor(
    sleepers: RunningStack, tmp_path: Path
):
    deep = tmp_path / "src" / "module"
    deep.mkdir(parents=True)
    result = supervisor("status", "--json", cwd=deep)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["supervisor"]["config"] == str(sleepers.config)
    assert [process["name"] for process in answer["processes"]] == ["db", "api#1", "api#2"]
    assert supervisor("stop", "db", cwd=deep).returncode == 0


def test_check_from_a_subdirectory_reads_paths_relative_to_the_file(
    write_config: WriteConfig, tmp_path: Path
):
    (tmp_path / "work").mkdir()
    config = write_config('[services.a]\ncommand = ["sleep", "1"]\ndirectory = "work"\n')
    deep = tmp_path / "work" / "deeper"
    deep.mkdir()
    result = supervisor("check", "--json", cwd=deep)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["config"] == str(config)  # named by its absolute path: it is not in cwd
    assert plan["state_dir"] == str(tmp_path / "state")
    # In its own directory the file is still just `services.toml`, as it always was.
    assert supervisor("check", cwd=tmp_path).stdout.startswith(f"{config}: 1 processes")


def test_the_variable_and_the_option_still_win_over_the_search(
    write_config: WriteConfig, tmp_path: Path
):
    write_config('[services.found]\ncommand = ["sleep", "1"]\n')
    other = tmp_path / "other.toml"
    other.write_text('[services.given]\ncommand = ["sleep", "1"]\n')

    def services(*args: str, env: dict[str, str] | None = None) -> list[str]:
        result = supervisor("check", "--json", *args, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        return [process["name"] for process in json.loads(result.stdout)["processes"]]

    assert services() == ["found"]
    assert services(env={"SUPERVISOR_CONFIG": str(other)}) == ["given"]
    assert services("-c", str(other)) == ["given"]
    assert services("-c", "services.toml", env={"SUPERVISOR_CONFIG": str(other)}) == ["found"]


@pytest.mark.parametrize(
    "args", [("status",), ("check",), ("logs",), ("run",), ("status", "--json")]
)
def test_no_file_anywhere_above_is_one_line_naming_where_it_looked(
    tmp_path: Path, args: tuple[str, ...]
):
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    if find_services_file(nowhere).found is not None:
        pytest.skip("a services.toml above the test's directory would be found")
    result = supervisor(*args, cwd=nowhere)
    message = (
        f"supervisor: no services.toml in {nowhere} or any parent directory;"
        " give one with -c FILE or $SUPERVISOR_CONFIG"
    )
    assert result.returncode == 2
    assert result.stderr == message + "\n"
    if "--json" in args:
        assert json.loads(result.stdout) == {"error": message, "exit_status": 2}


def test_commands_that_do_not_need_the_file_do_not_look_for_one(tmp_path: Path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: sleep 1\n")
    result = supervisor("import", str(procfile), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[services.web]" in result.stdout
