"""The LVM example backend under real Cinder: examples/openstack/lvm.toml appended to the
example stack, its `[lvm-1]` section (from lvm.toml's own instructions) in cinder.conf.

With device-mapper (and loop devices, lvm2, root): the flow of tests/support/volumeflow.py on
logical volumes, each checked with `lvs`; then nothing of it (no LV, group, loop device or
device-mapper node) after a stop, nor after a SIGKILL of the supervisor once the next start has
run.  Without device-mapper, `check` warns that the backend cannot run here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
import tomlkit

from tests.openstack.test_lvm_loop import GROUP, HAS_DEVICE_MAPPER, leftovers, require_lvm
from tests.openstack.test_openstack import start_ready
from tests.support.cinderstack import CinderStack, copy_example, require_openstack, stop
from tests.support.volumeflow import Backend, backup_round_trip, create_volume, volume_type

pytestmark = pytest.mark.openstack

BACKEND = "lvm-1"


def cinder_section(fragment: str) -> str:
    """The cinder.conf section that lvm.toml's comment tells a user to add."""
    lines = fragment.split("add to cinder.conf:\n", 1)[1].splitlines()
    section = []
    for line in lines:
        if not line.startswith("#   "):
            break
        section.append(line.removeprefix("#   "))
    return "\n".join(section) + "\n"


def lvm_example(directory: Path, group: str) -> CinderStack:
    """The example stack with the LVM backend added as lvm.toml says, on its own group."""
    cinder = copy_example(directory)
    fragment = (cinder.directory / "lvm.toml").read_text().replace(f'"{GROUP}"', f'"{group}"')
    document = tomlkit.parse(cinder.config.read_text() + "\n" + fragment)
    volume = document["services"]["cinder-volume"]  # type: ignore[index]
    volume["depends_on"] = [*volume["depends_on"], "lvm-loop"]  # type: ignore[index]
    cinder.config.write_text(tomlkit.dumps(document))
    conf = cinder.directory / "cinder.conf"
    text = conf.read_text()
    backends = re.search(r"^enabled_backends = (.*)$", text, re.MULTILINE)
    assert backends is not None
    text = text.replace(backends[0], f"{backends[0]},{BACKEND}")
    section = cinder_section(fragment).replace(f"= {GROUP}", f"= {group}")
    assert section.startswith(f"[{BACKEND}]\n"), section
    conf.write_text(text + "\n" + section)
    return cinder


@pytest.mark.skipif(HAS_DEVICE_MAPPER, reason="this kernel has device-mapper")
def test_check_warns_that_the_lvm_backend_cannot_run_without_device_mapper(tmp_path: Path):
    require_openstack()
    cinder = lvm_example(tmp_path / "stack", GROUP)
    result = cinder.cli("check")
    assert result.returncode == 0, result.stderr  # the file is valid: a warning, not an error
    assert (
        f"warning: cinder-volume@{BACKEND}: Cinder's LVM driver cannot run on this machine: "
        "no device-mapper in this kernel" in result.stderr
    ), result.stderr


def logical_volume(group: str, volume_id: str) -> str:
    return f"{group}/volume-{volume_id}"


def lv_size(group: str, volume_id: str) -> int:
    """The logical volume's size in bytes, as `lvs` reports it."""
    name = logical_volume(group, volume_id)
    found = subprocess.run(
        ["lvs", "--noheadings", "--units", "b", "--nosuffix", "-o", "lv_size", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(found.stdout.strip())


def lvm_backend(group: str) -> Backend:
    def device(volume_id: str) -> Path:  # Cinder's LVM driver's local_path: "-" doubled
        name = f"volume-{volume_id}".replace("-", "--")
        return Path("/dev/mapper") / f"{group.replace('-', '--')}-{name}"

    return Backend(BACKEND, device, lambda volume_id: lv_size(group, volume_id))


@pytest.mark.skipif(not HAS_DEVICE_MAPPER, reason="no device-mapper in this kernel")
def test_an_lvm_volume_round_trips_and_nothing_is_left_after_stop_or_sigkill(tmp_path: Path):
    require_openstack()
    require_lvm()
    group = f"test-cinder-{os.getpid()}"
    cinder = lvm_example(tmp_path / "stack", group)

    stack = start_ready(cinder)
    try:
        backup_round_trip(cinder, lvm_backend(group))
    finally:
        assert stop(stack) == 0
    assert leftovers(cinder.state_dir, group) == []

    # A volume held when the supervisor is SIGKILLed: the next start removes it with the
    # group, its loop device and its device-mapper nodes, then serves on a fresh group.
    stack = start_ready(cinder)
    try:
        held = create_volume(cinder, 1, volume_type(cinder, BACKEND), "held-at-sigkill")
        assert lv_size(group, held) == 1024**3
        stack.signal(signal.SIGKILL)
        stack.wait_exit()
    finally:
        stack.close()
    stack = start_ready(cinder)
    try:
        lvs = subprocess.run(["lvs", "--noheadings", group], capture_output=True, text=True)
        assert lvs.stdout.strip() == "", lvs.stdout  # the held volume went with the old group
    finally:
        assert stop(stack) == 0
    assert leftovers(cinder.state_dir, group) == []
