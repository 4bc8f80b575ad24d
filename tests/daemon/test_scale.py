"""`supervisor scale NAME N` on a running stack of real processes: workers added as a reload
adds them (after their dependencies), surplus ones stopped highest number first, refusals with
their exit statuses, and what a later reload keeps."""

from __future__ import annotations

import json
from pathlib import Path

from supervisor.control.client import ControlClient
from supervisor.testing.harness import RunningStack, WriteConfig
from tests.support.stackcli import ReadyStack, cli, status_of

STACK = """
[services.db]
command = ["sleep", "1000"]
start_seconds = 0

[services.web]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2
depends_on = ["db"]
env = { WORKER = "{process_number}" }
"""


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


def _alive(pid: int) -> bool:
    """Alive and not a zombie: the supervisor reaps its children, so a stopped one is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _scaled(stack: RunningStack) -> dict:
    return json.loads(cli(stack.config, "status", "--json").stdout)["scaled"]


def test_scale_up_then_down_with_real_processes(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    before = status_of(stack.config)

    up = cli(stack.config, "scale", "web", "4")
    assert up.returncode == 0, up.stderr
    assert "web: 2 -> 4 workers; starting web#3, web#4" in up.stdout
    grown = status_of(stack.config)  # `scale` waited until the new ones are ready
    assert [name for name in grown if name.startswith("web")] == [f"web#{n}" for n in range(1, 5)]
    for name in ("db", "web#1", "web#2"):
        assert grown[name]["pid"] == before[name]["pid"], f"{name} was restarted"
    for number in (3, 4):
        worker = grown[f"web#{number}"]
        assert worker["state"] == "running"
        assert _environment(worker["pid"])["WORKER"] == str(number)  # rendered for its number
        assert (
            "added by scale (web 2 -> 4 workers)"
            in stack.select(event="state", unit=f"web#{number}", to="starting")[0]["cause"]
        )
    assert _scaled(stack) == {"web": {"workers": 4, "file": 2}}
    table = cli(stack.config, "status").stdout
    assert "web: 4 workers (scaled; the file says 2)" in table
    (applied,) = stack.select(event="scale", action="applied")
    assert applied["added"] == ["web#3", "web#4"] and applied["cause"] == "scaled by operator"

    down = cli(stack.config, "scale", "web", "1")
    assert down.returncode == 0, down.stderr
    assert "web: 4 -> 1 workers; stopping web#4, web#3, web#2" in down.stdout
    shrunk = status_of(stack.config)  # `scale` waited until the surplus ones are down
    assert list(shrunk) == ["db", "web#1"]
    assert shrunk["web#1"]["pid"] == before["web#1"]["pid"]
    for name in ("web#2", "web#3", "web#4"):
        assert not _alive(grown[name]["pid"]), f"{name} is still running"
    stopping = [
        event["unit"]
        for event in stack.select(event="state", to="stopping")
        if "removed by scale" in event["cause"]
    ]
    assert stopping == ["web#4", "web#3", "web#2"]  # highest number first
    assert _scaled(stack) == {"web": {"workers": 1, "file": 2}}
    assert stack.stop() == 0


def test_new_workers_wait_for_their_dependencies_as_a_reload_adds_them(
    ready_stack: ReadyStack,
):
    stack = ready_stack(STACK)
    assert cli(stack.config, "stop", "db").returncode == 0
    scaled = cli(stack.config, "scale", "web", "3", "--no-block", "--json")
    assert scaled.returncode == 0, scaled.stderr
    reply = json.loads(scaled.stdout)
    assert reply == {
        "service": "web",
        "workers": 3,
        "was": 2,
        "file": 2,
        "added": ["web#3"],
        "removed": [],
    }
    stack.wait_event(event="state", unit="web#3", to="waiting")
    assert cli(stack.config, "start", "db").returncode == 0
    assert cli(stack.config, "wait", "--ready", "web#3", "--timeout", "20").returncode == 0
    assert stack.stop() == 0


def test_out_of_range_unknown_and_workerless_services_are_refused(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    for count in ("0", "1001", "two"):
        result = cli(stack.config, "scale", "web", count)
        assert result.returncode == 2, (count, result.stderr)  # a usage error, nothing asked
        assert "argument N" in result.stderr
    assert (
        "a service scales from 1 to 1000 workers" in cli(stack.config, "scale", "web", "0").stderr
    )

    workerless = cli(stack.config, "scale", "db", "2")
    assert workerless.returncode == 1
    assert "db has no numbered workers to scale" in workerless.stderr
    unknown = cli(stack.config, "scale", "wbe", "2", "--json")
    assert unknown.returncode == 1
    assert "web" in json.loads(unknown.stdout)["did_you_mean"]["wbe"]
    assert "services with workers: web" in unknown.stderr

    # The socket's own check, for a client that skips the command line's.
    with ControlClient(stack.config.parent / "state") as client:
        reply = client.request("scale", name="web", workers=5000)
        assert reply == {
            "ok": False,
            "error": "5000 workers: a service scales from 1 to 1000 workers",
        }
        assert client.request("scale", name="web", workers="3")["ok"] is False
    assert len(status_of(stack.config)) == 3  # nothing changed
    assert stack.stop() == 0


def test_reload_keeps_the_scaled_count_until_the_files_own_count_changes(
    write_config: WriteConfig, ready_stack: ReadyStack
):
    stack = ready_stack(STACK)
    assert cli(stack.config, "scale", "web", "3").returncode == 0
    third = status_of(stack.config, "web#3")["web#3"]["pid"]

    # An edit elsewhere in the file: web keeps the operator's 3.
    write_config(STACK.replace('["sleep", "1000"]', '["sleep", "1001"]', 1))  # db's
    reloaded = cli(stack.config, "reload")
    assert reloaded.returncode == 0, reloaded.stderr
    assert "changed    db" in reloaded.stdout
    assert "unchanged  web#1, web#2, web#3" in reloaded.stdout
    assert status_of(stack.config, "web#3")["web#3"]["pid"] == third
    assert _scaled(stack) == {"web": {"workers": 3, "file": 2}}

    # The file's workers itself changed: that edit is newer than the scale, and wins.
    write_config(STACK.replace("workers = 2", "workers = 1"))
    reloaded = cli(stack.config, "reload")
    assert reloaded.returncode == 0, reloaded.stderr
    assert "removed    web#2, web#3" in reloaded.stdout
    (dropped,) = stack.select(event="scale", action="dropped")
    assert dropped["service"] == "web" and dropped["workers"] == 3 and dropped["file"] == 1
    stack.wait_event(event="state", unit="web#3", to="exited")
    stack.wait_event(event="state", unit="web#2", to="exited")
    assert [name for name in status_of(stack.config) if name.startswith("web")] == ["web#1"]
    assert _scaled(stack) == {}
    assert stack.stop() == 0


def test_a_service_whose_table_was_edited_since_it_was_loaded_is_not_scaled(
    write_config: WriteConfig, ready_stack: ReadyStack
):
    stack = ready_stack(STACK)
    write_config(STACK.replace('WORKER = "{process_number}"', 'WORKER = "w{process_number}"'))
    refused = cli(stack.config, "scale", "web", "3")
    assert refused.returncode == 1
    assert "web's table in the file changed since it was loaded" in refused.stderr
    assert "reload first" in refused.stderr
    assert len(status_of(stack.config)) == 3
    assert stack.stop() == 0
