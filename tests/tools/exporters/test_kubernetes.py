"""`export kubernetes`: the repository's stack and a purpose-made one written as manifests, each
file validated offline against the Kubernetes schemas, then read for what it must say."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from supervisor import config
from supervisor.shared.servicespec import ENV_VAR, ServiceSpec
from supervisor.testing.harness import WriteConfig
from supervisor.tools.exporters import kubernetesmodel
from supervisor.tools.exporters.kubernetes import write_kubernetes
from supervisor.tools.exporters.kubernetesworkloads import kubernetes_name
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import Children, binary_argv
from tests.tools.exporters.conftest import Export
from tests.tools.exporters.kubernetes_manifests import container, environment, read_manifests

REPOSITORY_STACK = Path(__file__).resolve().parents[3] / "services.toml"
HEARTBEAT = ["python3", "-m", "supervisor", "probe"]

PURPOSE_MADE = """
    [options]
    host = "node1"
    database_url = "postgresql+psycopg://cinder:secret@db.example:5432/cinder"
    transport_url = "rabbit://guest:guest@bus.example:5672/"
    volume_manager = "supervisor.managers.volume.VolumeManager"
    backup_manager = "supervisor.managers.backup.BackupManager"
    report_interval = 5
    periodic_interval = 0

    [services.db-sync]
    command = ["cinder-manage", "db", "sync"]
    oneshot = true
    start_timeout = 120
    [services.db-sync.restart]
    policy = "on-failure"
    prevent_exit_codes = [0, 3, 78]
    start_limit = { burst = 2 }

    [services.cinder-volume]
    backends = ["lvm-1", "Fast_SSD"]
    watchdog = 30
    stop_timeout = 2.5
    depends_on = ["db-sync"]

    [services.cinder-backup]
    workers = 3

    [services.api]
    command = ["api-server", "--port", "{port}", "--name", "{name}", "--cost", "$$5"]
    port = 8000
    workers = 2
    stop_signal = "INT"
    env = { GREETING = "costs $$(HOME) and $$$$" }
    readiness = { tcp = "127.0.0.1:{port}", period = 0.5, timeout = 0.2, initial_delay = 1.5 }
    [services.api.liveness]
    http = "http://127.0.0.1:{port}/health?deep=1"
    period = 7
    timeout = 2
    failure_threshold = 4

    [services.worker]
    command = ["worker"]
    start_seconds = 2.5
    readiness = { log = "ready" }
    liveness = { exec = ["worker-ctl", "ping"] }
    """


def write(plan_path: Path, directory: Path, **options: Any) -> tuple[list[Path], str]:
    errors = io.StringIO()
    directory.mkdir(exist_ok=True)
    plan = config.load(plan_path, programs=False)  # the image's programs, not this host's
    written = write_kubernetes(plan, directory, stderr=errors, **options)
    return written, errors.getvalue()


@pytest.fixture
def purpose_made(write_config: WriteConfig, tmp_path: Path) -> Path:
    return write_config(PURPOSE_MADE)


def test_the_repository_stack(tmp_path: Path):
    written, errors = write(REPOSITORY_STACK, tmp_path / "out", stack="cinder-stack")
    manifests = read_manifests(tmp_path / "out")
    assert (
        [path.name for path in written]
        == list(manifests)
        == [
            "configmap-cinder-stack-options.yaml",
            "deployment-cinder-backup.yaml",
            "deployment-cinder-scheduler.yaml",
            "deployment-cinder-volume-lvm-1.yaml",
            "deployment-cinder-volume-lvm-2.yaml",
            "deployment-web.yaml",
        ]
    )
    options = json.loads(manifests["configmap-cinder-stack-options.yaml"]["data"]["options.json"])
    assert options == config.load(REPOSITORY_STACK).options
    backup = manifests["deployment-cinder-backup.yaml"]
    assert backup["spec"]["replicas"] == 2
    assert "strategy" not in backup["spec"]
    for backend in ("lvm-1", "lvm-2"):
        volume = manifests[f"deployment-cinder-volume-{backend}.yaml"]
        assert volume["spec"]["replicas"] == 1
        assert volume["spec"]["strategy"] == {"type": "Recreate"}
        assert volume["metadata"]["labels"] == {
            "app.kubernetes.io/name": "cinder-volume",
            "app.kubernetes.io/instance": f"cinder-volume-{backend}",
            "app.kubernetes.io/part-of": "cinder-stack",
        }
        assert volume["metadata"]["annotations"]["supervisor/processes"] == (
            f"cinder-volume@{backend}"
        )
        assert volume["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 10
    web = container(manifests["deployment-web.yaml"])
    assert web["command"] == ["python3", "-m", "http.server", "8776", "--bind", "127.0.0.1"]
    assert web["readinessProbe"]["httpGet"] == {"path": "/", "port": 8776, "scheme": "HTTP"}
    assert "livenessProbe" not in web
    assert errors.splitlines() == [
        "export kubernetes: a host stack has no image: cinder-stack:latest is a placeholder for "
        "one that holds this package, the services' programs and Python as python3 (--image "
        "names yours)",
        "export kubernetes: [options] database_url is not set: each pod would keep its own "
        "SQLite file in its state volume; set it to a database every pod reaches",
        "export kubernetes: the state directory is an emptyDir per pod at /var/lib/supervisor: "
        "volumes, backups and capabilities the services share through it need a shared volume "
        "in its place",
        "export kubernetes: Deployment cinder-backup: every replica is worker 1 to its manager "
        "(process_number 1 of 2): a replica cannot know its number",
        "export kubernetes: Deployment web: its readiness probe http://127.0.0.1:8776/ is made "
        "at the pod's address, not on the loopback: the program must listen on the pod's "
        "address (0.0.0.0)",
    ]


def test_a_deployment_per_backend_and_replicas_for_workers(purpose_made: Path, tmp_path: Path):
    write(purpose_made, tmp_path / "out", image="registry.example/cinder:1.0")
    manifests = read_manifests(tmp_path / "out")
    assert sorted(manifests) == [
        f"configmap-{kubernetes_name(tmp_path.name)}-options.yaml",
        "deployment-api.yaml",
        "deployment-cinder-backup.yaml",
        "deployment-cinder-volume-fast-ssd.yaml",
        "deployment-cinder-volume-lvm-1.yaml",
        "deployment-worker.yaml",
        "job-db-sync.yaml",
    ]
    replicas = {
        name: body["spec"].get("replicas")
        for name, body in manifests.items()
        if body["kind"] == "Deployment"
    }
    assert replicas == {
        "deployment-api.yaml": 2,
        "deployment-cinder-backup.yaml": 3,
        "deployment-cinder-volume-fast-ssd.yaml": 1,
        "deployment-cinder-volume-lvm-1.yaml": 1,
        "deployment-worker.yaml": 1,
    }
    for name in replicas:
        assert container(manifests[name])["image"] == "registry.example/cinder:1.0"
        assert "supervisor/image" not in manifests[name]["metadata"]["annotations"]
    volume = manifests["deployment-cinder-volume-fast-ssd.yaml"]
    assert volume["metadata"]["annotations"]["supervisor/processes"] == "cinder-volume@Fast_SSD"
    assert volume["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 3


def test_a_managers_environment_is_the_supervisors_with_the_pods_own_values(
    purpose_made: Path, tmp_path: Path
):
    write(purpose_made, tmp_path / "out")
    manifests = read_manifests(tmp_path / "out")
    (options_map,) = (body for body in manifests.values() if body["kind"] == "ConfigMap")
    config_maps = {options_map["metadata"]["name"]: options_map["data"]}
    plan = config.load(purpose_made, programs=False)
    specs = {process.name: process.spec for process in plan.processes}

    volume = manifests["deployment-cinder-volume-lvm-1.yaml"]
    env = environment(volume, "cinder-volume-lvm-1-5d8f-x2x4z", config_maps)
    assert env["SUPERVISOR_PROCESS"] == "cinder-volume@lvm-1"
    assert env["SUPERVISOR_STATE_DIR"] == "/var/lib/supervisor"
    expected = specs["cinder-volume@lvm-1"]
    assert ServiceSpec(**json.loads(env[ENV_VAR])) == ServiceSpec(
        **{**json.loads(expected.to_env()), "state_dir": "/var/lib/supervisor"}
    )
    assert container(volume)["volumeMounts"] == [
        {"name": "state", "mountPath": "/var/lib/supervisor"}
    ]

    backup = manifests["deployment-cinder-backup.yaml"]
    env = environment(backup, "cinder-backup-7c9-abcde", config_maps)
    assert env["SUPERVISOR_PROCESS"] == "cinder-backup-7c9-abcde"
    spec = ServiceSpec(**json.loads(env[ENV_VAR]))
    assert spec.process == "cinder-backup-7c9-abcde"
    assert spec.process_number == 1
    # The database and the bus are the options' URLs, as written: none is invented.
    assert spec.options == plan.options
    assert spec.options["database_url"] == (
        "postgresql+psycopg://cinder:secret@db.example:5432/cinder"
    )
    assert spec.options["transport_url"] == "rabbit://guest:guest@bus.example:5672/"


def test_dollars_reach_the_program_as_written(purpose_made: Path, tmp_path: Path):
    write(purpose_made, tmp_path / "out")
    api = read_manifests(tmp_path / "out")["deployment-api.yaml"]
    env = environment(api, "api-1", {})
    assert env["GREETING"] == "costs $(HOME) and $$"
    assert container(api)["command"][-1] == "$$5"  # Kubernetes expands it to $5
    assert env["SUPERVISOR_PROCESS"] == "api-1"


def test_probes(purpose_made: Path, tmp_path: Path):
    _, errors = write(purpose_made, tmp_path / "out")
    manifests = read_manifests(tmp_path / "out")
    api = container(manifests["deployment-api.yaml"])
    # Every replica is probed on the first worker's port: each pod has its own address.
    tcp = {
        "tcpSocket": {"port": 8000},
        "initialDelaySeconds": 2,
        "periodSeconds": 1,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
    }
    assert api["readinessProbe"] == tcp
    assert api["startupProbe"] == {**tcp, "failureThreshold": 90}  # start_timeout 90s
    assert api["livenessProbe"] == {
        "httpGet": {"path": "/health?deep=1", "port": 8000, "scheme": "HTTP"},
        "initialDelaySeconds": 0,
        "periodSeconds": 7,
        "timeoutSeconds": 2,
        "failureThreshold": 4,
    }
    worker = manifests["deployment-worker.yaml"]
    assert "readinessProbe" not in container(worker)
    assert container(worker)["livenessProbe"]["exec"] == {"command": ["worker-ctl", "ping"]}
    assert worker["spec"]["minReadySeconds"] == 3  # start_seconds 2.5
    assert "Deployment worker: its readiness log probe ('ready') has no Kubernetes " in errors

    volume = container(manifests["deployment-cinder-volume-lvm-1.yaml"])
    assert volume["readinessProbe"] == {
        "exec": {"command": HEARTBEAT},
        "periodSeconds": 2,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    assert volume["startupProbe"]["failureThreshold"] == 45  # start_timeout 90s, every 2s
    # watchdog = 30: a row older than that fails it, as a silent watchdog would.
    assert volume["livenessProbe"] == {
        "exec": {"command": [*HEARTBEAT, "--max-age", "30"]},
        "periodSeconds": 5,  # report_interval
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    backup = container(manifests["deployment-cinder-backup.yaml"])
    assert backup["livenessProbe"]["exec"] == {"command": HEARTBEAT}


def test_a_one_shot_service_is_a_job(purpose_made: Path, tmp_path: Path):
    write(purpose_made, tmp_path / "out")
    job = read_manifests(tmp_path / "out")["job-db-sync.yaml"]
    spec = job["spec"]
    assert {key: spec[key] for key in ("completions", "parallelism", "backoffLimit")} == {
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 2,
    }
    assert spec["activeDeadlineSeconds"] == 120
    assert spec["podFailurePolicy"] == {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {"containerName": "db-sync", "operator": "In", "values": [3, 78]},
            }
        ]
    }
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert container(job)["command"] == ["cinder-manage", "db", "sync"]


def test_what_has_no_equivalent_is_said(purpose_made: Path, tmp_path: Path):
    _, errors = write(purpose_made, tmp_path / "out")
    assert "database_url is not set" not in errors
    assert (
        "export kubernetes: Deployment api: stop_signal INT: Kubernetes stops a container with "
        "SIGTERM (the image's STOPSIGNAL can say otherwise)"
    ) in errors.splitlines()
    assert (
        "Deployment api: placeholders ({name}, {port}, {process_number}) give api#2 a command, "
        "environment or probes of its own: every replica runs api#1's"
    ) in errors
    assert "Deployment cinder-volume-lvm-1: depends_on db-sync: Kubernetes starts it" in errors
    text = (tmp_path / "out" / "deployment-cinder-volume-lvm-1.yaml").read_text()
    comments = " ".join(line[2:].strip() for line in text.splitlines() if line.startswith("#"))
    assert "Warning: depends_on db-sync" in comments
    assert "Note: restart policy on-failure: a Deployment restarts every exit" in comments


def test_names_are_dns_labels_and_unique(write_config: WriteConfig, tmp_path: Path):
    path = write_config(
        """
        [services.Web_Front]
        command = ["a"]
        [services.web-front]
        command = ["b"]
        """
    )
    write(path, tmp_path / "out", stack="My Stack!")
    manifests = read_manifests(tmp_path / "out")
    assert sorted(manifests) == [
        "configmap-my-stack-options.yaml",
        "deployment-web-front-2.yaml",
        "deployment-web-front.yaml",
    ]
    assert manifests["deployment-web-front.yaml"]["metadata"]["annotations"][
        "supervisor/processes"
    ] == ("Web_Front")


def test_the_same_plan_gives_the_same_bytes(purpose_made: Path, tmp_path: Path):
    first, _ = write(purpose_made, tmp_path / "one")
    second, _ = write(purpose_made, tmp_path / "two")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_an_exported_manager_serves_and_passes_its_probe(
    purpose_made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The container's contract for real: a backup replica started with the environment its
    pod gets registers its row, and `supervisor probe` in that environment passes."""
    state = tmp_path / "pod-state"
    monkeypatch.setattr(kubernetesmodel, "STATE_DIR", str(state))
    text = purpose_made.read_text()
    database = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    purpose_made.write_text(
        text.replace("postgresql+psycopg://cinder:secret@db.example:5432/cinder", database)
    )
    write(purpose_made, tmp_path / "out")
    manifests = read_manifests(tmp_path / "out")
    (options_map,) = (body for body in manifests.values() if body["kind"] == "ConfigMap")
    config_maps = {options_map["metadata"]["name"]: options_map["data"]}
    backup = manifests["deployment-cinder-backup.yaml"]
    env = environment(backup, "cinder-backup-7c9-abcde", config_maps)
    probe = [sys.executable, "-m", "supervisor", "probe"]
    assert container(backup)["livenessProbe"]["exec"]["command"][1:] == probe[1:]

    def run_probe() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            probe, capture_output=True, text=True, timeout=30, env={**os.environ, **env}
        )

    before = run_probe()
    assert before.returncode == 1
    assert "cinder-backup-7c9-abcde (cinder-backup on node1)" in before.stderr
    children = Children(tmp_path)
    notify = Inbox()
    try:
        spec = ServiceSpec(**json.loads(env[ENV_VAR]))
        children.start(binary_argv("cinder-backup"), spec=spec, notify=notify)
        notify.expect("READY=1")
        after = run_probe()
        assert (after.returncode, after.stderr) == (0, "")
    finally:
        children.kill_all()
        notify.close()


