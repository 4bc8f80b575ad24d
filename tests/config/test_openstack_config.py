"""`[openstack]`: what `check` takes from cinder.conf, and what it refuses, importing nothing.

These need neither Cinder nor RabbitMQ: the manager options point at this project's managers,
whose modules `check` finds by their files.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from supervisor.testing.harness import WriteConfig
from tests.support.stackcli import cli

OURS = {
    "scheduler_manager": "supervisor.managers.scheduler.SchedulerManager",
    "volume_manager": "supervisor.managers.volume.VolumeManager",
    "backup_manager": "supervisor.managers.backup.BackupManager",
}
CINDER_CONF = """
    [DEFAULT]
    host = conf-host
    enabled_backends = lvm-a, ,lvm-b
    backup_workers = 3
    volume_manager = supervisor.managers.volume.VolumeManager
    backup_manager = supervisor.managers.backup.BackupManager

    [lvm-a]
    volume_driver = anything

    [lvm-b]
    backend_host = other-host
"""
SERVICES = """
    [openstack]
    config_files = ["cinder.conf"]

    [options]
    scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"

    [services.cinder-scheduler]
    [services.cinder-volume]
    [services.cinder-backup]
"""


def stack(write_config: WriteConfig, services: str = SERVICES, conf: str = CINDER_CONF) -> Path:
    config = write_config(services)
    (config.parent / "cinder.conf").write_text(textwrap.dedent(conf))
    return config


def plan_of(config: Path) -> dict[str, dict]:
    result = cli(config, "check", "--json")
    assert result.returncode == 0, result.stderr
    return {process["name"]: process for process in json.loads(result.stdout)["processes"]}


def refusal(config: Path) -> str:
    result = cli(config, "check")
    assert result.returncode == 2, result.stdout
    return result.stderr


def test_backends_workers_hosts_and_managers_come_from_cinder_conf(write_config: WriteConfig):
    plan = plan_of(stack(write_config))
    assert list(plan) == [
        "cinder-scheduler",
        "cinder-volume@lvm-a",
        "cinder-volume@lvm-b",
        "cinder-backup#1",
        "cinder-backup#2",
        "cinder-backup#3",
    ]
    assert plan["cinder-scheduler"]["host"] == "conf-host"
    assert plan["cinder-volume@lvm-a"]["host"] == "conf-host@lvm-a"
    assert plan["cinder-volume@lvm-b"]["host"] == "other-host@lvm-b"  # its backend_host
    assert plan["cinder-scheduler"]["manager_source"] == "services.toml [options]"
    volume = plan["cinder-volume@lvm-a"]
    assert volume["manager"] == OURS["volume_manager"]
    assert volume["manager_source"].endswith("cinder.conf:6")
    assert volume["runtime"] == "openstack"
    assert volume["argv"][1:] == ["-m", "supervisor.cmd", "--binary", "cinder-volume"]


def test_services_toml_options_win_over_cinder_conf(write_config: WriteConfig):
    services = SERVICES.replace("[options]\n", '[options]\nhost = "toml-host"\n')
    plan = plan_of(stack(write_config, services))
    assert plan["cinder-scheduler"]["host"] == "toml-host"
    assert plan["cinder-volume@lvm-a"]["host"] == "toml-host@lvm-a"


def test_a_service_may_name_its_backends_but_each_needs_its_section(write_config: WriteConfig):
    one = SERVICES.replace(
        "[services.cinder-volume]", '[services.cinder-volume]\nbackends = ["lvm-b"]'
    )
    plan = plan_of(stack(write_config, one))
    assert [name for name in plan if name.startswith("cinder-volume")] == ["cinder-volume@lvm-b"]
    ghost = SERVICES.replace(
        "[services.cinder-volume]", '[services.cinder-volume]\nbackends = ["ghost"]'
    )
    assert "backend 'ghost' has no [ghost] section in cinder.conf" in refusal(
        stack(write_config, ghost)
    )


def test_a_missing_cinder_conf_is_an_error_naming_both_files(write_config: WriteConfig):
    config = write_config(SERVICES)
    message = refusal(config)
    assert "openstack.config_files" in message
    assert "cinder.conf: cannot read: No such file or directory" in message


def test_a_cinder_conf_that_does_not_parse_names_its_line(write_config: WriteConfig):
    config = stack(write_config, conf="[DEFAULT]\nhost = a\nthis line is not an option\n")
    message = refusal(config)
    assert "cinder.conf:3: cannot parse 'this line is not an option'" in message


def test_a_backend_without_its_section_is_refused(write_config: WriteConfig):
    conf = CINDER_CONF.replace("enabled_backends = lvm-a, ,lvm-b", "enabled_backends = lvm-a,ghost")
    message = refusal(stack(write_config, conf=conf))
    assert "enabled_backends names 'ghost', but no file has a [ghost] section" in message


def test_a_manager_option_naming_nothing_is_refused_without_importing(write_config: WriteConfig):
    conf = CINDER_CONF.replace(
        "volume_manager = supervisor.managers.volume.VolumeManager",
        "volume_manager = supervisor.managers.nowhere.VolumeManager",
    ).replace(
        "backup_manager = supervisor.managers.backup.BackupManager",
        "backup_manager = supervisor.managers.backup.NoSuchManager",
    )
    message = refusal(stack(write_config, conf=conf))
    assert "no module 'supervisor.managers.nowhere'" in message
    assert "supervisor.managers.backup has no 'NoSuchManager'" in message


def test_backup_workers_must_be_a_positive_integer(write_config: WriteConfig):
    conf = CINDER_CONF.replace("backup_workers = 3", "backup_workers = many")
    message = refusal(stack(write_config, conf=conf))
    assert "backup_workers = 'many': expected an integer >= 1" in message
