"""The topic convention, as Cinder's Service.create applies it."""

from __future__ import annotations

import pytest

from supervisor.shared.topic import MissingManagerOption, resolve

OPTIONS = {
    "scheduler_manager": "supervisor.managers.scheduler.SchedulerManager",
    "volume_manager": "supervisor.managers.volume.VolumeManager",
}


def test_topic_defaults_to_the_binary_and_subtopic_follows_the_prefix():
    resolved = resolve("cinder-scheduler", OPTIONS)
    assert resolved.topic == "cinder-scheduler"
    assert resolved.subtopic == "scheduler"
    assert resolved.manager_option == "scheduler_manager"
    assert resolved.manager == OPTIONS["scheduler_manager"]


def test_subtopic_is_taken_after_the_last_prefix():
    resolved = resolve("cinder-cinder-volume", OPTIONS)
    assert resolved.subtopic == "volume"


def test_a_binary_without_the_prefix_is_its_own_subtopic():
    assert resolve("volume", OPTIONS).subtopic == "volume"


def test_the_prefix_is_configurable():
    resolved = resolve("manila-share", {"share_manager": "m.Share"}, prefix="manila-")
    assert (resolved.subtopic, resolved.manager) == ("share", "m.Share")


def test_an_explicit_topic_drives_the_lookup():
    resolved = resolve("my-binary", OPTIONS, topic="cinder-volume")
    assert resolved.topic == "cinder-volume"
    assert resolved.manager == OPTIONS["volume_manager"]


def test_an_explicit_manager_overrides_the_option():
    resolved = resolve("cinder-volume", OPTIONS, manager="pkg.mod.Mine")
    assert resolved.manager == "pkg.mod.Mine"


def test_a_missing_option_names_the_option_it_looked_for():
    with pytest.raises(MissingManagerOption, match="'backup_manager' is not set") as raised:
        resolve("cinder-backup", OPTIONS)
    assert raised.value.option == "backup_manager"
