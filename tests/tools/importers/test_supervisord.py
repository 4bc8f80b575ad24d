"""`supervisor import` of a supervisord.conf: a realistic one (eleven programs, numprocs,
environments, priorities, groups, an event listener, an [include]) is translated, passes
`check` and runs; bad input is refused with its file, line and key."""

from __future__ import annotations

import os
import pwd
import signal
import textwrap
from pathlib import Path

import pytest

from supervisor.testing.harness import RunningStack
from tests.support.stackcli import cli, status_of
from tests.tools.importers.importing import (
    assert_refused,
    comments,
    services_of,
    supervisor_import,
)

GREETING = {"IMPORT_GREETING": "hi"}
EXPECTED_PROCESSES = {
    "db", "cache", "migrate", "web#1", "web#2", "web#3", "api#1", "api#2", "worker#1",
    "worker#2", "scheduler", "reporter", "metrics", "cleanup",
}  # fmt: skip


# The fixture's web runs as www-data under supervisord; here as whoever runs the tests, so the
# translation passes check and runs under any account (only root may run one as another).
OWN_USER = pwd.getpwuid(os.geteuid()).pw_name


def _imported(fixture_copy, *args: str) -> tuple[Path, str]:
    folder = fixture_copy("supervisord")
    conf = folder / "supervisord.conf"
    conf.write_text(conf.read_text().replace("user=www-data", f"user={OWN_USER}"))
    output = folder / "services.toml"
    result = supervisor_import(folder / "supervisord.conf", "-o", str(output), *args,
                               environment=GREETING)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return output, result.stderr


def _log_says(stack: RunningStack, process: str, text: str) -> None:
    log = stack.config.parent / ".supervisor" / "logs" / f"{process}.log"
    stack.wait_until(lambda: log.exists() and text in log.read_text(), 30, f"{text!r} in {log}")


def test_a_realistic_conf_is_imported_checked_and_run(
    fixture_copy, ready_import, monkeypatch
) -> None:
    # %(ENV_X)s is ${X} in the translation: check and run read it too.
    monkeypatch.setenv("IMPORT_GREETING", "hi")
    config, _ = _imported(fixture_copy)
    checked = cli(config, "check")
    assert checked.returncode == 0, checked.stderr

    stack = ready_import(config)
    states = {name: row["state"] for name, row in status_of(config).items()}
    assert set(states) == EXPECTED_PROCESSES  # mailer (autostart=false) is commented out
    assert states.pop("migrate") == "exited"
    assert set(states.values()) == {"running"}
    # %(process_num)s with numprocs_start = 1 is {process_number}; from 8000, {port}.
    _log_says(stack, "web#2", "web 2 hi")
    _log_says(stack, "api#2", "api on 8001")
    stack.signal(signal.SIGTERM)
    assert stack.wait_exit(timeout=60) == 0


def test_unsupported_settings_are_listed_on_stderr_with_file_and_line(fixture_copy) -> None:
    config, stderr = _imported(fixture_copy)
    conf = config.parent / "supervisord.conf"
    extra = config.parent / "conf.d" / "extra.conf"
    for expected in (
        f"{conf}:91: [eventlistener:memmon]: not imported: event listeners are not supported",
        f"{conf}:71: [program:worker] umask = '022': not imported",
        f"{conf}:50: [program:web] stdout_logfile = '/var/log/shop/web-%(process_num)s.log'",
        f"{conf}:4: [unix_http_server] file = ",
        f"{extra}:6: [program:metrics] stdout_syslog = 'true': not imported",
    ):
        assert expected in stderr
    notes = comments(config.read_text())
    assert "[eventlistener:memmon]: not imported" in notes


