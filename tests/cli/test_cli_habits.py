"""The habits users bring from systemctl, supervisorctl and process-compose, against a real
`supervisor run`: global options on either side of the command, SUPERVISOR_CONFIG, --version,
"did you mean", `restart all`, NO_COLOR, errors in JSON, `status NAME` exiting 3 for a process
that is not running, the STATUS column, and shell completion."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.testing.harness import RunningStack, RunStack, WriteConfig
from tests.support.stackcli import SLEEPERS, ReadyStack, cli

# A notify service that says what it is doing, as sd_notify's STATUS= does, then sleeps.
_SAYS_ITS_STATUS = """
import os, socket, time
address = os.environ["NOTIFY_SOCKET"]
address = "\\0" + address[1:] if address.startswith("@") else address
with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
    sock.sendto(b"READY=1\\nSTATUS=serving 3 volumes", address)
time.sleep(1000)
"""


def supervisor(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "supervisor", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


@pytest.fixture
def sleepers(ready_stack: ReadyStack) -> RunningStack:
    return ready_stack(SLEEPERS)


def test_the_config_option_goes_before_or_after_the_command_and_the_later_one_wins(
    sleepers: RunningStack, tmp_path: Path
):
    config = str(sleepers.config)
    for args in (
        ("-c", config, "status", "--json"),
        ("status", "--json", "-c", config),
        ("--config", config, "status", "db"),
        ("-c", str(tmp_path / "nothing.toml"), "status", "-c", config),
    ):
        result = supervisor(*args)
        assert result.returncode == 0, (args, result.stderr)
    # The later one wins the other way round too: this file does not exist.
    result = supervisor("-c", config, "status", "-c", str(tmp_path / "nothing.toml"))
    assert result.returncode == 2 and "nothing.toml: cannot read" in result.stderr


def test_supervisor_config_is_the_default_file_and_an_explicit_one_wins(
    sleepers: RunningStack, tmp_path: Path
):
    variable = {"SUPERVISOR_CONFIG": str(sleepers.config)}
    result = supervisor("status", "--json", env=variable, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [process["name"] for process in json.loads(result.stdout)["processes"]]
    assert names == ["db", "api#1", "api#2"]
    result = supervisor("status", "-c", str(tmp_path / "other.toml"), env=variable)
    assert result.returncode == 2 and "other.toml: cannot read" in result.stderr


def test_version_is_the_distributions():
    from importlib.metadata import version

    result = supervisor("--version")
    assert result.returncode == 0
    assert result.stdout == f"supervisor {version('cinder-stack-supervisor')}\n"


def test_a_mistyped_command_is_told_the_closest_one():
    result = supervisor("stauts")
    assert result.returncode == 2
    assert "invalid choice: 'stauts' (did you mean 'status'?)" in result.stderr
    assert result.stdout == ""


def test_an_unknown_name_is_told_the_closest_names(sleepers: RunningStack):
    result = cli(sleepers.config, "stop", "apy#1")
    assert result.returncode == 1
    assert "unknown name 'apy#1'; 'apy#1': did you mean 'api#1'" in result.stderr
    assert "services: db, api" in result.stderr  # the daemon's list is still there


def test_fault_on_an_unknown_process_is_told_the_closest_one(sleepers: RunningStack):
    result = cli(sleepers.config, "fault", "api#3", "kill")
    assert result.returncode == 1
    assert "'api#3': did you mean 'api#2', 'api#1' or 'api'?" in result.stderr


@pytest.mark.parametrize("verb", ["start", "stop", "restart"])
def test_all_as_a_name_is_told_to_use_the_all_flag(sleepers: RunningStack, verb: str):
    result = cli(sleepers.config, verb, "all", "--no-block")
    assert result.returncode == 1
    assert f"to act on every process, use --all: supervisor {verb} --all" in result.stderr


def test_errors_of_a_json_command_are_json_on_stdout_with_the_same_status(
    sleepers: RunningStack, tmp_path: Path
):
    result = cli(sleepers.config, "status", "--json", "db", "dbb")
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert result.stderr == error["error"] + "\n"  # as without --json
    assert error["exit_status"] == 1
    assert error["error"].startswith("supervisor: unknown name 'dbb'")
    assert error["unknown"] == ["dbb"] and error["did_you_mean"] == {"dbb": ["db"]}

    usage = cli(sleepers.config, "status", "--json", "--colour")
    assert usage.returncode == 2
    assert json.loads(usage.stdout)["error"] == "supervisor: unrecognized arguments: --colour"

    nobody = supervisor("status", "--json", "-c", str(tmp_path / "none.toml"))
    assert nobody.returncode == 2
    assert json.loads(nobody.stdout)["problems"][0]["message"].startswith("cannot read")


def test_check_json_of_an_invalid_file_lists_every_problem(write_config: WriteConfig):
    config = write_config("[services.web]\ncommand = 5\nstart_seconds = -1\n")
    result = supervisor("check", "--json", "-c", str(config))
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert result.stderr == error["error"] + "\n"
    assert error["exit_status"] == 2
    keys = {problem["key"] for problem in error["problems"]}
    assert {"services.web.command", "services.web.start_seconds"} <= keys
    assert all(problem["line"] for problem in error["problems"])
    assert error["error"] == "\n".join(problem["text"] for problem in error["problems"])


def test_status_json_when_no_supervisor_runs(write_config: WriteConfig):
    result = supervisor("status", "--json", "-c", str(write_config(SLEEPERS)))
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"].startswith("supervisor: no supervisor is running")


def test_status_of_named_processes_exits_3_unless_every_one_is_running(sleepers: RunningStack):
    config = sleepers.config
    assert cli(config, "status", "db").returncode == 0
    assert cli(config, "stop", "api#2").returncode == 0
    assert cli(config, "status", "api").returncode == 3  # one of the two is stopped
    assert cli(config, "status", "--json", "api#2").returncode == 3
    assert cli(config, "status", "api#1", "db").returncode == 0
    assert cli(config, "status").returncode == 0  # no names: the supervisor answered


def test_the_status_column_shows_what_a_process_sent_as_status(
    ready_stack: ReadyStack, tmp_path: Path
):
    script = tmp_path / "says.py"
    script.write_text(_SAYS_ITS_STATUS)
    stack = ready_stack(
        f'[services.vol]\ncommand = ["{sys.executable}", "{script}"]\nnotify = true\n'
        '\n[services.quiet]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\n'
    )
    table = cli(stack.config, "status").stdout.splitlines()
    header = table[0].split()
    assert header[-2:] == ["STATUS", "CAUSE"]
    column = table[0].index("STATUS")
    rows = {line.split()[0]: line for line in table[1:]}
    assert rows["vol"][column:].startswith("serving 3 volumes ")
    assert rows["quiet"][column:].startswith("- ")
    # Without any STATUS= the column is not there at all.
    assert "STATUS" not in cli(stack.config, "status", "quiet").stdout


def _on_a_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """The command's output (stdout and stderr, where `run`'s console is) through a
    pseudo-terminal, as a person at a terminal sees it."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "supervisor", *args],
            stdout=terminal,
            stderr=terminal,
            env=env,
        )
        os.close(terminal)
        terminal = -1
        output = bytearray()
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=30) == 0
        return bytes(output)
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)


