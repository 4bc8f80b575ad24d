"""The LVM example backend's volume group (examples/openstack/lvm.toml, bin/lvm-loop).

Where the kernel has no device-mapper the service goes `fatal` at once and says why; where it
has one (and loop devices, lvm2, root), the group is made on a sparse file under the state
directory and nothing of it is left after a stop, or after a SIGKILL of the supervisor once the
next start has run.  Neither needs Cinder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.testing.harness import RunningStack
from supervisor.testing.openstack import EXAMPLE

GROUP = "cinder-volumes"  # lvm.toml's
HAS_DEVICE_MAPPER = "device-mapper" in Path("/proc/misc").read_text().split()


def lvm_stack(directory: Path, group: str) -> Path:
    """A stack of lvm-loop alone, on its own volume group name."""
    (directory / "bin").mkdir(parents=True)
    shutil.copy(EXAMPLE / "bin" / "lvm-loop", directory / "bin" / "lvm-loop")
    fragment = (EXAMPLE / "lvm.toml").read_text().replace(f'"{GROUP}"', f'"{group}"')
    config = directory / "services.toml"
    config.write_text(f'[supervisor]\nstate_dir = ".supervisor"\n\n{fragment}')
    return config


@pytest.mark.skipif(HAS_DEVICE_MAPPER, reason="this kernel has device-mapper")
def test_without_device_mapper_lvm_loop_is_fatal_and_says_why(tmp_path: Path):
    config = lvm_stack(tmp_path, GROUP)
    stack = RunningStack(config, tmp_path / ".supervisor")
    try:
        fatal = stack.wait_event(event="state", unit="lvm-loop", to="fatal")
        assert fatal["exit_status"] == 78
        said = [e["STATUS"] for e in stack.select(event="notify", unit="lvm-loop")]
        assert any("no device-mapper in this kernel" in s for s in said), said
        assert stack.wait_exit() == 78  # the only service: the group ends with its status
    finally:
        stack.close()
    assert not (tmp_path / ".supervisor" / "lvm").exists()  # nothing made


@pytest.mark.skipif(HAS_DEVICE_MAPPER, reason="this kernel has device-mapper")
def test_status_shows_the_reason_a_fatal_lvm_loop_gave_beside_its_exit_status(tmp_path: Path):
    config = lvm_stack(tmp_path, GROUP)
    # A service that runs on, so that the supervisor is still there to ask.
    config.write_text(config.read_text() + '\n[services.keeper]\ncommand = ["sleep", "600"]\n')
    stack = RunningStack(config, tmp_path / ".supervisor")
    try:
        stack.wait_event(event="state", unit="lvm-loop", to="fatal")
        command = [sys.executable, "-m", "supervisor", "status", "-c", str(config)]
        table = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
        line = next(line for line in table.splitlines() if line.startswith("lvm-loop "))
        assert "exit status 78: unavailable: no device-mapper in this kernel" in line, table
        answer = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=60)
        process = next(p for p in json.loads(answer.stdout)["processes"] if p["name"] == "lvm-loop")
        assert process["status_text"] is None  # nothing runs: nothing current to show
        assert process["last_exit"]["status_text"].startswith("unavailable: no device-mapper")
        assert stack.stop() == 78  # the group ends with its fatal process's status
    finally:
        stack.close()


def leftovers(state_dir: Path, group: str) -> list[str]:
    found = []
    if subprocess.run(["vgs", group], capture_output=True).returncode == 0:
        found.append(f"volume group {group}")
    image = state_dir / "lvm" / f"{group}.img"
    if image.exists():
        found.append(str(image))
        loops = subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True)
        found += loops.stdout.splitlines()
    dm = subprocess.run(["dmsetup", "ls"], capture_output=True, text=True).stdout
    found += [line for line in dm.splitlines() if line.startswith(group.replace("-", "--"))]
    return found


def require_lvm() -> None:
    """Skip without root; without lvm2 skip, or fail in CI, which installs it."""
    if os.geteuid() != 0:
        pytest.skip("loop devices and volume groups need root")
    if shutil.which("vgcreate") is None:
        if os.environ.get("SUPERVISOR_REQUIRE_OPENSTACK"):  # CI installs lvm2
            pytest.fail("SUPERVISOR_REQUIRE_OPENSTACK is set but lvm2 is not installed")
        pytest.skip("lvm2 is not installed: apt-get install lvm2")


@pytest.mark.skipif(not HAS_DEVICE_MAPPER, reason="no device-mapper in this kernel")
def test_the_volume_group_is_made_and_nothing_is_left_after_stop_or_sigkill(tmp_path: Path):
    require_lvm()
    group = f"test-{os.getpid()}"
    config = lvm_stack(tmp_path, group)
    state_dir = tmp_path / ".supervisor"

    stack = RunningStack(config, state_dir)
    try:
        stack.wait_event(event="state", unit="lvm-loop", to="running", timeout=60)
        assert subprocess.run(["vgs", group], capture_output=True).returncode == 0
        assert stack.stop() == 0
    finally:
        stack.close()
    assert leftovers(state_dir, group) == []

    killed = RunningStack(config, state_dir)
    try:
        killed.wait_event(event="state", unit="lvm-loop", to="running", timeout=60)
        killed.signal(signal.SIGKILL)
        killed.wait_exit()
    finally:
        killed.close()
    # The next start removes what the killed one left, then makes the group afresh.
    again = RunningStack(config, state_dir)
    try:
        again.wait_event(event="state", unit="lvm-loop", to="running", timeout=60)
        image = state_dir / "lvm" / f"{group}.img"
        loops = subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True)
        assert len(loops.stdout.splitlines()) == 1, loops.stdout  # the old loop device is gone
        assert again.stop() == 0
    finally:
        again.close()
    assert leftovers(state_dir, group) == []