def test_what_each_program_becomes(fixture_copy) -> None:
    config, _ = _imported(fixture_copy)
    services = services_of(config)
    web, api, worker = services["web"], services["api"], services["worker"]
    assert web["workers"] == 3
    assert web["user"] == OWN_USER
    assert web["command"].endswith("{process_number}")
    assert web["env"] == {
        "APP_ENV": "test",  # [supervisord] environment, under the program's own
        "APP_NAME": "shop",
        "GREETING": "${IMPORT_GREETING}",
        "WORKER": "web-{process_number}",
    }
    assert web["restart"]["policy"] == "always"
    assert (web["log_max_bytes"], web["log_backups"]) == (50 * 1024 * 1024, 3)
    assert "stderr" not in web  # redirect_stderr = true
    assert (api["workers"], api["port"], api["command"].endswith("--port {port}")) == (
        2,
        8000,
        True,
    )
    assert api["stop_timeout"] == 3.0
    assert worker["restart"]["success_exit_codes"] == [0, 2]
    assert worker["restart"]["start_limit"]["burst"] == 5
    assert services["db"]["stop_signal"] == "INT"
    assert services["db"]["directory"] == "."
    assert services["migrate"]["restart"] == {"policy": "never"}
    # Priority tiers, each after the one before: 10, 20, 30 (group frontend), 40 (group
    # backend), 50, 999.
    assert "depends_on" not in services["db"] and "depends_on" not in services["cache"]
    assert services["migrate"]["depends_on"] == ["db", "cache"]
    assert web["depends_on"] == api["depends_on"] == ["migrate"]
    assert worker["depends_on"] == services["scheduler"]["depends_on"] == ["web", "api"]
    assert services["metrics"]["depends_on"] == ["worker", "scheduler"]
    assert services["cleanup"]["depends_on"] == ["reporter", "metrics"]
    assert "mailer" not in services
    assert "# [services.mailer]" in config.read_text()


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "supervisord.conf"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[program:a]\ncommand=sleep 1\nthis line has no equals sign\n", ":3: not a key = value"),
        ("command=sleep 1\n", ":1: expected a [section] header"),
        (
            "[program:a]\ncommand=sleep 1\nenvironment=A=%(ENV_IMPORT_SURELY_UNSET)s\n",
            ":3: [program:a] environment: %(ENV_IMPORT_SURELY_UNSET)s: environment variable"
            " IMPORT_SURELY_UNSET is not set",
        ),
        (
            "[program:a]\n\ncommand=sleep %(nothing)s\n",
            ":3: [program:a] command: unknown expansion",
        ),
        ("[program:a]\nnumprocs=2\n", ":1: [program:a] command: missing"),
        ("[program:a]\ncommand=sleep 1\nnumprocs=many\n", ":3: [program:a] numprocs: 'many'"),
        ("[program:a]\ncommand=sleep 1\nautorestart=sometimes\n", ":3: [program:a] autorestart"),
        (
            "[program:a]\ncommand=sleep 1\nnumprocs=1001\n",
            ":3: [program:a] numprocs: 1001: at most",
        ),
    ],
)
def test_bad_input_names_file_line_and_key_and_exits_2(tmp_path, text, expected) -> None:
    source = _write(tmp_path, text)
    assert_refused(source, f"{source}{expected}")


@pytest.mark.parametrize(
    ("autorestart", "policy"),
    [("true", "always"), ("false", "never"), ("unexpected", "on-failure")],
)
def test_autorestart_becomes_the_restart_policy(tmp_path, autorestart, policy) -> None:
    source = _write(tmp_path, f"[program:a]\ncommand=sleep 1\nautorestart={autorestart}\n")
    output = tmp_path / "services.toml"
    assert supervisor_import(source, "-o", str(output)).returncode == 0
    assert services_of(output)["a"]["restart"]["policy"] == policy


def test_user_is_imported_where_this_machine_has_that_user(tmp_path) -> None:
    source = _write(
        tmp_path,
        "[program:a]\ncommand=sleep 1\nuser=nobody\n[program:b]\ncommand=sleep 1\nuser=no-one\n",
    )
    result = supervisor_import(source)
    assert result.returncode == 0, result.stderr
    assert 'user = "nobody"' in result.stdout
    assert "here HOME, USER, LOGNAME and SHELL are the user's too" in comments(result.stdout)
    expected = f"{source}:6: [program:b] user = 'no-one': not imported: no such user on this"
    assert expected in result.stderr


def test_process_num_from_zero_is_approximated_with_a_comment(tmp_path) -> None:
    source = _write(
        tmp_path,
        """\
        [program:q]
        command=python3 -c "print(1)" %(process_num)02d
        process_name=%(program_name)s_%(process_num)02d
        numprocs=2
        """,
    )
    result = supervisor_import(source)
    assert result.returncode == 0, result.stderr
    assert 'print(1)\\" {process_number}"' in result.stdout
    notes = comments(result.stdout)
    assert "{process_number} from 1: each process's number is one higher here" in notes
    assert "the number is not zero-padded here" in notes
    assert "(supervisord's process_name: q_00 ... q_01)" in notes


def test_literal_dollars_and_braces_stay_literal(tmp_path) -> None:
    source = _write(
        tmp_path, """[program:a]\ncommand=/bin/sh -c 'echo ${HOME} $$ {x}; exec sleep 1000'\n"""
    )
    output = tmp_path / "services.toml"
    assert supervisor_import(source, "-o", str(output)).returncode == 0
    checked = cli(output, "check", "--json")
    assert checked.returncode == 0, checked.stderr
    assert '"echo ${HOME} $$ {x}; exec sleep 1000"' in checked.stdout


def test_names_a_service_cannot_hold_are_renamed_apart(tmp_path) -> None:
    source = _write(
        tmp_path, "[program:web api]\ncommand=sleep 1\n[program:web-api]\ncommand=sleep 1\n"
    )
    output = tmp_path / "services.toml"
    assert supervisor_import(source, "-o", str(output)).returncode == 0
    assert list(services_of(output)) == ["web-api", "web-api-2"]
    notes = comments(output.read_text())
    assert "web api: renamed web-api" in notes and "web-api: renamed web-api-2" in notes