def test_the_command_line(purpose_made: Path, tmp_path: Path, export: Export):
    out = tmp_path / "out"
    result = export(purpose_made, "kubernetes", out, "--image", "cinder:2", "--stack", "demo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(path) for path in sorted(out.iterdir())]
    manifests = read_manifests(out)
    assert "configmap-demo-options.yaml" in manifests
    assert container(manifests["deployment-worker.yaml"])["image"] == "cinder:2"
    assert "has no image" not in result.stderr
    assert "Deployment worker: its readiness log probe" in result.stderr


def test_a_numeric_user_is_run_as_user_and_a_name_is_said(
    write_config: WriteConfig, tmp_path: Path
):
    path = write_config(
        """
        [services.numeric]
        command = ["sleep", "1000"]
        user = "65534"

        [services.named]
        command = ["sleep", "1000"]
        user = "nobody"
        """
    )
    _, errors = write(path, tmp_path / "out")
    manifests = read_manifests(tmp_path / "out")
    assert container(manifests["deployment-numeric.yaml"])["securityContext"] == {
        "runAsUser": 65534
    }
    assert "securityContext" not in container(manifests["deployment-named.yaml"])
    assert "user = 'nobody' is a name: no runAsUser written" in errors


def test_the_stack_s_own_name_is_the_part_of_label(write_config: WriteConfig, tmp_path: Path):
    path = write_config('[supervisor]\nname = "cinder-prod"\n[services.web]\ncommand = ["true"]\n')
    write(path, tmp_path / "out")
    manifests = read_manifests(tmp_path / "out")
    labels = manifests["deployment-web.yaml"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "cinder-prod"


def test_programs_of_the_image_need_not_be_on_this_host(tmp_path: Path, export: Export):
    path = tmp_path / "services.toml"
    path.write_text('[services.api]\ncommand = ["api-server-of-the-image", "--port", "80"]\n')
    exported = export(path, "kubernetes", tmp_path / "manifests")
    assert exported.returncode == 0, exported.stderr
    assert container(read_manifests(tmp_path / "manifests")["deployment-api.yaml"])["command"][
        0
    ] == ("api-server-of-the-image")
    refused = export(path, "systemd", tmp_path / "units")  # a unit runs on this host
    assert refused.returncode == 2
    assert "api-server-of-the-image" in refused.stderr
