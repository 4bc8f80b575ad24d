"""`check` shows the whole plan: in `--json` every setting of `ServiceSettings` by its name, in
text each setting that is not what a service of its kind gets from a table that sets nothing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from supervisor import config
from supervisor.cli.planview import describe_plan, plan_json
from supervisor.config.services import ServiceSettings
from supervisor.testing.harness import WriteConfig

CHOSEN = """
[options]
scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"

[services.cinder-scheduler]

[services.db]
command = ["sleep", "1000"]
directory = "."
stop_signal = "INT"
start_seconds = 0
readiness = { tcp = "127.0.0.1:5432", period = 0.5 }

[services.web]
command = ["sleep", "1000"]
depends_on = ["db", "cinder-scheduler"]
stderr = "separate"
liveness = { exec = ["test", "-e", "/"] }
"""


def blocks(text: str) -> dict[str, list[str]]:
    """Each process's rows, by process name."""
    found = {}
    for block in text.split("\n\n")[1:]:
        name, *rows = block.splitlines()
        found[name] = rows
    return found


def test_the_text_shows_every_setting_the_file_chose_and_no_default(
    write_config: WriteConfig, tmp_path: Path
):
    shown = blocks(describe_plan(config.load(write_config(CHOSEN))))
    restart = (
        "  restart       on-failure; backoff 0.1s x2 up to 30s (jitter 0.1, reset after 10s);"
        " start limit 5 restarts in 60s"
    )
    assert shown["db"] == [
        "  argv          sleep 1000",
        f"  directory     {tmp_path}",
        "  start_seconds 0s",
        "  stop_signal   INT",
        "  readiness     tcp 127.0.0.1:5432: period 0.5s, timeout 5s, failure_threshold 0,"
        " initial_delay 0s",
        restart,
    ]
    assert shown["web"] == [
        "  argv       sleep 1000",
        "  stderr     separate",
        "  depends_on db, cinder-scheduler",
        "  liveness   exec test -e /: period 1s, timeout 5s, failure_threshold 3, initial_delay 0s",
        restart.replace("restart      ", "restart   "),
    ]
    # A manager's defaults are a manager's (notify, prevent_exit_codes = [78]): nothing to add,
    # and the key column keeps its width.
    assert [row.split()[0] for row in shown["cinder-scheduler"]] == [
        "binary",
        "topic",
        "subtopic",
        "manager",
        "host",
        "argv",
        "restart",
    ]
    assert shown["cinder-scheduler"][0].startswith("  binary    cinder-scheduler")


def test_json_gives_every_setting_by_its_name(write_config: WriteConfig, tmp_path: Path):
    processes = {
        process["name"]: process
        for process in json.loads(plan_json(config.load(write_config(CHOSEN))))["processes"]
    }
    for process in processes.values():
        assert {field.name for field in dataclasses.fields(ServiceSettings)} <= set(process)
    db, web = processes["db"], processes["web"]
    assert (db["directory"], db["stop_signal"], db["start_seconds"]) == (str(tmp_path), "SIGINT", 0)
    assert db["readiness"] == {
        "kind": "tcp",
        "exec": [],
        "http": None,
        "tcp": "127.0.0.1:5432",
        "log": None,
        "period": 0.5,
        "timeout": 5.0,
        "failure_threshold": 0,
        "initial_delay": 0.0,
    }
    assert db["liveness"] is None and web["readiness"] is None
    assert web["depends_on"] == ["db", "cinder-scheduler"] and web["stderr"] == "separate"
    assert web["liveness"]["exec"] == ["test", "-e", "/"]
    assert processes["cinder-scheduler"]["notify"] is True
    assert processes["cinder-scheduler"]["restart"]["prevent_exit_codes"] == [78]


def test_a_probe_built_from_an_env_files_value_does_not_print_it(
    write_config: WriteConfig, tmp_path: Path
):
    (tmp_path / "secret.env").write_text("TOKEN=s3cr3t-t0ken\n")
    path = write_config(
        """
        [supervisor]
        state_dir = "state"
        env_file = "secret.env"

        [services.web]
        command = ["sleep", "1000"]
        readiness = { exec = ["test", "${TOKEN}"] }
        liveness = { http = "http://127.0.0.1:8000/health?token=${TOKEN}" }
        """
    )
    plan = config.load(path)
    assert plan.processes[0].settings.readiness.exec == ("test", "s3cr3t-t0ken")  # it runs so
    text, as_json = describe_plan(plan), plan_json(plan)
    assert "s3cr3t" not in text and "s3cr3t" not in as_json
    assert "  readiness exec test '***': period" in text
    assert "http://127.0.0.1:8000/health?token=***" in as_json
