"""The UI's table and log lines as data, without a terminal."""

from __future__ import annotations

from pathlib import Path

from supervisor.ui.logpane import ProcessLog, shown
from supervisor.ui.rows import ProcessLine, ServiceLine, fit, last_exit_text, table_lines
from tests.support.stackcli import cli


def _process(name: str, service: str, **fields: object) -> dict:
    return {
        "name": name,
        "service": service,
        "state": "running",
        "pid": 100,
        "ready": True,
        "restarts": 0,
        "last_exit": None,
        "uptime": 5.0,
        "cpu": None,
        "memory": None,
        "status_text": None,
        **fields,
    }


def test_processes_are_grouped_under_their_service_in_start_order():
    lines = list(
        table_lines(
            [_process("db", "db"), _process("api#1", "api"), _process("api#2", "api")],
            colour=True,
        )
    )
    assert [type(line) for line in lines] == [ServiceLine, ProcessLine, ServiceLine] + [
        ProcessLine
    ] * 2
    assert [line.text for line in lines if isinstance(line, ServiceLine)] == [
        "db",
        "api (2/2 running)",
    ]


def _states(processes: list[dict], *, colour: bool) -> list[str]:
    lines = table_lines(processes, colour=colour)
    return [line.cells[1] for line in lines if isinstance(line, ProcessLine)]


def test_without_colour_the_alarming_states_are_in_capitals():
    processes = [_process("a", "a", state="backoff", pid=None), _process("b", "b")]
    assert _states(processes, colour=True) == ["backoff", "running"]
    assert _states(processes, colour=False) == ["BACKOFF", "running"]


def test_uptime_ages_from_the_reply_and_a_stopped_process_has_none():
    [_, running] = table_lines([_process("a", "a", uptime=5.0)], colour=True, elapsed=2.0)
    [_, stopped] = table_lines([_process("b", "b", pid=None, uptime=None)], colour=True)
    assert running.cells[5] == "7.0s"
    assert stopped.cells[5] == "-" and stopped.cells[6] == "-"


def test_the_last_exit_is_its_signal_or_its_code():
    assert last_exit_text(None) == "-"
    assert last_exit_text({"code": None, "signal": "SIGKILL"}) == "SIGKILL"
    assert last_exit_text({"code": None, "signal": 9}) == "SIGKILL"
    assert last_exit_text({"code": 1, "signal": None}) == "exit 1"


def test_fit_pads_or_cuts_with_a_mark():
    assert fit("ab", 4) == "ab  "
    assert fit("abcdef", 4) == "abc~"


def test_log_lines_keep_the_time_of_day_and_mark_stderr(tmp_path: Path):
    stamp = "2026-12-01T09:03:57.123+01:00 "
    assert shown(stamp + "hello", stderr=False) == "09:03:57 hello"
    assert shown(stamp + "oops", stderr=True) == "09:03:57!oops"
    assert shown("no stamp here", stderr=False) == "no stamp here"
    out, err = tmp_path / "p.log", tmp_path / "p.err.log"
    out.write_text("2026-12-01T09:00:01.000+01:00 one\n2026-12-01T09:00:03.000+01:00 three\n")
    err.write_text("2026-12-01T09:00:02.000+01:00 two\n")
    log = ProcessLog("p", {"p": out}, last=10)
    assert [(line.text, line.stderr) for line in log.lines] == [
        ("09:00:01 one", False),
        ("09:00:02!two", True),
        ("09:00:03 three", False),
    ]
    with out.open("a") as file:
        file.write("2026-12-01T09:00:04.000+01:00 four\n")
    assert log.poll() and log.lines[-1].text == "09:00:04 four"
    assert log.first == 0 and log.added == 4
    log.close()


def test_without_a_terminal_it_exits_2(write_config):
    result = cli(write_config('[services.a]\ncommand = ["true"]\n'), "ui")
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
