"""One validation for `check`, `run` and `reload`: what `check` accepts, `run` can start and
`reload` can apply; what it refuses, all three refuse with the same message (exit status 2).

Each case is a file a user could write; every command runs as a user would run it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from supervisor import config
from supervisor.config.rules import NAME_RULE
from supervisor.testing.harness import WriteConfig
from tests.support.configtext import at
from tests.support.stackcli import ReadyStack, cli, status_of

BASE = """[supervisor]
state_dir = "state"

[services.db]
command = ["sleep", "1000"]
start_seconds = 0
"""
SECONDS = "expected a value from 0 to 86400"


@dataclass(frozen=True)
class Case:
    id: str
    text: str  # appended to BASE
    line_of: str  # the snippet on the line the error must name
    error: str  # what follows "FILE:LINE: "
    prepare: Callable[[Path], None] = lambda directory: None
    main: str = 'state_dir = "state"'  # the [supervisor] table's keys
    # A reload cannot move the state directory, and its client finds the supervisor there.
    reloadable: bool = True


def name_case(id: str, name: str) -> Case:
    return Case(
        id,
        f'[services."{name}"]\ncommand = ["true"]\n',
        f'[services."{name}"]',
        f"services.{name} = {name!r}: not usable as a service name: {NAME_RULE}",
    )


def make_file(name: str) -> Callable[[Path], None]:
    return lambda directory: (directory / name).write_text("in the way\n")


CASES = [
    name_case("slash", "a/b"),
    name_case("parent", "../x"),
    name_case("empty", ""),
    name_case("hidden", ".x"),
    name_case("worker separator", "db#1"),
    name_case("too long", "x" * 65),
    name_case("a stderr log's suffix", "web.err"),
    Case(
        "duplicate backend",
        '[services.cinder-volume]\nmanager = "a.B"\nbackends = ["x", "x"]\n',
        "backends",
        "services.cinder-volume.backends = 'x':"
        " listed twice; each backend runs one process, named after it",
    ),
    Case(
        "backend name",
        '[services.cinder-volume]\nmanager = "a.B"\nbackends = ["a/b"]\n',
        "backends",
        f"services.cinder-volume.backends = 'a/b': not usable as a backend name: {NAME_RULE}",
    ),
    Case(
        "nan",
        '[services.web]\ncommand = ["true"]\nstop_timeout = nan\n',
        "stop_timeout = nan",
        "services.web.stop_timeout = nan: expected a finite number from 0 to 86400",
    ),
    Case(
        "inf",
        '[services.web]\ncommand = ["true"]\nstart_seconds = inf\n',
        "start_seconds = inf",
        "services.web.start_seconds = inf: expected a finite number from 0 to 86400",
    ),
    Case(
        "a year",
        '[services.web]\ncommand = ["true"]\nrestart = { backoff = { max = 31536000 } }\n',
        "restart",
        "services.web.restart.backoff.max = 31536000: expected a value from 0.1 to 86400",
    ),
    Case(
        "a billion workers",
        '[services.web]\ncommand = ["true"]\nworkers = 1000000000\n',
        "workers",
        "services.web.workers = 1000000000: expected a value from 1 to 1000",
    ),
    Case(
        "huge integer",
        '[services.web]\ncommand = ["true"]\nstop_timeout = 1' + "0" * 30 + "\n",
        "stop_timeout = 1000",
        f"services.web.stop_timeout = 1{'0' * 30}: {SECONDS}",
    ),
    Case(
        "not UTF-8",
        '[services.web]\ncommand = ["caf\udce9"]\n',
        "caf",
        "not UTF-8: byte 0xe9 at offset {offset}; TOML files must be UTF-8",
    ),
    Case(
        "state_dir is a file",
        "",
        "state_dir",
        "supervisor.state_dir = 'state': not a directory: {dir}/state",
        prepare=make_file("state"),
        reloadable=False,
    ),
    Case(
        "state_dir cannot be created",
        "",
        "state_dir",
        "supervisor.state_dir = 'blocker/state': cannot be created: {dir}/blocker"
        " is not a directory",
        prepare=make_file("blocker"),
        main='state_dir = "blocker/state"',
        reloadable=False,
    ),
    Case(
        "directory missing",
        '[services.web]\ncommand = ["sleep", "1"]\ndirectory = "missing"\n',
        "directory",
        "services.web.directory = 'missing': no such directory: {dir}/missing",
    ),
    Case(
        "directory is a file",
        '[services.web]\ncommand = ["sleep", "1"]\ndirectory = "plain"\n',
        "directory",
        "services.web.directory = 'plain': not a directory: {dir}/plain",
        prepare=make_file("plain"),
    ),
    Case(
        "variable name",
        '[services.web]\ncommand = ["true"]\nenv = { "A=B" = "1" }\n',
        "env",
        "services.web.env.A=B: expected a variable name without '=' or NUL",
    ),
    Case(
        "NUL in an argument",
        '[services.web]\ncommand = ["echo", "a\\u0000b"]\n',
        'command = ["echo"',
        "services.web.command = ['echo', 'a\\x00b']:"
        " expected a program name first, and no NUL characters",
    ),
    Case(
        "unbalanced quote",
        '[services.web]\ncommand = "echo \'a"\n',
        "echo 'a",
        'services.web.command = "echo \'a": cannot split into arguments: No closing quotation',
    ),
    Case(
        "a date in options",
        "[options]\nsince = 2026-01-01\n",
        "since",
        "options.since = datetime.date(2026, 1, 1):"
        " dates and times cannot be passed to a manager; write it as a string",
    ),
    Case(
        "empty topic prefix",
        "",
        "topic_prefix",
        "supervisor.topic_prefix = '': expected a non-empty string",
        main='state_dir = "state"\ntopic_prefix = ""',
    ),
]


def text_of(case: Case) -> str:
    return BASE.replace('state_dir = "state"', case.main) + "\n" + case.text


def write_case(case: Case, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    case.prepare(directory)
    path = directory / "services.toml"
    path.write_bytes(text_of(case).encode("utf-8", "surrogateescape"))
    return path


def expected(case: Case, path: Path) -> str:
    if case.id == "not UTF-8":
        line = next(n for n, text in enumerate(text_of(case).split("\n"), 1) if "caf" in text)
        where = f"{path}:{line}"
    else:
        where = at(path, case.line_of)
    offset = path.read_bytes().find(b"\xe9")
    return f"{where}: {case.error.format(dir=path.parent, offset=offset)}"


# One case of each class goes through `run` and `reload` too: they load through the same code,
# and each costs a process start on a machine that may be busy.
EVERY_COMMAND = {
    "slash",
    "duplicate backend",
    "nan",
    "a billion workers",
    "not UTF-8",
    "state_dir is a file",
    "state_dir cannot be created",
    "directory missing",
    "variable name",
    "a date in options",
}


@pytest.mark.parametrize("command", ["check", "run"])
def test_check_and_run_refuse_each_case_with_the_same_message(command: str, tmp_path: Path):
    cases = CASES if command == "check" else [c for c in CASES if c.id in EVERY_COMMAND]
    files = [write_case(case, tmp_path / f"case-{n}") for n, case in enumerate(cases)]
    # Started together: each is a short-lived process that must refuse before starting anything.
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "supervisor", command, "-c", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]
    for case, path, process in zip(cases, files, running, strict=True):
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 2, f"{case.id}: {stdout}{stderr}"
        assert stderr.splitlines() == [expected(case, path)], case.id
        assert "Traceback" not in stderr
        if case.reloadable:
            assert not (path.parent / "state").exists(), f"{case.id}: run started anyway"


def test_reload_refuses_each_case_and_the_stack_runs_on(ready_stack: ReadyStack, tmp_path: Path):
    stack = ready_stack(BASE.split("\n", 3)[3])
    before = status_of(stack.config)
    for case in [c for c in CASES if c.reloadable and c.id in EVERY_COMMAND]:
        case.prepare(tmp_path)
        stack.config.write_bytes(text_of(case).encode("utf-8", "surrogateescape"))
        result = cli(stack.config, "reload")
        assert result.returncode == 2, f"{case.id}: {result.stdout}{result.stderr}"
        assert expected(case, stack.config) in result.stderr, case.id
    # The supervisor itself judged every case that reached it, and is still serving.
    assert stack.select(event="reload", action="applied") == []
    after = status_of(stack.config)
    assert {n: p["pid"] for n, p in after.items()} == {n: p["pid"] for n, p in before.items()}
    assert stack.process.poll() is None


def test_what_check_accepts_run_starts_and_reload_applies(
    write_config: WriteConfig, ready_stack: ReadyStack
):
    """Odd but allowed names: dots, dashes, underscores, a leading digit, the longest name."""
    longest = "L" * 64
    odd = f"""
    [options]
    backup_manager = "supervisor.managers.backup.BackupManager"

    [services."9lives"]
    command = ["sh", "-c", "echo up; exec sleep 1000"]
    start_seconds = 0

    [services."a.b-c_d"]
    command = ["sh", "-c", "echo up; exec sleep 1000"]
    start_seconds = 0
    workers = 2

    [services.{longest}]
    command = ["sh", "-c", "echo up; exec sleep 1000"]
    start_seconds = 0
    """
    path = write_config(odd)
    assert cli(path, "check").returncode == 0
    stack = ready_stack(odd)
    logs = stack.config.parent / "state" / "logs"
    wanted = {"9lives.log", "a.b-c_d#1.log", "a.b-c_d#2.log", f"{longest}.log"}
    stack.wait_until(lambda: wanted <= {log.name for log in logs.iterdir()}, 20, "the logs")
    write_config(odd + '\n[services."x.y"]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\n')
    result = cli(stack.config, "reload")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("added      x.y\n")
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    assert set(status_of(stack.config)) == {"9lives", "a.b-c_d#1", "a.b-c_d#2", longest, "x.y"}


def test_a_line_inside_a_multiline_string_is_never_a_header(write_config: WriteConfig):
    path = write_config(
        '''
        [options]
        motd = """
        [services.web]
        stop_timeout = 1
        """
        host = "node1"

        [services.web]
        command = ["true"]
        workers = 0
        '''
    )
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    (problem,) = raised.value.problems
    assert f"{path}:{problem.line}" == at(path, "workers")


def test_every_problem_of_a_table_is_reported(write_config: WriteConfig):
    path = write_config(
        """
        [services.cinder-volume]
        manager = "not a path"
        backends = ["a", "a"]
        stop_timeout = -1
        depends_on = ["ghost"]
        colour = "blue"
        """
    )
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    assert [problem.key for problem in raised.value.problems] == [
        "services.cinder-volume.manager",
        "services.cinder-volume.backends",
        "services.cinder-volume.stop_timeout",
        "services.cinder-volume.depends_on",
        "services.cinder-volume.colour",
    ]


def test_a_ten_megabyte_file_of_comments_checks_in_seconds(tmp_path: Path):
    path = tmp_path / "services.toml"
    comment = "# " + "x" * 60 + "\n"
    with path.open("w") as file:
        file.write(BASE)
        file.write(comment * (10_000_000 // len(comment)))
    started = time.monotonic()
    plan = config.load(path)
    # 38 s before; under a second now.  The bound leaves room for a loaded machine.
    assert time.monotonic() - started < 15
    assert [process.name for process in plan.processes] == ["db"]


def test_a_directory_removed_after_the_check_is_named_when_a_start_fails(
    ready_stack: ReadyStack, tmp_path: Path
):
    work = tmp_path / "work"
    work.mkdir()
    stack = ready_stack(
        '[services.web]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\ndirectory = "work"\n',
    )
    work.rmdir()  # the running sleep keeps its directory; the next start cannot enter it
    assert cli(stack.config, "restart", "web", "--timeout", "20").returncode != 0
    event = stack.wait_event(event="state", unit="web", to="fatal")
    assert event["cause"] == f"cannot enter {work.resolve()}: No such file or directory"
