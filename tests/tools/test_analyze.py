"""`supervisor analyze`: a real stack whose slowest dependency is known (it becomes ready only
when the test writes to the FIFO it reads) is named in the critical chain; the times themselves
are checked on a hand-written log, where every one is known."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from supervisor.testing.harness import RunStack, WriteConfig
from supervisor.tools.analyze import analyze
from tests.support.stackcli import cli

# `gate` is ready once it prints "gate open", which it does only after reading a line from the
# FIFO; the test writes that line once every other process that can be ready is, so the gate is
# the last dependency of `api` by construction, not by a race.
STACK = """
[services.base]
command = ["sleep", "1000"]
start_seconds = 0

[services.cache]
command = ["sleep", "1000"]
start_seconds = 0
depends_on = ["base"]

[services.gate]
command = ["sh", "-c", "read line < {fifo}; echo gate open; exec sleep 1000"]
readiness = {{ log = "gate open" }}

[services.api]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2
depends_on = ["cache", "gate"]
"""


def _open_the_gate(fifo: Path) -> None:
    with fifo.open("w") as writer:  # blocks until the gate has opened it to read
        writer.write("go\n")


def test_the_slowest_dependency_is_named_in_the_critical_chain(
    tmp_path: Path, write_config: WriteConfig, run_stack: RunStack
):
    fifo = tmp_path / "gate.fifo"
    os.mkfifo(fifo)
    stack = run_stack(write_config(STACK.format(fifo=fifo)))
    ready = cli(stack.config, "wait", "--ready", "cache", "--timeout", "20")
    assert ready.returncode == 0, ready.stderr
    stack.wait_event(event="state", unit="gate", to="starting")
    opener = threading.Thread(target=_open_the_gate, args=(fifo,), daemon=True)
    opener.start()
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    opener.join(10)

    result = cli(stack.config, "analyze", "--json")  # the running run
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    chain = [step["name"] for step in report["critical_chain"]]
    assert chain[0] in ("api#1", "api#2") and chain[1:] == ["gate"]
    by_name = {process["name"]: process for process in report["processes"]}
    assert by_name["api#1"]["released_by"] == "gate"
    assert "gate" in by_name["api#1"]["waited_for"]  # cache may be ready by api's turn
    assert report["processes"][0]["name"] == "gate"  # blame: the slowest start of its own
    assert by_name["gate"]["waiting"] is None  # it waited for nothing

    text = cli(stack.config, "analyze")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("bring-up of run 1 of 1 in ")
    assert any(line.startswith("└─ gate @") for line in lines)
    assert stack.stop() == 0

    page = tmp_path / "report.html"
    assert cli(stack.config, "report", "--html", str(page)).returncode == 0
    html = page.read_text()
    assert 'id="critical-chain"' in html and "└─ gate @" in html


def _state(at: float, unit: str, to: str, cause: str = "", **fields: object) -> dict:
    return {"event": "state", "time": at, "unit": unit, "to": to, "cause": cause, **fields}


def test_the_times_of_a_known_log():
    events = [
        {"event": "supervisor", "action": "start", "time": 10.0},
        _state(10.1, "db", "starting", "supervisor started"),
        _state(10.1, "web#1", "waiting", "waiting for db, job to be ready"),
        _state(10.2, "job", "starting", "supervisor started"),
        _state(10.5, "db", "backoff", exit_status=1),  # a crash before ready
        _state(11.0, "db", "starting"),
        _state(12.0, "db", "running", "READY=1"),
        _state(12.5, "job", "exited", exit_status=0),  # a one-shot: done is ready
        _state(12.6, "web#1", "starting", "dependencies ready"),
        _state(13.6, "web#1", "running"),
        _state(14.0, "web#1", "backoff", exit_status=1),  # after bring-up: not counted
        _state(14.0, "lost", "starting", "started by operator"),  # no event asked for it
        _state(15.0, "lost", "fatal"),
        {"event": "scale", "action": "applied", "time": 15.5, "added": ["web#2"]},
        _state(15.7, "web#2", "starting", "added by scale (web 1 -> 2 workers)"),
        _state(15.8, "web#2", "running"),
    ]
    result = analyze(events)
    by_name = {process.name: process for process in result.processes}
    web, db, job = by_name["web#1"], by_name["db"], by_name["job"]
    assert web.released_by == "job" and db.starts == 2 and web.starts == 1
    assert round(web.waiting or 0, 3) == 2.4  # 10.1 until job completed at 12.5
    assert round(web.spawn or 0, 3) == 0.1 and round(web.to_ready or 0, 3) == 1.0
    assert round(db.to_ready or 0, 3) == 1.9 and db.waiting is None
    assert job.completed and round(job.ready_at or 0, 3) == 2.5
    assert [p.name for p in analyze(events[:10]).chain] == ["web#1", "job"]
    assert round(by_name["web#2"].spawn or 0, 3) == 0.2  # from the scale that added it
    assert by_name["lost"].spawn == 0
    assert [p.name for p in result.chain] == ["web#2"]  # ready last, and waited for nothing
    blame = ["job", "db", "web#1", "web#2", "lost"]  # the slowest own start first, never ready last
    assert [p.name for p in result.blame] == blame
    assert by_name["lost"].ready_at is None and by_name["lost"].state == "fatal"
