"""A process's name never depends on how many siblings it has: a service that sets `workers`
(1 included) names its processes NAME#N; one that does not has one process, NAME."""

from __future__ import annotations

import textwrap

import pytest

from supervisor import config
from supervisor.config.diff import diff
from supervisor.testing.harness import WriteConfig
from tests.config.test_openstack_config import CINDER_CONF, SERVICES
from tests.support.configtext import OPTIONS


def names(write_config: WriteConfig, text: str) -> list[str]:
    return [process.name for process in config.load(write_config(text)).processes]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_command_that_sets_workers_numbers_every_process(write_config: WriteConfig, count: int):
    text = f'[services.web]\ncommand = ["true"]\nworkers = {count}\n'
    assert names(write_config, text) == [f"web#{n}" for n in range(1, count + 1)]


def test_a_command_without_workers_is_one_process_named_after_its_service(
    write_config: WriteConfig,
):
    assert names(write_config, '[services.web]\ncommand = ["true"]\n') == ["web"]


def test_a_manager_service_that_sets_workers_numbers_every_worker(write_config: WriteConfig):
    one = names(write_config, OPTIONS + "[services.cinder-backup]\nworkers = 1\n")
    assert one == ["cinder-backup#1"]
    plan = config.load(write_config(OPTIONS + "[services.cinder-backup]\nworkers = 2\n"))
    first, second = plan.processes
    assert (first.name, second.name) == ("cinder-backup#1", "cinder-backup#2")
    assert first.spec is not None and first.spec.process_number == 1
    assert names(write_config, OPTIONS + "[services.cinder-backup]\n") == ["cinder-backup"]


def test_fewer_workers_keep_the_first_workers_plans_as_they_were(write_config: WriteConfig):
    """What a reload compares: worker 1 of 2 and worker 1 of 1 are the same process."""
    text = (
        OPTIONS
        + "[services.cinder-backup]\nworkers = {}\n"
        + '[services.web]\ncommand = ["true"]\nworkers = {}\n'
    )
    two = config.load(write_config(text.format(2, 2)))
    one = config.load(write_config(text.format(1, 1)))
    changes = diff(two, one)
    assert changes.removed == ("cinder-backup#2", "web#2")
    assert changes.unchanged == ("cinder-backup#1", "web#1")
    assert changes.added == changes.changed == ()


def test_cinder_conf_backup_workers_numbers_cinder_backup(write_config: WriteConfig):
    path = write_config(SERVICES)
    conf = path.parent / "cinder.conf"
    conf.write_text(
        textwrap.dedent(CINDER_CONF).replace("backup_workers = 3", "backup_workers = 1")
    )
    backups = [p.name for p in config.load(path).processes if p.service == "cinder-backup"]
    assert backups == ["cinder-backup#1"]
    conf.write_text(textwrap.dedent(CINDER_CONF).replace("backup_workers = 3\n", ""))
    backups = [p.name for p in config.load(path).processes if p.service == "cinder-backup"]
    assert backups == ["cinder-backup"]
