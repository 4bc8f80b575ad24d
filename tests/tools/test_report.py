"""The timeline report: from event logs of real runs and hand-written ones, as text and HTML."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from supervisor import config
from supervisor.cli.main import main
from supervisor.daemon.events import EVENTS_FILE
from supervisor.testing.harness import RunStack, WriteConfig
from supervisor.testing.stack import Stack
from supervisor.tools.crashschedule import parse_schedule
from supervisor.tools.report.html import render_html
from supervisor.tools.report.text import render_text
from supervisor.tools.report.timeline import build_timeline, load_timeline
from supervisor.tools.simulate import Simulation


@pytest.fixture
def crashing_stack_log(write_config: WriteConfig, run_stack: RunStack) -> Path:
    """A real run: a critical crasher restarts twice, goes fatal and stops the group; a
    process ignoring SIGTERM is then killed."""
    path = write_config(
        """
        [services.crasher]
        command = ["sh", "-c", "sleep 0.2; exit 3"]
        critical = true
        start_seconds = 0.1
        restart = { backoff = { initial = 0.05, jitter = 0.0 }, start_limit = { burst = 2 } }
        [services.steady]
        command = ["sleep", "1000"]
        start_seconds = 0
        [services.stubborn]
        command = ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]
        start_seconds = 0
        stop_timeout = 0.3
        """
    )
    stack = run_stack(path)
    assert stack.wait_exit() == 3
    return stack.events.path


def write_events(path: Path, *events: dict) -> Path:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def at(seconds: float) -> str:
    return f"2026-01-01T00:00:{seconds:06.3f}Z"


def state(seconds: float, unit: str, previous: str, to: str, cause: str = "", **more) -> dict:
    fields = {"unit": unit, "from": previous, "to": to, "cause": cause, **more}
    return {"event": "state", **fields, "timestamp": at(seconds)}


START = {"event": "supervisor", "action": "start", "pid": 1, "timestamp": at(0)}


# -- a real run ----------------------------------------------------------------------------------


def test_a_real_run_becomes_rows_spans_markers_and_the_group_end(crashing_stack_log: Path):
    timeline = load_timeline(crashing_stack_log)
    assert [row.unit for row in timeline.rows] == ["crasher", "steady", "stubborn"]
    crasher, steady, stubborn = timeline.rows
    assert [m.kind for m in crasher.markers] == ["restart", "restart", "fatal"]
    assert crasher.markers[0].exit_status == 3 and crasher.markers[0].delay == 0.05
    assert [span.state for span in crasher.spans] == [
        *["starting", "running", "backoff"] * 2,
        *["starting", "running", "fatal"],
    ]
    assert [span.state for span in steady.spans] == ["starting", "running", "stopping", "exited"]
    assert [m.kind for m in stubborn.markers] == ["kill"]
    assert "still running 0.3s after the stop signal" in stubborn.markers[0].cause
    assert [mark.kind for mark in timeline.group] == ["stop", "exit"]
    assert timeline.exit is not None and timeline.exit.status == 3
    assert timeline.end == pytest.approx(timeline.exit.time)
    for row in timeline.rows:  # spans tile each row without gaps
        assert all(a.end == b.start for a, b in zip(row.spans, row.spans[1:], strict=False))
        assert not row.spans[-1].open


def test_the_text_timeline_of_a_real_run(crashing_stack_log: Path):
    text = render_text(load_timeline(crashing_stack_log), width=40)
    lines = text.splitlines()
    assert lines[0].startswith(f"{crashing_stack_log}, started ")
    tracks = {line.split()[0]: line for line in lines if line.endswith("|")}
    assert set(tracks) == {"crasher", "steady", "stubborn"}
    assert all(len(track.split("|")[1]) == 40 for track in tracks.values())
    assert tracks["crasher"].rstrip("|").endswith("X")
    assert "." in tracks["crasher"] and ">" in tracks["stubborn"]
    assert "legend: ~ starting  = running  . backoff" in text
    assert "crasher   restart: exit status 3; restart 1 in a row, in 0.050s" in text
    assert "stubborn  kill: still running 0.3s after the stop signal" in text
    assert "stop: critical unit crasher failed for good" in text
    assert "exit with status 3: crasher failed: exit status 3; start limit hit" in text


def assert_rows_and_markers_of_the_crashing_run(parsed: Elements) -> None:
    assert [e["data-process"] for e in parsed.with_class("row")] == [
        "crasher",
        "steady",
        "stubborn",
    ]
    assert len(parsed.with_class("marker restart")) == 2
    assert len(parsed.with_class("marker fatal")) == 1
    assert len(parsed.with_class("marker kill")) == 1


def test_the_html_page_of_a_real_run_is_self_contained(crashing_stack_log: Path):
    page = render_html(load_timeline(crashing_stack_log))
    parsed = Elements.of(page)
    assert_rows_and_markers_of_the_crashing_run(parsed)
    assert len(parsed.with_class("group-mark exit")) == 1
    assert "group exit status 3" in page
    assert "exit status 3; restart 1 in a row, in 0.050s" in page  # a marker's title
    # Nothing is fetched: no scripts, stylesheets or images from elsewhere.
    assert not any(name in ("script", "link", "img", "iframe") for name, _ in parsed.elements)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


# -- hand-written logs for the edges -------------------------------------------------------------


def test_a_log_with_one_event(tmp_path: Path):
    timeline = load_timeline(write_events(tmp_path / EVENTS_FILE, START))
    assert (timeline.rows, timeline.end, timeline.exit) == ([], 0.0, None)
    text = render_text(timeline)
    assert "no process changed state in this run" in text
    assert "the log ends before the group" in text
    assert Elements.of(render_html(timeline)).with_class("row") == []


def test_a_process_still_running_at_the_end(tmp_path: Path):
    log = write_events(
        tmp_path / EVENTS_FILE,
        START,
        state(0.0, "web", "stopped", "starting", "supervisor started"),
        state(1.0, "web", "starting", "running", "up for 1s"),
        state(2.0, "job", "stopped", "starting", "supervisor started"),
        state(4.0, "job", "starting", "exited", "exit status 0", exit_status=0),
    )
    timeline = load_timeline(log)
    web, job = timeline.rows
    assert web.spans[-1].state == "running" and web.spans[-1].open
    assert web.spans[-1].end == timeline.end == 4.0
    assert not job.spans[-1].open  # ended for good, so not "still" anything
    text = render_text(timeline, width=8)
    assert "web |~~======|" in text
    assert "job |    ~~~_|" in text
    assert "the log ends before the group; still going: web" in text
    page = render_html(timeline)
    assert "the log ends before the group" in page
    assert "web: running from 1s to the end of the log (3s)" in page


def test_a_reload_adds_a_process_mid_run(tmp_path: Path):
    reload = {"event": "reload", "action": "applied", "added": ["cron"], "removed": []}
    log = write_events(
        tmp_path / EVENTS_FILE,
        START,
        state(0.0, "web", "stopped", "starting"),
        state(0.0, "web", "starting", "running"),
        {**reload, "changed": [], "unchanged": ["web"], "timestamp": at(5.0)},
        state(5.0, "cron", "stopped", "starting", "added by reload"),
        state(5.0, "cron", "starting", "running"),
        {"event": "signal", "signal": "SIGTERM", "timestamp": at(9.0)},
        {"event": "group", "action": "stop", "cause": "SIGTERM received", "timestamp": at(9.0)},
        state(9.0, "cron", "running", "stopping", "SIGTERM received"),
        state(9.5, "cron", "stopping", "exited", "stopped cleanly: killed by SIGTERM"),
        state(9.5, "web", "running", "stopping", "SIGTERM received"),
        state(10.0, "web", "stopping", "exited", "stopped cleanly: killed by SIGTERM"),
        {
            "event": "group",
            "action": "exit",
            "status": 0,
            "cause": "SIGTERM received",
            "timestamp": at(10),
        },
    )
    timeline = load_timeline(log)
    assert [row.unit for row in timeline.rows] == ["web", "cron"]
    assert timeline.rows[1].spans[0].start == 5.0
    assert [(m.kind, m.cause) for m in timeline.group][:2] == [
        ("reload", "added: cron"),
        ("signal", "SIGTERM received"),
    ]
    text = render_text(timeline, width=10)
    assert "cron |     ====>|" in text
    assert "web  |=========>|" in text
    assert "reload: added: cron" in text
    parsed = Elements.of(render_html(timeline))
    assert len(parsed.with_class("group-mark reload")) == 1
    assert parsed.by_id("group-status")["class"] == "status ok"


def test_the_last_run_of_a_log_by_default_or_a_chosen_one(tmp_path: Path):
    log = write_events(
        tmp_path / EVENTS_FILE,
        START,
        state(1.0, "first", "stopped", "starting"),
        {**START, "timestamp": at(30.0)},
        state(31.0, "second", "stopped", "starting"),
    )
    last = load_timeline(log)
    assert ([row.unit for row in last.rows], last.run, last.runs) == (["second"], 2, 2)
    assert last.rows[0].spans[0].start == 1.0  # counted from its own run's start
    assert [row.unit for row in load_timeline(log, run=1).rows] == ["first"]
    with pytest.raises(IndexError, match="holds 2 runs; there is no run 3"):
        load_timeline(log, run=3)


def test_a_line_still_being_written_is_left_out(tmp_path: Path):
    log = write_events(tmp_path / EVENTS_FILE, START, state(1.0, "web", "stopped", "starting"))
    with log.open("a") as file:
        file.write('{"event": "state", "unit": "web", "fr')
    assert [span.state for span in load_timeline(log).rows[0].spans] == ["starting"]


def test_simulated_events_draw_the_same_way(write_config: WriteConfig):
    path = write_config('[services.crasher]\ncommand = ["true"]\nstart_seconds = 0\n')
    plan = config.load(path)
    result = Simulation(
        plan,
        ["crasher"],
        parse_schedule("every 1s"),
        uniform=random.Random(0).uniform,
        duration=60.0,
    ).run()
    timeline = build_timeline(result.events, "simulation")
    assert timeline.exit is not None and timeline.exit.status == 1
    assert [m.kind for m in timeline.rows[0].markers] == ["restart"] * 5 + ["fatal"]


# -- an operator's actions -----------------------------------------------------------------------


def test_an_operators_stop_start_and_restart_of_a_real_run(
    write_config: WriteConfig, stack: Callable[..., Stack]
):
    s = stack(write_config('[services.steady]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\n'))
    s.wait_ready()
    assert s.control("stop", names=["steady"])["ok"]
    s.wait_state("steady", "stopped", timeout=10)
    assert s.control("start", names=["steady"])["ok"]
    s.wait_ready("steady", timeout=10)
    assert s.control("restart", names=["steady"])["ok"]
    s.wait_event(event="state", unit="steady", to="starting", cause="restarted by operator")
    s.wait_ready("steady", timeout=10)
    assert s.stop() == 0
    timeline = load_timeline(s.state_dir / EVENTS_FILE)
    operator = [(m.describe(), m.cause) for m in timeline.markers if m.kind == "operator"]
    assert operator == [
        ("operator stop", "running → stopping"),
        ("operator start", "stopped → starting"),
        ("operator restart", "running → stopping"),  # its start after the exit is the same act
    ]
    assert "steady  operator restart: running → stopping" in render_text(timeline)
    page = Elements.of(render_html(timeline))
    assert len(page.with_class("operator")) == 3  # the table's rows
    drawn = page.with_class("marker operator") + page.with_class("marker operator cluster")
    assert sum(int(mark.get("data-count", 1)) for mark in drawn) == 3  # close ones joined


def test_an_operators_signal_is_marked_on_its_process_not_the_group(
    write_config: WriteConfig, stack: Callable[..., Stack]
):
    s = stack(write_config('[services.steady]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\n'))
    s.wait_ready()
    assert s.control("signal", names=["steady"], signal="CONT")["ok"]
    s.wait_event(event="signal", unit="steady", signal="SIGCONT")
    assert s.stop() == 0
    timeline = load_timeline(s.state_dir / EVENTS_FILE)
    marked = [(m.unit, m.describe(), m.cause) for m in timeline.markers if m.kind == "operator"]
    assert marked == [("steady", "operator signal", "SIGCONT sent by operator")]
    # The group's own signal marks are the supervisor's (the stop's SIGTERM), not the operator's.
    assert not [mark for mark in timeline.group if "CONT" in mark.cause], timeline.group


def test_an_operators_restart_of_a_process_not_running_is_one_action(tmp_path: Path):
    log = write_events(
        tmp_path / EVENTS_FILE,
        START,
        state(0.0, "job", "stopped", "starting", "supervisor started"),
        state(1.0, "job", "starting", "backoff", "exit status 1", exit_status=1, delay=5),
        state(2.0, "job", "backoff", "starting", "restarted by operator"),
        state(3.0, "job", "starting", "backoff", "exit status 1", exit_status=1, delay=5),
        state(4.0, "job", "backoff", "stopped", "stopped by operator"),
        state(5.0, "job", "stopped", "starting", "restarted by operator"),
    )
    markers = load_timeline(log).rows[0].markers
    assert [(m.time, m.describe()) for m in markers if m.kind == "operator"] == [
        (2.0, "operator restart"),
        (4.0, "operator stop"),
        (5.0, "operator restart"),
    ]


# -- the command ---------------------------------------------------------------------------------


def report(*argv: str) -> int:
    return main(["report", *argv])


def test_the_command_finds_the_log_through_the_services_file(
    write_config: WriteConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = write_config('[services.web]\ncommand = ["true"]\n')
    assert report("-c", str(path)) == 1
    assert f"no event log at {tmp_path / 'state' / EVENTS_FILE}" in capsys.readouterr().err
    (tmp_path / "state").mkdir()
    write_events(tmp_path / "state" / EVENTS_FILE, START, state(1, "web", "stopped", "starting"))
    page = tmp_path / "timeline.html"
    assert report("-c", str(path), "--html", str(page), "--width", "20") == 0
    out = capsys.readouterr().out
    assert "web |" in out and out.endswith(f"wrote {page}\n")
    assert Elements.of(page.read_text()).with_class("row")[0]["data-process"] == "web"
    assert report("--events", str(tmp_path / "state" / EVENTS_FILE), "--run", "2") == 1
    assert "holds 1 runs; there is no run 2" in capsys.readouterr().err


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    @classmethod
    def of(cls, page: str) -> Elements:
        parser = cls()
        parser.feed(page)
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def with_class(self, classes: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.elements if attrs.get("class") == classes]

    def by_id(self, identifier: str) -> dict[str, str]:
        return next(attrs for _, attrs in self.elements if attrs.get("id") == identifier)