def test_no_color_takes_the_colour_out_of_the_status_table(sleepers: RunningStack):
    args = ["status", "-c", str(sleepers.config)]
    plain_env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    assert b"\x1b[32m" in _on_a_terminal(args, plain_env)
    without = _on_a_terminal(args, {**plain_env, "NO_COLOR": "1"})
    assert b"running" in without and b"\x1b" not in without
    # no-color.org: an empty NO_COLOR is as if it were not set.
    assert b"\x1b[32m" in _on_a_terminal(args, {**plain_env, "NO_COLOR": ""})


def test_no_color_takes_the_colour_out_of_the_console(write_config: WriteConfig, tmp_path: Path):
    """`supervisor run` on a terminal colours each service's prefix, unless NO_COLOR is set."""
    config = write_config('[services.web]\ncommand = ["echo", "hello"]\n')
    plain_env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    coloured = _on_a_terminal(["run", "-c", str(config)], plain_env)
    assert b"\x1b[" in coloured and b"hello" in coloured
    plain = _on_a_terminal(["run", "-c", str(config)], {**plain_env, "NO_COLOR": "1"})
    assert b"web | hello" in plain and b"\x1b" not in plain
    empty = _on_a_terminal(["run", "-c", str(config)], {**plain_env, "NO_COLOR": ""})
    assert b"\x1b[" in empty  # an empty NO_COLOR does not count


def test_no_color_takes_the_colour_out_of_the_log_prefixes(
    write_config: WriteConfig, run_stack: RunStack
):
    """`logs` of several processes prefixes each line with its name, coloured on a terminal."""
    config = write_config(
        '[services.one]\ncommand = ["echo", "first"]\n'
        '\n[services.two]\ncommand = ["echo", "second"]\n'
    )
    assert run_stack(config).wait_exit(30) == 0
    plain_env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    coloured = _on_a_terminal(["logs", "-c", str(config)], plain_env)
    assert b"\x1b[" in coloured and b"first" in coloured
    plain = _on_a_terminal(["logs", "-c", str(config)], {**plain_env, "NO_COLOR": "1"})
    assert b"one | " in plain and b"two | " in plain and b"\x1b" not in plain


def _completions(line: str) -> list[str]:
    """What the shell hook of `register-python-argcomplete supervisor` gets for `line`: the
    command runs with _ARGCOMPLETE set and writes the candidates to fd 8 (its debug output to
    fd 9), as the hook arranges."""
    pytest.importorskip("argcomplete")
    read_end, write_end = os.pipe()
    hook = f'exec "$0" -m supervisor 8>&{write_end} 9>/dev/null {write_end}>&-'
    process = subprocess.Popen(
        ["bash", "-c", hook, sys.executable],
        env={
            **os.environ,
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_IFS": "\n",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "COMP_TYPE": "9",
        },
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as candidates:
        output = candidates.read().decode()
    assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    return sorted(word.strip() for word in output.split("\n") if word.strip())


def test_completion_of_commands_options_and_running_names(sleepers: RunningStack):
    assert _completions("supervisor sta") == ["start", "status"]
    assert "--json" in _completions("supervisor status --j")
    config = str(sleepers.config)
    assert _completions(f"supervisor -c {config} restart ap") == ["api", "api#1", "api#2"]
    assert _completions(f"supervisor status -c {config} d") == ["db"]


def test_completion_is_imported_only_under_the_hook(sleepers: RunningStack):
    """argcomplete loads only under the completion hook: `status` does not import it."""
    listing = "print(sorted(n for n in sys.modules if n.startswith('argcomplete')))"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; from supervisor.cli.main import main; main(sys.argv[1:]); {listing}",
            "status",
            "-c",
            str(sleepers.config),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.splitlines()[-1] == "[]", result.stdout + result.stderr
