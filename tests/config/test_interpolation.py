"""Interpolation in services.toml: `${VAR}`, `${VAR:-default}`, `$$`, env files and the
per-process placeholders, judged by `check` (file:line:key) and seen by real processes."""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from pathlib import Path

import pytest

from supervisor import config
from supervisor.config.envfile import EnvFileError, parse
from supervisor.testing.harness import RunningStack, WriteConfig
from supervisor.testing.stack import write_test_config
from tests.support.configtext import OPTIONS, at, errors_of
from tests.support.stackcli import ReadyStack, cli


def test_defaults_dollars_and_braces(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GREETING", raising=False)
    monkeypatch.setenv("EMPTY", "")
    monkeypatch.setenv("TWO_WORDS", "a b")
    monkeypatch.setenv("TRICKY", "{name} $${HOME} ${HOME}")
    plan = config.load(
        write_config(
            """
            [options]
            database_url = "${DB_URL_UNSET:-sqlite:///x.sqlite}"

            [services.web]
            command = ["echo", "${GREETING:-hello}", "${EMPTY:-was empty}", "$$HOME",
                       "$${HOME}", "$HOME", "$(date)", "{{literal}}", "{1..3}", "${TRICKY}"]

            [services.split]
            command = "echo ${TWO_WORDS} $$$$"
            """
        )
    )
    web, split = plan.processes
    assert web.argv == (
        "echo",
        "hello",
        "was empty",  # `:-` takes the default for an empty value too, as a shell does
        "$HOME",
        "${HOME}",
        "$HOME",  # a `$` that starts no `${` is itself
        "$(date)",
        "{literal}",
        "{1..3}",  # braces around anything but a word are text
        "{name} $${HOME} ${HOME}",  # a value is never scanned again
    )
    assert split.argv == ("echo", "a b", "$$"), "a value never splits into arguments"
    assert plan.options["database_url"] == "sqlite:///x.sqlite"


def test_every_string_is_interpolated(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("WORK", "work")
    monkeypatch.setenv("STATE", "elsewhere")
    monkeypatch.setenv("NODE", "node7")
    path = write_config(
        """
        [supervisor]
        state_dir = "${STATE}"

        [options]
        host = "${NODE}"
        nested = { list = ["${NODE}-a", { deeper = "${NODE}-b" }] }

        [services.web]
        command = ["true"]
        directory = "${WORK}"
        env = { WHERE = "${NODE}" }
        readiness = { exec = ["test", "${NODE}"] }
        """
    )
    plan = config.load(path)
    (web,) = plan.processes
    assert plan.state_dir == tmp_path / "elsewhere" == config.state_dir_of(path)
    assert plan.options["host"] == "node7"
    assert plan.options["nested"] == {"list": ["node7-a", {"deeper": "node7-b"}]}
    assert web.settings.directory == str(tmp_path / "work")
    assert web.settings.env == (("WHERE", "node7"),)
    assert web.settings.readiness is not None
    assert web.settings.readiness.exec == ("test", "node7")


def test_an_unset_variable_is_a_check_error_naming_file_line_and_key(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = write_config(
        """
        [options]
        database_url = "${NOT_SET_ANYWHERE}"

        [services.web]
        command = ["echo", "${NOT_SET_ANYWHERE}"]
        """
    )
    result = cli(path, "check")
    assert result.returncode == 2, result.stdout + result.stderr
    hint = (
        "variable NOT_SET_ANYWHERE is not set (in the supervisor's environment or an env_file):"
        " set it, or give a default: ${NOT_SET_ANYWHERE:-value}; $$ is a literal '$'"
    )
    assert result.stderr.splitlines() == [
        f"{at(path, 'database_url')}: options.database_url = '${{NOT_SET_ANYWHERE}}': {hint}",
        f"{at(path, 'command')}: services.web.command = '${{NOT_SET_ANYWHERE}}': {hint}",
    ]
    assert cli(path, "run").returncode == 2, "what check refuses, run refuses"
    assert not (path.parent / "state").exists()


def test_placeholder_and_syntax_errors(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EMPTY", "")
    path = write_config(
        """
        [services.typo]
        command = ["echo", "{prot}"]

        [services.worker]
        command = ["echo"]
        env = { B = "{backend}", P = "{port}" }

        [services.malformed]
        command = ["echo", "${1}"]

        [services.nothing]
        command = ["${EMPTY}"]

        [services.crowded]
        command = ["echo", "{port}"]
        port = 65535
        workers = 2
        """
    )
    known = "known here: {name}, {service}, {process_number}"
    braces = "{{ and }} are braces"
    assert errors_of(path) == [
        f"{at(path, 'prot')}: services.typo.command = '{{prot}}': unknown placeholder {{prot}}:"
        f" {known}; {braces}",
        f"{at(path, 'backend')}: services.worker.env.B = '{{backend}}': unknown placeholder"
        f" {{backend}}: {known}; {{backend}} needs backends; {braces}",
        f"{at(path, 'backend')}: services.worker.env.P = '{{port}}': unknown placeholder"
        f" {{port}}: {known}; {{port}} needs the service's port = N; {braces}",
        f"{at(path, '${1}')}: services.malformed.command = '${{1}}': '${{' starts no variable:"
        " write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), or $$ for a '$'",
        f"{at(path, 'EMPTY')}: services.nothing.command: the program name is empty once"
        " interpolated",
        f"{at(path, '65535')}: services.crowded.port = 65535: its last process would get port"
        " 65536 > 65535",
    ]


def test_placeholders_give_each_process_its_own_values(write_config: WriteConfig):
    plan = config.load(
        write_config(
            OPTIONS
            + """
            [services.cinder-volume]
            backends = ["lvm-1", "lvm-2"]
            port = 9000
            env = { ME = "{name} {service} {backend} {process_number} {port}" }

            [services.web]
            command = ["echo", "--port={port}", "--id={name}"]
            port = 8000
            workers = 2
            readiness = { exec = ["test", "{port}"] }
            """
        )
    )
    by_name = {process.name: process for process in plan.processes}
    assert dict(by_name["cinder-volume@lvm-2"].settings.env) == {
        "ME": "cinder-volume@lvm-2 cinder-volume lvm-2 2 9001"
    }
    for number, port in ((1, 8000), (2, 8001)):
        web = by_name[f"web#{number}"]
        assert web.argv == ("echo", f"--port={port}", f"--id=web#{number}")
        assert web.settings.readiness is not None
        assert web.settings.readiness.exec == ("test", str(port))


def test_env_file_syntax():
    text = (
        "# a comment\n"
        "\n"
        "export PLAIN=one two   # a comment\n"
        "SINGLE = 'no $escapes \\n\n"
        "across lines'\n"
        'DOUBLE="a \\"quote\\" and\\na newline"  # a comment\n'
        "HASH=a#b\n"
        "EMPTY=\n"
        "PLAIN=last wins\n"
    )
    assert parse(text) == {
        "PLAIN": "last wins",
        "SINGLE": "no $escapes \\n\nacross lines",
        "DOUBLE": 'a "quote" and\na newline',
        "HASH": "a#b",
        "EMPTY": "",
    }
    for bad, message in (
        ("A=1\noops\n", "2: expected NAME=value (or a # comment)"),
        ("A=1\n1A=2\n", "2: expected NAME=value (or a # comment)"),
        ("A=1\nB='open\n\n", "2: the ' quote is never closed"),
        ('A="x" y\n', '1: unexpected text after the closing " quote'),
    ):
        with pytest.raises(EnvFileError) as raised:
            parse(bad)
        assert str(raised.value) == message


def test_env_file_problems_name_the_key_the_file_and_its_line(
    write_config: WriteConfig, tmp_path: Path
):
    (tmp_path / "bad.env").write_text("GOOD=1\n\nnot an assignment\n")
    path = write_config(
        """
        [supervisor]
        state_dir = "state"
        env_file = "missing.env"

        [services.web]
        command = ["true"]
        env_file = ["bad.env"]

        [services.api]
        command = ["true"]
        env_file = 3
        """
    )
    result = cli(path, "check")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{at(path, 'missing.env')}: supervisor.env_file = 'missing.env': no such env file:"
        f" {tmp_path / 'missing.env'}",
        f"{at(path, 'bad.env')}: services.web.env_file = 'bad.env': {tmp_path / 'bad.env'}:3:"
        " expected NAME=value (or a # comment)",
        f"{at(path, '= 3')}: services.api.env_file = 3: expected a file name or a list of file"
        " names",
    ]


ENV_FILE_STACK = """
[supervisor]
state_dir = "state"
env_file = "common.env"

[services.show]
command = [
    "sh", "-c",
    "printf '%s|%s|%s' \\"$TOKEN\\" \\"$GREETING\\" \\"$SHARED\\" > {out}; exec sleep 1000",
]
env_file = ["own.env"]
env = {{ GREETING = "hello ${{TOKEN}} {{name}}" }}
start_seconds = 0
"""


def test_env_files_reach_the_environment_and_check_masks_them(
    write_config: WriteConfig, ready_stack: ReadyStack, tmp_path: Path
):
    out = tmp_path / "seen.txt"
    (tmp_path / "common.env").write_text("TOKEN=common\nSHARED=from-common\n")
    (tmp_path / "own.env").write_text("TOKEN='own s3cr3t'\n")
    path = write_config(ENV_FILE_STACK.format(out=out))

    shown = cli(path, "check")
    assert shown.returncode == 0, shown.stderr
    assert "env           TOKEN='***' SHARED='***' GREETING='hello *** show'" in shown.stdout
    as_json = json.loads(cli(path, "check", "--json").stdout)
    (process,) = as_json["processes"]
    assert process["env"] == {"TOKEN": "***", "SHARED": "***", "GREETING": "hello *** show"}
    for output in (shown.stdout, json.dumps(as_json)):
        assert "s3cr3t" not in output and "from-common" not in output

    stack = ready_stack(ENV_FILE_STACK.format(out=out))
    seen = stack.wait_until(lambda: out.exists() and out.read_text(), 20, "the printed env")
    assert seen == "own s3cr3t|hello own s3cr3t show|from-common"

    # A reload reads the env files afresh, like a first load.
    (tmp_path / "own.env").write_text("TOKEN=rotated\n")
    out.unlink()
    assert cli(path, "reload").returncode == 0
    assert stack.wait_event(event="reload", action="applied")["changed"] == ["show"]
    seen = stack.wait_until(lambda: out.exists() and out.read_text(), 20, "the reloaded env")
    assert seen == "rotated|hello rotated show|from-common"
    assert stack.stop() == 0


def test_a_copy_of_the_stack_reads_the_originals_env_files(
    write_config: WriteConfig, tmp_path: Path
):
    """The pytest plugin and chaos run a copy of the file elsewhere: its env files are the
    original's, relative to the original."""
    (tmp_path / "common.env").write_text("A=1\n")
    (tmp_path / "own.env").write_text("B=2\n")
    source = write_config(
        """
        [supervisor]
        env_file = "common.env"

        [services.web]
        command = ["echo", "${A}${B}"]
        env_file = ["own.env"]
        """
    )
    (tmp_path / "copy").mkdir()
    copy = write_test_config(source, tmp_path / "copy" / "services.toml", tmp_path / "s", {})
    (web,) = config.load(copy).processes
    assert (web.argv, web.settings.env) == (("echo", "12"), (("A", "1"), ("B", "2")))


def consecutive_free_ports(count: int) -> int:
    """The first of `count` ports in a row that nothing listens on now."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count - 1 > 65_535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError(f"no {count} free ports in a row")


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


def test_two_workers_serve_on_two_ports(ready_stack: ReadyStack):
    port = consecutive_free_ports(2)
    stack: RunningStack = ready_stack(
        f"""
        [services.web]
        command = ["{sys.executable}", "-m", "http.server", "{{port}}", "--bind", "127.0.0.1"]
        port = {port}
        workers = 2
        start_seconds = 0
        """,
    )
    stack.wait_until(lambda: answers(port) and answers(port + 1), 20, "both workers to answer")
    started = {event["unit"] for event in stack.select(event="state", to="running")}
    assert started == {"web#1", "web#2"}
    assert stack.stop() == 0


def test_each_worker_is_probed_on_its_own_port(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PROBE_HOST", "127.0.0.1")
    plan = config.load(
        write_config(
            """
            [services.web]
            command = ["python3", "-m", "http.server", "{port}"]
            workers = 2
            port = 8100
            [services.web.readiness]
            http = "http://${PROBE_HOST}:{port}/"
            [services.web.liveness]
            tcp = "${PROBE_HOST}:{port}"
            """
        )
    )
    probes = [
        (p.settings.readiness.http, p.settings.liveness.tcp)
        for p in plan.processes
        if p.settings.readiness and p.settings.liveness
    ]
    assert probes == [
        ("http://127.0.0.1:8100/", "127.0.0.1:8100"),
        ("http://127.0.0.1:8101/", "127.0.0.1:8101"),
    ]


def test_a_probe_address_is_judged_once_rendered(write_config: WriteConfig):
    path = write_config(
        """
        [services.web]
        command = ["sleep", "1000"]
        workers = 2
        [services.web.liveness]
        tcp = "{name}:80"
        """
    )
    assert errors_of(path) == [
        f"{at(path, 'tcp =')}: services.web.liveness.tcp = 'web#1:80':"
        " expected an IP address or localhost (a name lookup would block the supervisor)"
    ]
