"""`supervisor export systemd`, run for real: every unit systemd's own checker accepts, and every
process's argv, environment and working directory read back from its unit (through `%i` for a
template) exactly as the supervisor would start it."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from supervisor import config
from supervisor.tools.exporters.processes import exported_processes
from supervisor.tools.exporters.systemd import SYSTEMD_PATH, stack_name
from tests.tools.exporters.conftest import Export, Verify
from tests.tools.exporters.systemd_unitfile import UnitFile, read_unit

REPO = Path(__file__).resolve().parents[3]

# Workers and backends, a one-shot job, depends_on on a templated service, a watchdog, every
# restart policy, and values systemd would read as specifiers, variables or quoting.
STACK = r"""
[supervisor]
state_dir = "state"

[options]
host = "node9"
scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"
volume_manager = "supervisor.managers.volume.VolumeManager"
backup_manager = "supervisor.managers.backup.BackupManager"

[services.migrate]
command = ["python3", "-c", "print('migrated')"]
oneshot = true
start_timeout = 0

[services.cinder-scheduler]
depends_on = ["migrate"]
watchdog = 30
critical = true

[services.cinder-volume]
backends = ["lvm-1", "fast.ssd"]
depends_on = ["cinder-scheduler"]
restart = { policy = "always", prevent_exit_codes = [78, 9] }

[services.cinder-backup]
workers = 3
depends_on = ["cinder-volume"]
restart = { policy = "never" }

[services.web]
command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
port = 18776
workers = 2
stop_signal = "INT"
stop_timeout = 2.5
readiness = { tcp = "127.0.0.1:{port}" }

[services.web.restart]
policy = "on-failure"
success_exit_codes = [0, 3]
backoff = { initial = 0.25, max = 4.0, factor = 2.0, jitter = 0.0 }
start_limit = { burst = 2, interval = 30.0 }

[services.odd]
command = ["printf", "%s|", "$HOME", "${PATH:-x}", "100%", "a\"b", ";", "1"]
workers = 2
depends_on = ["web"]

