"""Real OpenStack Cinder from PyPI under the supervisor: the example stack, started for real.

RabbitMQ, `cinder-manage db sync`, cinder-api, cinder-scheduler, one cinder-volume process per
backend and one cinder-backup process per worker, every manager resolved through the topic
convention.  Slow (a minute or so per stack): deselect with `-m "not openstack"`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from supervisor.testing.cinderapi import CinderApi, creates_across_a_broker_kill
from supervisor.testing.harness import RunningStack
from tests.support.cinderstack import (
    BIN_DIR,
    CinderStack,
    copy_example,
    drop_services,
    require_openstack,
    stop,
)
from tests.support.descriptors import shared_with
from tests.support.volumeflow import backup_round_trip, backup_turns, file_backend, overlapping

pytestmark = pytest.mark.openstack

REPOSITORY = Path(__file__).resolve().parents[2]

READY_TIMEOUT = 600  # a cold start imports Cinder in seven processes at once on two cores
IN_FLIGHT = 10  # volume creates on their way when RabbitMQ is SIGKILLed
BACKUP_WORKERS = ["cinder-backup#1", "cinder-backup#2"]
MANAGERS = {
    "cinder-scheduler": "cinder.scheduler.manager.SchedulerManager",
    "cinder-volume@fake-1": "cinder.volume.manager.VolumeManager",
    "cinder-volume@fake-2": "cinder.volume.manager.VolumeManager",
    "cinder-volume@file-1": "cinder.volume.manager.VolumeManager",
    "cinder-backup#1": "cinder.backup.manager.BackupManager",
    "cinder-backup#2": "cinder.backup.manager.BackupManager",
}
CINDER_ROWS = {
    ("cinder-scheduler", "node1"),
    ("cinder-volume", "node1@fake-1"),
    ("cinder-volume", "node1@fake-2"),
    ("cinder-volume", "node1@file-1"),
    ("cinder-backup", "node1"),
}


def start_ready(cinder: CinderStack) -> RunningStack:
    """The stack, every process ready; killed (with all it started) if it never gets there."""
    stack = cinder.start()
    wait = ("wait", "--ready", "--timeout", str(READY_TIMEOUT))
    result = cinder.cli(*wait, timeout=READY_TIMEOUT + 30)
    if result.returncode != 0:
        stack.close()
        pytest.fail(f"the stack did not get ready: {result.stderr}\n{stack.events.timeline()}")
    return stack


@pytest.fixture(scope="module")
def cinder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CinderStack]:
    """One running example stack shared by the tests that leave it as they found it."""
    require_openstack()
    copy = copy_example(tmp_path_factory.mktemp("openstack") / "stack")
    stack = start_ready(copy)
    yield copy
    stop(stack)


def rows_up(cinder: CinderStack) -> dict[tuple[str, str], dict]:
    rows = cinder.service_rows()
    keys = [(row["binary"], row["host"]) for row in rows]
    assert len(keys) == len(set(keys)), f"Cinder's table has a row twice: {rows}"
    return dict(zip(keys, rows, strict=True))


def test_check_resolves_every_process_through_the_topic_convention(tmp_path: Path):
    require_openstack()
    copy = copy_example(tmp_path / "stack")
    result = copy.cli("check", "--json")
    assert result.returncode == 0, result.stderr
    processes = {p["name"]: p for p in json.loads(result.stdout)["processes"]}
    for name, manager in MANAGERS.items():
        process = processes[name]
        assert process["manager"] == manager
        assert process["manager_option"] == f"{process['subtopic']}_manager"
        assert process["topic"] == process["binary"] == name.partition("@")[0].partition("#")[0]
        assert process["runtime"] == "openstack"
        assert process["manager_source"] == "Cinder's default"
        assert process["argv"][1:] == ["-m", "supervisor.cmd", "--binary", process["binary"]]
    assert processes["cinder-volume@fake-2"]["host"] == "node1@fake-2"  # from enabled_backends
    assert processes["cinder-api"]["kind"] == "command"


def preload_events(cinder: CinderStack, action: str) -> list[dict]:
    lines = (cinder.state_dir / "events.jsonl").read_text().splitlines()
    events = (json.loads(line) for line in lines if line.strip())
    return [e for e in events if e.get("event") == "preload" and e["action"] == action]


def forked_pids(cinder: CinderStack) -> set[int]:
    """The processes forked from a preload template, from the run's events."""
    return {event["pid"] for event in preload_events(cinder, "forked")}


