"""`supervisor check --import`: each manager class imported in a throwaway child, as its service
would import it (its environment, its working directory)."""

from __future__ import annotations

from pathlib import Path

from supervisor.testing.harness import WriteConfig
from tests.support.stackcli import cli


def test_each_class_is_imported_once_and_a_failure_is_one_line_and_exit_2(
    write_config: WriteConfig, tmp_path: Path
):
    (tmp_path / "broken_manager.py").write_text(
        "raise RuntimeError('broken at import')\n\nclass Manager:\n    pass\n"
    )
    config = write_config(
        """
        [options]
        volume_manager = "supervisor.managers.volume.VolumeManager"
        scheduler_manager = "broken_manager.Manager"

        [services.cinder-scheduler]
        directory = "."

        [services.cinder-volume]
        backends = ["a", "b"]
        """
    )
    assert cli(config, "check").returncode == 0  # the shape is right; only importing tells
    result = cli(config, "check", "--import")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert (
        "cinder-volume@a, cinder-volume@b: supervisor.managers.volume.VolumeManager: imported"
        in lines
    )
    assert (
        "cinder-scheduler: broken_manager.Manager: cannot import: cannot import manager class"
        " 'broken_manager.Manager': RuntimeError: broken at import"
    ) in lines


def test_every_class_importing_exits_0(write_config: WriteConfig):
    config = write_config(
        """
        [options]
        scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"
        [services.cinder-scheduler]
        """
    )
    result = cli(config, "check", "--import")
    assert result.returncode == 0, result.stderr
    assert "cinder-scheduler: supervisor.managers.scheduler.SchedulerManager: imported" in (
        result.stderr
    )
