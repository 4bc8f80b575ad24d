"""Installed before or after Cinder, the supervisor starts its own runtime, never bin/cinder-*.

Both distributions used to declare `cinder-scheduler`, `cinder-volume` and `cinder-backup`, and
pip lets the last one installed own them.  The supervisor now execs `python -m supervisor.cmd`
and this project installs no `cinder-*` scripts, so in either order `bin/cinder-*` are Cinder's
and a manager service still runs this project's runtime.  Each order is a fresh venv whose
dependencies come from the test's own environment (a .pth file), with Cinder and this project
installed into it for real, in that order.

And `scripts/run --stack openstack` where RabbitMQ is missing: installed with apt-get, or named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from collections.abc import Iterator
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


# scripts/run --stack openstack on a machine without RabbitMQ: it installs the broker with
# apt-get when it can (root, apt-get there), else it names the command and exits 1. Each case
# runs the real script with a PATH of its own that lacks epmd: the check comes before the venv
# is touched, so nothing is installed into the project's.
SCRIPT = REPOSITORY / "scripts" / "run"


@pytest.fixture
def bare_path() -> Iterator[Path]:
    """A directory for PATH with only `id` in it, readable by an unprivileged user too."""
    directory = Path(tempfile.mkdtemp(prefix="bare-path-"))
    directory.chmod(0o755)
    (directory / "id").symlink_to(shutil.which("id") or "/usr/bin/id")
    yield directory
    shutil.rmtree(directory)


def fake_apt_get(directory: Path) -> Path:
    """An apt-get that only records its arguments: the install it is asked for does nothing."""
    record = directory / "apt-get.calls"
    script = directory / "apt-get"
    script.write_text(f'#!/bin/sh\necho "$*" >>{record}\n')
    script.chmod(0o755)
    return record


def run_script(path: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run(
        [*prefix, bash, str(SCRIPT), "--stack", "openstack"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(path), "HOME": str(path)},
    )


def test_run_without_apt_get_names_the_install_command_and_exits_1(bare_path: Path):
    result = run_script(bare_path)
    assert result.returncode == 1, result.stderr
    assert "needs RabbitMQ (rabbitmq-server and epmd)" in result.stderr
    assert "apt-get install -y rabbitmq-server" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the apt-get path is taken as root only")
def test_run_as_root_installs_rabbitmq_with_apt_get_and_says_when_it_is_still_missing(
    bare_path: Path,
):
    calls = fake_apt_get(bare_path)
    result = run_script(bare_path)
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq rabbitmq-server"]
    assert result.returncode == 1, result.stderr
    assert "installing RabbitMQ: apt-get update && apt-get install -y rabbitmq-server" in (
        result.stderr
    )
    assert "did not install /usr/lib/rabbitmq/bin/rabbitmq-server and epmd" in result.stderr


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run the script as another user",
)
def test_run_as_another_user_leaves_apt_get_alone_and_names_the_sudo_command(bare_path: Path):
    calls = fake_apt_get(bare_path)
    as_nobody = [shutil.which("setpriv") or "setpriv", "--reuid=65534", "--regid=65534"]
    result = run_script(bare_path, *as_nobody, "--clear-groups")
    assert not calls.exists()  # not root: apt-get is never run
    assert result.returncode == 1, result.stderr
    assert (
        "install it with: sudo apt-get update && sudo apt-get install -y rabbitmq-server"
        in result.stderr
    )
