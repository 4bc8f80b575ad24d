"""The UI's folding, search, events and "why" lines as data, without a terminal."""

from __future__ import annotations

from pathlib import Path

from supervisor.cli.logfollow import FileFollower
from supervisor.ui.history import EventHistory, event_line, why_lines
from supervisor.ui.rows import ProcessLine, ServiceLine, service_summary, table_lines
from supervisor.ui.search import Search


def _process(name: str, service: str, state: str = "running") -> dict:
    return {"name": name, "service": service, "state": state, "pid": 1, "restarts": 0}


def test_a_folded_service_is_its_header_alone_with_what_its_processes_do():
    processes = [
        _process("vol@a", "vol"),
        _process("vol@b", "vol", "backoff"),
        _process("vol@c", "vol", "fatal"),
        _process("db", "db"),
    ]
    lines = list(table_lines(processes, colour=False, folded={"vol", "db"}))
    assert [type(line) for line in lines] == [ServiceLine, ServiceLine, ProcessLine]
    assert lines[0].text == "vol (1/3 running, 1 BACKOFF, 1 FATAL) [folded]"
    assert lines[1].text == "db" and not lines[1].folded  # one process: nothing to fold
    assert service_summary("vol", ["running"] * 2, colour=True) == "vol (2/2 running)"


def test_search_is_smart_about_case_wraps_round_and_takes_a_bad_expression_as_text():
    lines = ["one ERROR", "two", "three error", "four (x"]
    search = Search("error")
    assert search.matching(lines) == [0, 2]
    assert search.next_match(lines, None, forward=True) == 2  # the newest first
    assert search.next_match(lines, 2, forward=True) == 0  # wrapped
    assert search.next_match(lines, 0, forward=False) == 2
    assert Search("ERROR").matching(lines) == [0]
    literal = Search("(x")
    assert literal.literal and literal.matching(lines) == [3]
    assert literal.spans("four (x") == [(5, 7)]
    assert Search("nothing").next_match(lines, None, forward=True) is None


def _state(seq: int, unit: str, to: str, cause: str, **fields: object) -> dict:
    return {
        "event": "state",
        "unit": unit,
        "from": "starting",
        "to": to,
        "cause": cause,
        "timestamp": "2026-12-01T09:00:00.000000Z",
        "seq": seq,
        **fields,
    }


def test_history_keeps_each_event_once_in_order_and_says_why_a_process_is_fatal():
    history = EventHistory()
    crash = [
        _state(3, "job", "backoff", "exit status 3; restart 1 in a row", pid=11, exit_status=3),
        _state(
            5,
            "job",
            "fatal",
            "exit status 3; start limit hit: 2 restarts within 30s",
            pid=12,
            exit_status=3,
        ),
        {
            "event": "probe",
            "unit": "job",
            "pid": 12,
            "cause": "liveness tcp 127.0.0.1:1: connection refused",
            "failures": 1,
            "seq": 4,
            "timestamp": "2026-12-01T09:00:00Z",
        },
    ]
    for record in [crash[1], crash[0], crash[1], crash[2]]:  # a past one late, one twice
        history.add(record)
    records = history.of(["job"])
    assert [r["seq"] for r in records] == [3, 4, 5]
    assert event_line(records[0]).endswith("starting -> backoff: exit status 3; restart 1 in a row")
    process = {"name": "job", "state": "fatal", "restarts": 2, "cause": crash[1]["cause"]}
    why = why_lines(process, records)
    assert why[0] == "job is fatal: exit status 3; start limit hit: 2 restarts within 30s"
    assert why[1].startswith("start limit hit: 2 restarts within 30s")
    assert "last exits (newest first, 2 of 2):" in why
    assert any("pid 12  status 3  exit status 3" in line for line in why)
    assert any("probe, last answer:" in line and "connection refused" in line for line in why)


def test_a_follower_far_behind_skips_to_the_last_lines(tmp_path: Path):
    path = tmp_path / "flood.log"
    path.write_bytes(b"")
    follower = FileFollower(path)
    with path.open("ab") as file:
        file.write(b"".join(b"line %06d\n" % n for n in range(100_000)))
    lines = follower.new_lines(at_most=1100)
    assert lines[-1] == "line 099999" and len(lines) == 91  # 1100 bytes: 8 of a line, then 91
    assert follower.skipped == 100_000 * 12 - 91 * 12
    with path.open("ab") as file:
        file.write(b"after\n")
    assert follower.new_lines(at_most=1100) == ["after"]
    follower.close()