[services.odd.env]
ODD = "100% \"quoted\" $HOME $$ \\ back\ttab\nline"
NUMBER = "{process_number}"
NAME = "{name}"
"""


def _exported(tmp_path: Path, export: Export, text: str) -> tuple[Path, Path]:
    path = tmp_path / "services.toml"
    path.write_text(textwrap.dedent(text))
    out = tmp_path / "units"
    result = export(path, "systemd", out)
    assert result.returncode == 0, result.stderr
    listed = [Path(line) for line in result.stdout.splitlines()]
    assert sorted(listed) == sorted(out.iterdir())
    return path, out


def _unit_for(out: Path, name: str) -> tuple[UnitFile, str]:
    """The unit file that runs process `name`, and the instance to read it with."""
    service, separator, instance = name.partition("@" if "@" in name else "#")
    if not separator:
        return read_unit(out / f"{service}.service"), ""
    own = out / f"{service}@{instance}.service"
    return read_unit(own if own.exists() else out / f"{service}@.service"), instance


def _assert_round_trip(config_path: Path, out: Path) -> None:
    """Every process reads back from its unit as the supervisor would start it."""
    plan = config.load(config_path)
    for process in exported_processes(plan):
        unit, instance = _unit_for(out, process.name)
        argv = unit.exec_start(instance)
        assert argv[1:] == list(process.argv[1:]), process.name
        assert Path(argv[0]).name == Path(process.argv[0]).name
        if "/" in argv[0]:
            assert shutil.which(argv[0]) == argv[0], f"{argv[0]} is not an absolute executable"
        else:  # left to systemd, which looks it up on its own fixed path only
            assert shutil.which(argv[0], path=SYSTEMD_PATH), f"systemd cannot find {argv[0]}"
        assert unit.environment(instance) == process.env, process.name
        assert unit.working_directory(instance) == (process.cwd or str(config_path.parent))


def test_the_repository_stack_exports_to_units_systemd_accepts(
    tmp_path: Path, export: Export, verify: Verify
) -> None:
    config_path = tmp_path / "services.toml"
    shutil.copy(REPO / "services.toml", config_path)
    out = tmp_path / "units"
    result = export(config_path, "systemd", out)
    assert result.returncode == 0, result.stderr
    stack = stack_name(config.load(config_path))
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [
            "cinder-scheduler.service",
            "cinder-volume@.service",
            "cinder-backup@.service",
            "web.service",
            f"{stack}.target",
        ]
    )
    # What systemd cannot do is said on stderr, once per service.
    assert "cinder-scheduler.service: critical = true" in result.stderr
    assert "web.service: readiness probe (http)" in result.stderr
    verify(out)
    _assert_round_trip(config_path, out)


def test_a_stack_of_workers_backends_and_dependencies(
    tmp_path: Path, export: Export, verify: Verify
) -> None:
    config_path, out = _exported(tmp_path, export, STACK)
    stack = tmp_path.name
    verify(out)
    _assert_round_trip(config_path, out)

    # {port} differs per worker beyond the instance: one file per process, said on stderr.
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(
        [
            "migrate.service",
            "cinder-scheduler.service",
            "cinder-volume@.service",
            "cinder-backup@.service",
            "web@1.service",
            "web@2.service",
            "odd@.service",
            f"{stack}.target",
        ]
    )

    volume = read_unit(out / "cinder-volume@.service")
    assert volume.value("Service", "Type") == "notify"
    assert volume.value("Service", "Restart") == "always"
    assert volume.value("Service", "RestartPreventExitStatus") == "9 78"
    assert volume.value("Service", "RestartForceExitStatus") is None
    assert volume.value("Unit", "Requires") == "cinder-scheduler.service"
    assert volume.value("Unit", "PartOf") == f"{stack}.target"
    # The instance reaches the spec the manager reads: its process, host and backend.
    spec = json.loads(volume.environment("fast.ssd")["SUPERVISOR_SERVICE"])
    assert (spec["process"], spec["host"], spec["backend"]) == (
        "cinder-volume@fast.ssd",
        "node9@fast.ssd",
        "fast.ssd",
    )
    assert any('\\"backend\\":\\"%i\\"' in v for v in volume.values("Service", "Environment"))

    # A dependency on a templated service is a dependency on each of its processes.
    backup = read_unit(out / "cinder-backup@.service")
    both = "cinder-volume@lvm-1.service cinder-volume@fast.ssd.service"
    assert backup.value("Unit", "Requires") == both
    assert backup.value("Unit", "After") == both
    assert backup.value("Service", "Restart") == "no"
    assert backup.value("Unit", "StartLimitIntervalSec") == "0"
    assert backup.environment("2")["SUPERVISOR_PROCESS"] == "cinder-backup#2"

    scheduler = read_unit(out / "cinder-scheduler.service")
    assert scheduler.value("Service", "WatchdogSec") == "30s"
    assert scheduler.value("Unit", "Requires") == "migrate.service"
    assert any("critical = true" in line for line in scheduler.comments())
    # A manager takes SIGHUP for its reset(), as under the supervisor; a plain command is
    # never sent one.
    assert (scheduler.value("Service", "ExecReload") or "").endswith(" -HUP $MAINPID")

    migrate = read_unit(out / "migrate.service")
    assert migrate.value("Service", "Type") == "oneshot"
    assert migrate.value("Service", "RemainAfterExit") == "yes"
    assert migrate.value("Service", "TimeoutStartSec") == "infinity"

    web = read_unit(out / "web@2.service")
    assert web.exec_start()[3] == "18777"
    assert web.value("Service", "Type") == "exec"
    assert web.value("Service", "KillSignal") == "SIGINT"
    assert web.value("Service", "TimeoutStopSec") == "2500ms"
    assert web.value("Service", "SuccessExitStatus") == "3"
    assert web.value("Service", "RestartForceExitStatus") == "SIGHUP SIGINT SIGTERM SIGPIPE"
    assert web.value("Service", "RestartSec") == "250ms"
    assert web.value("Service", "RestartSteps") == "4"
    assert web.value("Service", "RestartMaxDelaySec") == "4s"
    assert web.value("Unit", "StartLimitBurst") == "3"
    assert web.value("Unit", "StartLimitIntervalSec") == "30s"
    assert web.value("Service", "KillMode") == "control-group"
    assert web.value("Service", "ExecReload") is None

    odd = read_unit(out / "odd@.service")
    assert odd.environment("2")["NUMBER"] == "2"
    assert odd.environment("1")["ODD"] == '100% "quoted" $HOME $ \\ back\ttab\nline'

    target = read_unit(out / f"{stack}.target")
    wanted = target.value("Unit", "Wants")
    assert wanted is not None
    assert "cinder-backup@3.service" in wanted.split()
    assert target.value("Unit", "After") == wanted


def test_what_systemd_cannot_do_is_said_on_stderr(tmp_path: Path, export: Export) -> None:
    path = tmp_path / "services.toml"
    path.write_text(textwrap.dedent(STACK))
    result = export(path, "systemd", tmp_path / "units")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("supervisor: export: web: its processes differ") for line in lines)
    assert any("web: readiness probe (tcp)" in line for line in lines)
    # odd has dependants nowhere: its start_seconds is a comment in its unit, not a line here.
    assert not any("odd@.service: start_seconds" in line for line in lines)
    # What depends_on becomes under systemd is said for each service that has one.
    assert any(line.startswith("supervisor: export: odd@.service: depends_on:") for line in lines)
    assert any(
        "start_seconds = 1" in line
        for line in read_unit(tmp_path / "units" / "odd@.service").comments()
    )
    assert any("cinder-scheduler.service: critical = true" in line for line in lines)


def test_the_stack_name_comes_from_the_directory_made_usable_in_a_unit_name(
    tmp_path: Path, export: Export, verify: Verify
) -> None:
    directory = tmp_path / "my stack (prod)!"
    directory.mkdir()
    path = directory / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    result = export(path, "systemd", tmp_path / "units")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "units" / "my-stack-prod.target").is_file()
    verify(tmp_path / "units")


def test_a_non_empty_directory_is_refused_without_force(tmp_path: Path, export: Export) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    out = tmp_path / "units"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = export(path, "systemd", out)
    assert refused.returncode == 1
    assert str(out) in refused.stderr and "--force" in refused.stderr
    assert refused.stdout == ""
    assert [p.name for p in out.iterdir()] == ["keep.txt"]

    forced = export(path, "systemd", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (out / "web.service").is_file() and (out / "keep.txt").read_text() == "mine"


def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path, export: Export) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    result = export(path, "systemd", path, "--force")
    assert result.returncode == 1
    assert f"{path} exists and is not a directory" in result.stderr


def test_an_invalid_file_exits_2_with_the_errors_check_gives(
    tmp_path: Path, export: Export
) -> None:
    from tests.support.stackcli import cli

    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\nstop_timeuot = 3\n')
    result = export(path, "systemd", tmp_path / "units")
    assert result.returncode == 2
    assert result.stderr == cli(path, "check").stderr
    assert "stop_timeuot" in result.stderr
    assert not (tmp_path / "units").exists()


@pytest.mark.parametrize("fmt", ["nonsense"])
def test_an_unknown_format_is_a_usage_error(tmp_path: Path, export: Export, fmt: str) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    result = export(path, fmt, tmp_path / "units")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_a_variable_name_systemd_refuses_is_said_and_left_out(
    tmp_path: Path, export: Export, verify: Verify
) -> None:
    # exec takes any name without '=' (so the supervisor passes it); Environment= does not.
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\nenv = { "MY-VAR" = "x", GOOD = "y" }\n')
    result = export(path, "systemd", tmp_path / "units")
    assert result.returncode == 0, result.stderr
    assert "web.service: env 'MY-VAR': not a name systemd takes" in result.stderr
    unit = read_unit(tmp_path / "units" / "web.service")
    assert unit.environment()["GOOD"] == "y" and "MY-VAR" not in unit.environment()
    assert any("Not mapped: env 'MY-VAR'" in line for line in unit.comments())
    verify(tmp_path / "units")


def test_a_stop_timeout_of_0_kills_at_once(tmp_path: Path, export: Export) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\nstop_timeout = 0\n')
    assert export(path, "systemd", tmp_path / "units").returncode == 0
    # TimeoutStopSec=0 is systemd's "no timeout": the least it can say is a microsecond.
    unit = read_unit(tmp_path / "units" / "web.service")
    assert unit.value("Service", "TimeoutStopSec") == "1us"


def test_stack_names_the_target(tmp_path: Path, export: Export) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    result = export(path, "systemd", tmp_path / "units", "--stack", "cinder prod")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "units" / "cinder-prod.target").is_file()
    assert read_unit(tmp_path / "units" / "web.service").value("Unit", "PartOf") == (
        "cinder-prod.target"
    )


def test_a_stack_is_never_named_after_one_of_systemds_own_targets(
    tmp_path: Path, export: Export
) -> None:
    directory = tmp_path / "default"
    directory.mkdir()
    path = directory / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    result = export(path, "systemd", tmp_path / "units")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "units" / "default-stack.target").is_file()


@pytest.mark.parametrize(
    ("spoiled", "said"),
    [
        ("ExecStart=/bin/false", "more than one ExecStart"),  # an error: exit status 1
        ("Bogus=1", "Unknown key 'Bogus'"),  # a warning only: exit status 0
    ],
)
def test_the_check_itself_finds_a_unit_systemd_refuses(
    tmp_path: Path, export: Export, verify: Verify, spoiled: str, said: str
) -> None:
    # So that a passing verify means something: the same check on a spoiled unit fails.
    path = tmp_path / "services.toml"
    path.write_text('[services.web]\ncommand = ["true"]\n')
    out = tmp_path / "units"
    assert export(path, "systemd", out).returncode == 0
    unit = out / "web.service"
    unit.write_text(unit.read_text().replace("Type=exec", f"Type=exec\n{spoiled}"))
    with pytest.raises(AssertionError, match=said):
        verify(out)


def test_a_service_of_one_backend_is_a_template_of_one_instance(
    tmp_path: Path, export: Export, verify: Verify
) -> None:
    config_path, out = _exported(
        tmp_path,
        export,
        """
        [options]
        host = "node9"
        volume_manager = "supervisor.managers.volume.VolumeManager"

        [services.cinder-volume]
        backends = ["solo"]
        """,
    )
    unit = read_unit(out / "cinder-volume@.service")
    assert unit.environment("other")["SUPERVISOR_PROCESS"] == "cinder-volume@other"
    target = read_unit(out / f"{tmp_path.name}.target")
    assert target.value("Unit", "Wants") == "cinder-volume@solo.service"
    verify(out)
    _assert_round_trip(config_path, out)


def test_user_and_group_are_user_and_group(tmp_path: Path, export: Export, verify: Verify) -> None:
    _, out = _exported(
        tmp_path,
        export,
        """
        [services.web]
        command = ["sleep", "1000"]
        user = "daemon"  # systemd warns on nobody (it owns files it should not)
        group = "daemon"

        [services.plain]
        command = ["sleep", "1000"]
        """,
    )
    unit = read_unit(out / "web.service")
    assert (unit.value("Service", "User"), unit.value("Service", "Group")) == ("daemon", "daemon")
    plain = (out / "plain.service").read_text()
    assert "User=" not in plain and "Group=" not in plain
    verify(out)


def test_a_program_is_left_to_systemds_own_path_where_it_finds_it(
    tmp_path: Path, export: Export, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exporting shell's PATH (a venv's first, say) is not the host's: `python3` stays
    `python3`; a program systemd cannot find is named by the path the export found it at."""
    shell_bin = tmp_path / "venv-bin"
    shell_bin.mkdir()
    for name in ("python3", "only-here"):
        (shell_bin / name).write_text("#!/bin/sh\n")
        (shell_bin / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{shell_bin}:{SYSTEMD_PATH}")
    _, out = _exported(
        tmp_path,
        export,
        """
        [services.plain]
        command = ["python3", "-m", "http.server"]

        [services.own]
        command = ["only-here"]

        [services.pathed]
        command = ["python3", "-V"]
        env = { PATH = "VENV" }
        """.replace("VENV", str(shell_bin)),
    )
    assert read_unit(out / "plain.service").exec_start()[0] == "python3"
    own = (out / "own.service").read_text()
    assert read_unit(out / "own.service").exec_start()[0] == str(shell_bin / "only-here")
    assert (
        "# only-here is not on systemd's own search path: ExecStart= names the one on"
        " `supervisor export`'s PATH"
    ) in own
    # The service's own PATH is what the supervisor would look it up on.
    assert read_unit(out / "pathed.service").exec_start()[0] == str(shell_bin / "python3")


def test_the_restart_steps_say_which_systemd_they_need(tmp_path: Path, export: Export) -> None:
    _, out = _exported(
        tmp_path,
        export,
        """
        [services.web]
        command = ["sleep", "1000"]
        restart = { backoff = { initial = 1.0, max = 8.0, factor = 2.0 } }
        """,
    )
    text = (out / "web.service").read_text()
    assert (
        "# RestartSteps= and RestartMaxDelaySec= need systemd 254 or later: an older one ignores"
        " them and restarts after RestartSec= every time\nRestartSteps=3"
    ) in text


def test_the_stack_s_own_name_names_the_target_and_stack_still_wins(
    tmp_path: Path, export: Export
) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[supervisor]\nname = "cinder-prod"\n[services.web]\ncommand = ["true"]\n')
    assert export(path, "systemd", tmp_path / "units").returncode == 0
    assert (tmp_path / "units" / "cinder-prod.target").is_file()
    assert export(path, "systemd", tmp_path / "other", "--stack", "given").returncode == 0
    assert (tmp_path / "other" / "given.target").is_file()
    path.write_text('[supervisor]\nname = ""\n[services.web]\ncommand = ["true"]\n')
    refused = export(path, "systemd", tmp_path / "empty")
    assert refused.returncode == 2
    assert "supervisor.name = '': expected a non-empty string" in refused.stderr
