"""Installed before or after Cinder, the supervisor starts its own runtime, never bin/cinder-*.

Both distributions used to declare `cinder-scheduler`, `cinder-volume` and `cinder-backup`, and
pip lets the last one installed own them.  The supervisor now execs `python -m supervisor.cmd`
and this project installs no `cinder-*` scripts, so in either order `bin/cinder-*` are Cinder's
and a manager service still runs this project's runtime.  Each order is a fresh venv whose
dependencies come from the test's own environment (a .pth file), with Cinder and this project
installed into it for real, in that order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from importlib.metadata import version
from pathlib import Path

import psutil
import pytest

from tests.support.cinderstack import require_openstack

pytestmark = pytest.mark.openstack

REPOSITORY = Path(__file__).resolve().parents[2]


def pip_install(venv: Path, *requirement: str) -> None:
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    options = ["--quiet", "--no-deps", "--ignore-installed", "--disable-pip-version-check"]
    result = subprocess.run(
        [*pip, *options, *requirement],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


def make_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Everything both distributions depend on, from this environment, without installing it.
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def run(python: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "supervisor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("order", [("cinder", "project"), ("project", "cinder")])
def test_either_installation_order_runs_our_runtime_beside_cinders_scripts(
    tmp_path: Path, order: tuple[str, str]
):
    require_openstack()
    python = make_venv(tmp_path / "venv")
    requirements = {"cinder": [f"cinder=={version('cinder')}"], "project": ["-e", str(REPOSITORY)]}
    for name in order:
        pip_install(tmp_path / "venv", *requirements[name])

    script = tmp_path / "venv" / "bin" / "cinder-volume"
    assert "from cinder.cmd.volume import main" in script.read_text()  # Cinder's, either way

    config = tmp_path / "services.toml"
    config.write_text(
        textwrap.dedent(
            """
            [supervisor]
            state_dir = "state"
            [options]
            host = "node1"
            periodic_interval = 0
            scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"
            [services.cinder-scheduler]
            """
        )
    )
    plan = json.loads(run(python, "check", "--json", "-c", str(config)).stdout)
    argv = plan["processes"][0]["argv"]
    assert argv == [str(python), "-m", "supervisor.cmd", "--binary", "cinder-scheduler"]

    supervisor = subprocess.Popen(
        [str(python), "-m", "supervisor", "run", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ,
    )
    try:
        ready = run(python, "wait", "--ready", "--timeout", "60", "-c", str(config), timeout=90)
        assert ready.returncode == 0, ready.stderr
        status = json.loads(run(python, "status", "--json", "-c", str(config)).stdout)
        pid = status["processes"][0]["pid"]
        # This project's runtime names its process `<binary> <host>`; Cinder's script would
        # have died on its default database path long before READY=1.
        assert " ".join(psutil.Process(pid).cmdline()).strip() == "cinder-scheduler node1"
        assert run(python, "shutdown", "-c", str(config)).returncode == 0
        assert supervisor.wait(timeout=60) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
