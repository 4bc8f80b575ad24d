"""What `check` can tell about this machine, cheaply and without importing Cinder: warnings on
stderr, not errors, since the file is valid and it is the machine that falls short.

A backend on Cinder's LVM driver (any `volume_driver` whose class is, or is named after,
`LVMVolumeDriver`) needs device-mapper in the kernel, loop devices for a group on a file (the
example's bin/lvm-loop), lvm2's programs and root; where one is missing, its cinder-volume
process (and lvm-loop) would go `fatal` at the first start."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from supervisor.config import Plan

LVM_PROGRAMS = ("losetup", "pvcreate", "vgcreate", "lvcreate", "lvs")


def lvm_shortfall() -> str | None:
    """Why logical volumes cannot be made here, or None."""
    misc = Path("/proc/misc")
    if "device-mapper" not in (misc.read_text().split() if misc.exists() else []):
        return "no device-mapper in this kernel (/proc/misc has no device-mapper)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices (/dev/loop-control is missing)"
    missing = [program for program in LVM_PROGRAMS if shutil.which(program) is None]
    if missing:
        return f"{', '.join(missing)} not installed: apt-get install lvm2"
    if os.geteuid() != 0:
        return "logical volumes need root"
    return None


def host_warnings(plan: Plan) -> list[str]:
    if plan.openstack is None:
        return []
    conf = plan.openstack.conf
    on_lvm = [
        process.name
        for process in plan.processes
        if process.spec is not None
        and process.spec.backend is not None
        and "LVMVolumeDriver" in (conf.option(process.spec.backend, "volume_driver") or "")
    ]
    reason = lvm_shortfall() if on_lvm else None
    if reason is None:
        return []
    return [f"{name}: Cinder's LVM driver cannot run on this machine: {reason}" for name in on_lvm]
