"""`[hosts.NAME]`: one services file for a deployment over several hosts, judged whole.

Nothing runs here: the example deployment (examples/multinode) is read, planned host by host
and exported, and copies of it broken one way at a time are refused with the file, the line
and the key."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor import config
from supervisor.config.location import state_dir_of

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """examples/multinode beside examples/openstack (whose scripts it runs), copied."""
    for name in ("multinode", "openstack"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)
    return tmp_path / "multinode" / "services.toml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _problems(path: Path, host: str | None = None) -> list[str]:
    with pytest.raises(config.ConfigError) as raised:
        config.load(path, host=host)
    return str(raised.value).splitlines()


def _supervisor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "supervisor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_each_host_plans_its_own_part_as_its_own_cinder_host(example: Path):
    whole = config.load(example)
    assert list(whole.hosts) == ["controller", "storage1", "storage2", "backup1"]
    assert whole.processes == ()  # the file runs only host by host

    storage1 = config.load(example, host="storage1")
    assert storage1.state_dir == example.parent / ".supervisor" / "storage1"
    volumes = {process.name: process.spec for process in storage1.processes}
    assert list(volumes) == ["cinder-volume@local-1", "cinder-volume@shared"]
    assert [spec.host for spec in volumes.values()] == ["storage1@local-1", "storage1@shared"]
    assert [spec.cluster for spec in volumes.values()] == ["multinode@local-1", "multinode@shared"]
    # The child overrides Cinder's own CONF.host too (notifications read it).
    assert all(spec.options["host"] == "storage1" for spec in volumes.values())
    # Another host's services are not waited for: each supervisor knows only its own.
    assert all(p.settings.depends_on == () for p in storage1.processes)

    controller = config.load(example, host="controller")
    scheduler = next(p for p in controller.processes if p.name == "cinder-scheduler")
    assert scheduler.spec.host == "controller"
    assert scheduler.spec.cluster is None  # only cinder-volume joins a cluster
    api = next(p for p in controller.processes if p.name == "cinder-api")
    assert api.settings.depends_on == ("db-sync", "rabbitmq")

    storage2 = config.load(example, host="storage2")
    assert [p.spec.host for p in storage2.processes] == ["storage2@local-2", "storage2@shared"]


def test_a_client_finds_each_host_s_state_directory(example: Path):
    assert state_dir_of(example, "backup1") == example.parent / ".supervisor" / "backup1"
    _edit(
        example,
        '[hosts.backup1]\naddress = "10.77.0.4"',
        '[hosts.backup1]\naddress = "10.77.0.4"\nstate_dir = "/var/lib/backup1"',
    )
    assert state_dir_of(example, "backup1") == Path("/var/lib/backup1")
    assert config.load(example, host="backup1").state_dir == Path("/var/lib/backup1")


def test_run_and_check_name_the_hosts(example: Path):
    ran = _supervisor("run", "-c", str(example))
    assert ran.returncode == 2
    assert "describes hosts controller, storage1, storage2, backup1: give --host NAME" in ran.stderr

    checked = _supervisor("check", "-c", str(example), "--host", "nowhere")
    assert checked.returncode == 2
    assert "--host = 'nowhere': no such host; known: controller, storage1" in checked.stderr

    shown = _supervisor("check", "-c", str(example), "--json")
    hosts = json.loads(shown.stdout)["hosts"]
    assert [(host["host"], host["address"]) for host in hosts] == [
        ("controller", "10.77.0.1"),
        ("storage1", "10.77.0.2"),
        ("storage2", "10.77.0.3"),
        ("backup1", "10.77.0.4"),
    ]
    text = _supervisor("check", "-c", str(example), env={"SUPERVISOR_HOST": "storage2"})
    assert "--host storage2 (10.77.0.3, Cinder host storage2): 2 processes" in text.stdout


def test_a_name_no_service_has_and_a_service_no_host_runs(example: Path):
    _edit(example, '"cinder-volume@local-1", "cinder-volume@shared"]', '"cinder-volume@fast"]')
    _edit(example, 'services = ["cinder-backup"]', 'services = ["cinder-backupp"]')
    lines = _problems(example)
    assert any(
        re.search(
            r"services.toml:\d+: hosts.storage1.services = 'cinder-volume@fast': no such"
            r" process of cinder-volume; its processes: cinder-volume@local-1",
            line,
        )
        for line in lines
    ), lines
    assert any(
        "hosts.backup1.services = 'cinder-backupp': no such service" in line for line in lines
    )
    assert any("service 'cinder-backup' runs on no host" in line for line in lines), lines


def test_two_hosts_on_one_row_of_cinder_s_services_table(example: Path):
    _edit(
        example,
        '[hosts.storage2]\naddress = "10.77.0.3"',
        '[hosts.storage2]\naddress = "10.77.0.3"\ncinder_host = "storage1"',
    )
    lines = _problems(example, host="storage2")  # the whole file is judged, whichever host
    assert any(
        re.search(
            r"services.toml:\d+: hosts.storage2: cinder-volume@shared would register as"
            r" 'storage1@shared', as host 'storage1'",
            line,
        )
        for line in lines
    ), lines


def test_a_loopback_database_several_hosts_use(example: Path):
    conf = example.parent / "cinder.conf"
    _edit(
        conf,
        "connection = postgresql+psycopg://postgres@10.77.0.1",
        "connection = postgresql+psycopg://postgres@127.0.0.1",
    )
    _edit(
        conf,
        "transport_url = rabbit://guest:guest@10.77.0.1:5672/",
        "transport_url = rabbit://guest:guest@localhost:5672/",
    )
    lines = _problems(example)
    line_of = {
        key: next(
            n for n, text in enumerate(conf.read_text().splitlines(), 1) if text.startswith(key)
        )
        for key in ("connection", "transport_url")
    }
    database = [line for line in lines if "[database] connection" in line]
    assert database and f"cinder.conf:{line_of['connection']})" in database[0], lines
    assert (
        "is loopback (127.0.0.1) but hosts controller, storage1, storage2, backup1 use it"
        in database[0]
    )
    assert "controller 10.77.0.1" in database[0]
    bus = [line for line in lines if "[DEFAULT] transport_url" in line]
    assert bus and f"cinder.conf:{line_of['transport_url']})" in bus[0], lines
    assert all(line.split(":")[0].endswith("services.toml") for line in lines)


def test_an_address_other_hosts_cannot_reach(example: Path):
    _edit(example, 'address = "10.77.0.4"', 'address = "127.0.0.2"')
    _edit(example, 'address = "10.77.0.3"', 'address = "10.77.0.2"')
    lines = _problems(example)
    assert any(
        "hosts.backup1.address = '127.0.0.2': expected an address other hosts" in line
        for line in lines
    )
    assert any(
        "hosts.storage2.address = '10.77.0.2': host 'storage1' has it too" in line for line in lines
    )


def test_export_writes_each_host_s_units_and_manifests(example: Path, tmp_path: Path):
    exported = _supervisor("export", "systemd", "-c", str(example), "-o", str(tmp_path / "units"))
    assert exported.returncode == 0, exported.stderr
    assert f"host storage1: {tmp_path / 'units' / 'storage1'}" in exported.stdout.splitlines()
    volume = (tmp_path / "units" / "storage1" / "cinder-volume@.service").read_text()
    assert '\\"host\\":\\"storage1@%i\\"' in volume
    assert not (tmp_path / "units" / "storage1" / "cinder-api.service").exists()

    only = _supervisor(
        "export",
        "kubernetes",
        "-c",
        str(example),
        "--host",
        "storage2",
        "-o",
        str(tmp_path / "k8s"),
    )
    assert only.returncode == 0, only.stderr
    names = sorted(path.name for path in (tmp_path / "k8s").iterdir())
    assert names == [
        "configmap-multinode-storage2-options.yaml",
        "deployment-storage2-cinder-volume-local-2.yaml",
        "deployment-storage2-cinder-volume-shared.yaml",
    ]
    manifest = (tmp_path / "k8s" / "deployment-storage2-cinder-volume-shared.yaml").read_text()
    assert "kubernetes.io/hostname: storage2" in manifest