def test_every_service_is_up_in_cinders_own_services_table(cinder: CinderStack):
    rows = cinder.wait_until(
        lambda: (
            (found := rows_up(cinder)).keys() >= CINDER_ROWS
            and all(found[key]["state"] == "up" for key in CINDER_ROWS)
            and found
        ),
        60,
        "every Cinder service up in `supervisor service list`",
    )
    assert rows[("cinder-backup", "node1")]["process"] == "cinder-backup#1 cinder-backup#2"
    # Cinder's own tool reads the same table and agrees.
    cinder_manage = str(Path(sys.executable).parent / "cinder-manage")
    listing = subprocess.run(
        [cinder_manage, "--config-file", "cinder.conf", "service", "list"],
        cwd=cinder.directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    lines = [line.split() for line in listing.stdout.splitlines()[1:] if line.strip()]
    assert {(line[0], line[1]) for line in lines} >= CINDER_ROWS
    assert all(line[4] == ":-)" for line in lines), listing.stdout
    # preload is on by default under [openstack]: every manager process, and only those, was
    # forked from the template that imported Cinder once.
    status = cinder.status()
    forked = forked_pids(cinder)
    assert {name for name, p in status.items() if p["pid"] in forked} == set(MANAGERS)


def test_a_volume_created_through_the_api_becomes_available_on_a_backend(cinder: CinderStack):
    volume = cinder.api("POST", "/volumes", {"volume": {"size": 1, "name": "through-api"}})
    volume_id = volume["volume"]["id"]

    def settled() -> dict | None:
        found = cinder.api("GET", f"/volumes/{volume_id}")["volume"]
        return None if found["status"] == "creating" else found

    found = cinder.wait_until(settled, 120, "the volume to leave 'creating'")
    assert found["status"] == "available", found
    backends = {"node1@fake-1", "node1@fake-2", "node1@file-1"}
    assert found["os-vol-host-attr:host"].split("#")[0] in backends


def test_a_sigkilled_backend_is_restarted_alone_and_its_row_comes_back_up(cinder: CinderStack):
    before = cinder.status()
    victim = before["cinder-volume@fake-1"]
    others = {name: p["pid"] for name, p in before.items() if p["pid"] and name != victim["name"]}
    killed_at = datetime.now(UTC).replace(tzinfo=None)
    os.kill(victim["pid"], signal.SIGKILL)

    def back() -> dict | None:
        process = cinder.status()["cinder-volume@fake-1"]
        fresh = process["pid"] not in (None, victim["pid"])
        return process if fresh and process["state"] == "running" else None

    process = cinder.wait_until(back, READY_TIMEOUT, "cinder-volume@fake-1 running again")
    assert process["restarts"] == victim["restarts"] + 1
    assert process["last_exit"]["signal"] == "SIGKILL"
    assert process["pid"] in forked_pids(cinder)  # forked again from the same template
    after = cinder.status()
    assert {name: after[name]["pid"] for name in others} == others  # the others untouched

    def beat_since_kill() -> bool:
        row = rows_up(cinder)[("cinder-volume", "node1@fake-1")]
        updated = datetime.fromisoformat(row["updated_at"].rstrip("Z"))
        return row["state"] == "up" and updated > killed_at

    cinder.wait_until(beat_since_kill, 60, "a heartbeat of the restarted backend in Cinder's table")


def test_sigkill_of_the_supervisor_leaves_no_cinder_rabbitmq_or_epmd(tmp_path: Path):
    require_openstack()
    copy = copy_example(tmp_path / "stack")
    stack = start_ready(copy)
    try:
        supervisor = psutil.Process(stack.process.pid)
        tree = supervisor.children(recursive=True)
        names = {process.name() for process in tree}
        assert {"epmd", "beam.smp"} <= names, names
        assert sum(name.startswith("cinder-") for name in names) >= 5, names
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait()
        _, alive = psutil.wait_procs(tree, timeout=30)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"left behind: {[p.name() for p in alive]}"
    finally:
        stack.close()


def test_rabbitmq_killed_while_running_is_restarted_and_cinder_reconnects(cinder: CinderStack):
    # Creates in flight when the broker dies, each asked once: those accepted before the kill
    # sit in durable queues the new broker recovers from its data under <state_dir>/rabbitmq,
    # and those sent while it is away wait in the API, whose cast retries until the broker
    # takes and confirms it (examples/openstack/cinder.conf, [oslo_messaging_rabbit]).
    broker = cinder.status()["rabbitmq"]
    stack_events = cinder.state_dir / "events.jsonl"
    seen = len(stack_events.read_text().splitlines())
    # A project of its own: Cinder's quota is 10 volumes per project.
    api = CinderApi(
        cinder.ports["api"], cinder.state_dir / "logs" / "cinder-api.log", "admin:broker-kill"
    )
    tally = creates_across_a_broker_kill(
        api,
        lambda: os.kill(broker["pid"], signal.SIGKILL),
        creates=IN_FLIGHT,
        kill_after=IN_FLIGHT // 2,
        settle_timeout=300,
    )
    # Lost means accepted and never done. A create the API answered with an error (an HTTP
    # 500 while its own connection to the broker was down, seen once under a CPU hog) was
    # not accepted: the client was told, and is counted apart.
    accepted = IN_FLIGHT - len(tally.refused)
    assert accepted >= IN_FLIGHT // 2, f"{tally.summary()}: {tally.refused}"
    assert tally.available == accepted, f"{tally.summary()}: {tally.statuses} {tally.refused}"

    def broker_back() -> bool:
        process = cinder.status()["rabbitmq"]
        return process["state"] == "running" and process["pid"] != broker["pid"]

    cinder.wait_until(broker_back, 120, "rabbitmq restarted and answering its probe")
    # Every Cinder service noticed (STATUS= says why while the bus is away) and came back.
    events = [json.loads(line) for line in stack_events.read_text().splitlines()[seen:]]
    lost = {e["unit"] for e in events if str(e.get("STATUS", "")).startswith("message bus:")}
    assert lost, "no service reported the lost message bus"

    def reconnected() -> bool:
        processes = cinder.status()
        return all(str(processes[unit]["status_text"]).startswith("serving") for unit in lost)

    cinder.wait_until(reconnected, 180, f"{sorted(lost)} to say they serve again")
    rows = rows_up(cinder)
    assert rows.keys() >= CINDER_ROWS  # nothing lost from the services table
    cinder.wait_until(
        lambda: all(rows_up(cinder)[key]["state"] == "up" for key in CINDER_ROWS),
        60,
        "every row up after the broker's restart",
    )
    assert all(p["state"] == "running" for p in cinder.status().values() if p["name"] != "db-sync")


def test_a_backend_whose_driver_fails_goes_fatal_with_cinders_message(tmp_path: Path):
    require_openstack()
    copy = copy_example(tmp_path / "stack")
    drop_services(copy, "cinder-api", "cinder-scheduler", "cinder-backup")
    conf = copy.directory / "cinder.conf"
    text = re.sub(
        r"^enabled_backends = .*$", "enabled_backends = fake-1,nfs", conf.read_text(), flags=re.M
    )
    conf.write_text(
        text + "\n[nfs]\nvolume_driver = cinder.volume.drivers.nfs.NfsDriver\n"
        "volume_backend_name = nfs\nnfs_shares_config = /nonexistent/nfs_shares\n"
    )
    stack = copy.start()
    try:

        def settled() -> dict | None:
            processes = copy.status()
            broken = processes.get("cinder-volume@nfs", {}).get("state")
            good = processes.get("cinder-volume@fake-1", {}).get("state")
            return processes if broken == "fatal" and good == "running" else None

        processes = copy.wait_until(settled, READY_TIMEOUT, "the nfs backend fatal, fake-1 serving")
        broken = processes["cinder-volume@nfs"]
        assert broken["last_exit"]["code"] == 78 and broken["restarts"] == 0
        # A dead process's STATUS= is not shown as current: Cinder's message is in its events.
        assert broken["status_text"] is None
        said = [e["STATUS"] for e in stack.select(event="notify", unit="cinder-volume@nfs")]
        assert any("NFS config file at /nonexistent/nfs_shares doesn't exist" in s for s in said)
        assert stack.process.poll() is None  # the others keep serving
    finally:
        stop(stack)


def test_sighup_resets_a_cinder_service_in_place(cinder: CinderStack):
    scheduler = cinder.status()["cinder-scheduler"]
    stack_events = cinder.state_dir / "events.jsonl"
    seen = len(stack_events.read_text().splitlines())
    os.kill(scheduler["pid"], signal.SIGHUP)

    def notified() -> list[dict]:
        lines = stack_events.read_text().splitlines()[seen:]
        mine = [json.loads(line) for line in lines]
        mine = [e for e in mine if e.get("unit") == "cinder-scheduler" and e["event"] == "notify"]
        return mine if any(e.get("READY") == "1" for e in mine) else []

    events = cinder.wait_until(notified, 60, "the scheduler's RELOADING=1, then READY=1")
    assert events[0].get("RELOADING") == "1"
    assert {e["pid"] for e in events} == {scheduler["pid"]}  # the same process, reset in place
    assert cinder.status()["cinder-scheduler"]["state"] == "running"


def test_the_cinder_template_shares_no_descriptor_and_its_death_leaves_cinder_serving(
    cinder: CinderStack,
):
    template = preload_events(cinder, "ready")[-1]["pid"]
    before = {name: p["pid"] for name, p in cinder.status().items() if name in MANAGERS}
    for name, pid in before.items():
        assert not (shared := shared_with(pid, template)), f"{name} holds the template's {shared}"
    killed_at = datetime.now(UTC).replace(tzinfo=None)
    os.kill(template, signal.SIGKILL)
    cinder.wait_until(
        lambda: any(e["pid"] != template for e in preload_events(cinder, "ready")),
        READY_TIMEOUT,
        "a new template to have imported Cinder",
    )

    def every_row_beat_since_the_kill() -> bool:
        rows = rows_up(cinder)
        return all(
            rows[key]["state"] == "up"
            and datetime.fromisoformat(rows[key]["updated_at"].rstrip("Z")) > killed_at
            for key in CINDER_ROWS
        )

    cinder.wait_until(every_row_beat_since_the_kill, 120, "every row to heartbeat after the kill")
    after = cinder.status()
    assert {name: after[name]["pid"] for name in before} == before  # forks ran on
    assert all(after[name]["state"] == "running" for name in before)


def test_the_client_setup_scripts_run_prints_reaches_the_api(cinder: CinderStack, tmp_path: Path):
    """scripts/run prints these lines once the stack is ready; each command runs as printed,
    after the `export` lines, in a shell with no OS_* of the caller's."""
    setup = REPOSITORY / "scripts" / "_client-setup.sh"
    endpoint = f"http://127.0.0.1:{cinder.ports['api']}/v3"
    printed = subprocess.run(
        ["bash", "-c", '. "$1"; client_setup "$2" "$3"', "-", str(setup), endpoint, BIN_DIR],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert printed[0].startswith(f"Cinder's volume API: {endpoint} ")
    exports = [line for line in printed[1:] if line.startswith("export ")]
    commands = [line for line in printed[1:] if not line.startswith("export ")]
    clients = [word for line in commands for word in line.split() if word.startswith(BIN_DIR)]
    missing = [client for client in clients if not Path(client).exists()]
    assert not missing, f"{missing}: the openstack extra brings them: pip install -e '.[openstack]'"
    answers = {}
    for command in commands:
        result = subprocess.run(
            ["bash", "-c", "\n".join([*exports, command])],
            capture_output=True,
            text=True,
            timeout=180,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        )
        assert result.returncode == 0, f"{command}: {result.stderr}"
        answers[command.split()[0]] = result.stdout
    assert "volumes" in json.loads(answers["curl"])
    listings = [answer for command, answer in answers.items() if command != "curl"]
    assert len(listings) == 2 and all("| ID " in listing for listing in listings), listings


def test_a_file_volume_survives_snapshot_extend_backup_delete_and_restore(cinder: CinderStack):
    """The `file-1` backend's volumes are sparse files, opened by the backup workers through
    os-brick's `local` connector: backups move real bytes (tests/support/volumeflow.py)."""
    backend = file_backend(cinder)
    flow = backup_round_trip(cinder, backend)

    # The POSIX driver wrote each backup's chunks and metadata under the state directory.
    backups = cinder.state_dir / "cinder" / "backups"
    for backup_id in flow.backups:
        stored = [p for p in backups.rglob("*") if p.is_file() and backup_id in p.name]
        assert any(p.name.endswith("_metadata") for p in stored), stored
    # Stored compressed: a backup of 2 GiB holding 12 MiB of data takes far less than 2 GiB.
    stored_bytes = sum(p.stat().st_size for p in backups.rglob("*") if p.is_file())
    assert stored_bytes < 256 * 1024**2, stored_bytes

    # backup_max_operations = 1 across both workers: the two backups (and the two restores)
    # each held the one slot in turn, never two at once, and one request waited for it.
    turns = backup_turns(cinder, BACKUP_WORKERS)
    assert set(flow.backups) <= turns.taken_by.keys(), turns
    assert len(turns.holds) >= 4, turns  # two backups, two restores
    assert not overlapping(turns.holds), turns.holds
    assert turns.waited, "no backup waited for its turn: were they not concurrent?"
    print(
        "backups taken:",
        {flow.backups[b]: turns.taken_by[b] for b in flow.backups},
        "slot holds:",
        turns.holds,
    )
