"""What-if sweeps: the flag's ranges, the outcome per value, the table, JSON, and the chart's page
measured in Chromium (as the timeline's is, in test_report_layout.py)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from supervisor import config
from supervisor.cli.main import main
from supervisor.testing.harness import WriteConfig
from supervisor.tools.crashschedule import parse_schedule
from supervisor.tools.report.sweeppage import render_sweep_html
from supervisor.tools.sweep import (
    FatalEdge,
    Outcome,
    SweepError,
    fatal_edges,
    parse_sweep,
    run_sweep,
)
from tests.tools.test_report_layout import VIEWS, browser, chromium, overlaps

__all__ = ["chromium"]  # the fixture, shared with the timeline's browser tests

CRASHER = """
[services.crasher]
command = ["sh", "-c", "exit 1"]
start_seconds = 0
restart = { backoff = { initial = 1, factor = 1.0, max = 1, jitter = 0.0, reset_after = 100 },
            start_limit = { burst = 3, interval = 20 } }
"""


# -- the flag ------------------------------------------------------------------------------------


def test_a_range_includes_both_ends_and_a_list_is_sorted():
    assert parse_sweep("crash_every=1s..3s:500ms").values == (1.0, 1.5, 2.0, 2.5, 3.0)
    assert parse_sweep("backoff.factor=1..2:0.1").values[3] == 1.3  # no drift of 0.1 steps
    assert parse_sweep("start_limit.burst=1..4").values == (1, 2, 3, 4)
    assert parse_sweep("backoff.initial=2s, 100ms,1").values == (0.1, 1.0, 2.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("crash_every", "expected PARAMETER=RANGE"),
        ("crash_period=1..2:1", "no parameter 'crash_period'; one of crash_every, backoff.initial"),
        ("crash_every=1s..10s", "needs a step, like 1s..10s:1"),
        ("crash_every=10s..1s:1s", "runs backwards"),
        ("crash_every=1s..2s:0s", "step of '1s..2s:0s' must be above 0"),
        ("crash_every=0..2:1", "0 is out of range; crash_every is a duration above 0 to 86400"),
        ("backoff.jitter=0..2:0.5", "1.5 is out of range; backoff.jitter is a number from 0 to 1"),
        ("start_limit.burst=1.5", "'1.5' is not a whole number"),
        ("backoff.factor=x", "'x' is not a number"),
        ("crash_every=often", "'often' is not a duration"),
        ("crash_every=1ms..1h:1ms", "has 3600000 values; at most 1000"),
    ],
)
def test_a_bad_sweep_says_what_is_allowed(text: str, message: str):
    with pytest.raises(SweepError, match=re.escape(message)):
        parse_sweep(text)


# -- the outcome per value -----------------------------------------------------------------------


def sweep(path: Path, text: str, crashes: str | None, duration: float = 100.0):
    plan = config.load(path)
    return run_sweep(
        plan,
        ["crasher"],
        parse_sweep(text),
        parse_schedule(crashes) if crashes else None,
        uniform=lambda: random.Random(0).uniform,
        duration=duration,
    )


def test_crash_periods_below_the_start_limit_go_fatal(write_config: WriteConfig):
    # 3 restarts within 20 s: runs of N s with 1 s of backoff restart every N+1 s, so a fourth
    # restart falls inside the window while 3 (N+1) < 20, that is for N up to 5 s.
    outcomes = sweep(write_config(CRASHER), "crash_every=2s..8s:1s", None)
    assert [o.fatal_at for o in outcomes] == [11.0, 15.0, 19.0, 23.0, None, None, None]
    assert [o.restarts for o in outcomes[:4]] == [3, 3, 3, 3]
    assert fatal_edges(outcomes) == [FatalEdge(fatal=5.0, not_fatal=6.0)]
    # Down: each backoff second, and from the fatal exit to the end of the 100 s.
    assert outcomes[0].down == pytest.approx(3 + (100 - 11))
    survivor = outcomes[-1]  # every 9 s it is down 1 s: 10 restarts by 100 s
    assert survivor.restarts == 11
    assert survivor.down == pytest.approx(11.0)
    assert survivor.down_fraction == pytest.approx(0.11)


def test_a_policy_parameter_is_swept_for_the_simulated_processes(write_config: WriteConfig):
    outcomes = sweep(write_config(CRASHER), "start_limit.burst=1..5", "every 3s")
    # A failure every 4 s; a restart is counted when its failure is: 5 of them span 16 s, and
    # the 6th failure, 20 s after the 1st, finds only 4 within the 20 s window.
    assert [o.fatal_at for o in outcomes] == [7.0, 11.0, 15.0, 19.0, None]
    assert [o.restarts for o in outcomes] == [1, 2, 3, 4, 25]


def test_a_sweep_that_cannot_apply_says_why(write_config: WriteConfig):
    path = write_config(CRASHER)
    with pytest.raises(SweepError, match="a list of exit times has no period"):
        sweep(path, "crash_every=1..2:1", "1:1, 2:1")
    with pytest.raises(SweepError, match="needs --crashes"):
        sweep(path, "start_limit.burst=1..2", None)
    with pytest.raises(SweepError, match=r"backoff.max \(1s\) would be below backoff.initial"):
        sweep(path, "backoff.initial=2", "every 1s")


# -- the command ---------------------------------------------------------------------------------


def test_the_command_prints_the_table_and_where_fatal_begins(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
):
    path = str(write_config(CRASHER))
    args = ["simulate", "-c", path, "--service", "crasher", "--duration", "100"]
    assert main([*args, "--sweep", "crash_every=4s..7s:1s"]) == 0
    text = capsys.readouterr().out
    assert "crash_every  restarts   fatal at          time down  final" in text
    assert "         4s         3        19s      1m24s (84.0%)  fatal" in text
    assert "         7s        12      never        12s (12.0%)  running" in text
    assert text.endswith("fatal below 6s: crash_every = 5s goes fatal, 6s does not\n")


def test_the_command_prints_json_and_writes_the_page(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    path = str(write_config(CRASHER))
    page = tmp_path / "sweep.html"
    args = ["simulate", "-c", path, "--service", "crasher", "--crashes", "every 3s"]
    args += ["--duration", "100", "--json"]
    assert main([*args, "--sweep", "start_limit.burst=3,9", "--html", str(page)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["parameter"] == "start_limit.burst"
    assert document["values"][0] == {
        "value": 3,
        "schedule": "each run exits with status 1, 3s after it started",
        "restarts": 3,
        "fatal_at": 15.0,
        "down_seconds": 88.0,
        "down_fraction": 0.88,
        "states": {"crasher": "fatal"},
        "group_status": 1,
    }
    assert document["values"][1]["fatal_at"] is None
    assert document["fatal_edges"] == [{"fatal": 3, "not_fatal": 9}]
    assert "Where fatal begins: start_limit.burst = 3" in page.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sweep", "crash_every=1..3"], "--sweep crash_every: the range '1..3' needs a step"),
        (["--sweep", "start_limit.burst=1..3"], "--crashes is needed"),
        (["--crashes", "every 1s", "--html", "x.html"], "--html draws a sweep: give --sweep"),
        (["--crashes", "1:1", "--sweep", "crash_every=1..3:1"], "has no period"),
    ],
)
def test_the_command_rejects_a_bad_sweep(
    argv: list[str], message: str, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
):
    path = str(write_config(CRASHER))
    assert main(["simulate", "-c", path, "--service", "crasher", *argv]) == 2
    assert message in capsys.readouterr().err


# -- the page in Chromium ------------------------------------------------------------------------

# The box of every text of the sweep's chart, for --dump-dom to carry out (as the timeline's).
_MEASURE = """
<script>
const boxes = [];
for (const element of document.querySelectorAll("svg.sweep text")) {
  const r = element.getBoundingClientRect();
  boxes.push({what: element.textContent, kind: element.getAttribute("class"),
              left: r.left, top: r.top, right: r.right, bottom: r.bottom});
}
const pre = document.createElement("pre");
pre.id = "boxes";
pre.textContent = JSON.stringify({boxes, bars: document.querySelectorAll("svg.sweep .bar").length,
  bands: document.querySelectorAll("svg.sweep .fatal-band").length,
  width: document.querySelector("svg.sweep").getBoundingClientRect().width});
document.body.appendChild(pre);
</script>
"""


def test_the_chart_shows_where_fatal_begins_and_no_text_overlaps(
    chromium: str, write_config: WriteConfig, tmp_path: Path
):
    # Many narrow columns: the value labels are thinned to fit.
    parsed = parse_sweep("crash_every=1s..60s:500ms")
    outcomes = sweep(write_config(CRASHER), "crash_every=1s..60s:500ms", None, duration=300.0)
    edges = fatal_edges(outcomes)
    assert edges[0] == FatalEdge(fatal=5.5, not_fatal=6.0)
    fatal = sum(outcome.fatal for outcome in outcomes)
    page = tmp_path / "sweep.html"
    html = render_sweep_html(parsed, outcomes, "crasher", ["a test"])
    page.write_text(html.replace("</body>", _MEASURE + "</body>"))
    widths = []
    for window, scale in VIEWS:
        dom = browser(
            chromium,
            tmp_path,
            f"--window-size={window}",
            f"--force-device-scale-factor={scale}",
            "--dump-dom",
            page.as_uri(),
        ).stdout
        found = re.search(r'<pre id="boxes">(.*?)</pre>', dom, re.S)
        assert found, f"the measuring script did not run:\n{dom[-2000:]}"
        measured = json.loads(found.group(1).replace("&amp;", "&"))
        # A bar per value in the restarts and time-down panels; time to fatal only if fatal.
        assert measured["bars"] == 2 * len(outcomes) + fatal
        assert measured["bands"] == 3  # one run of fatal values, in each panel
        texts = [box["what"] for box in measured["boxes"]]
        assert "fatal below 6s" in texts
        assert {"restarts", "time to fatal", "time down", "crash_every"} <= set(texts)
        values = [box["what"] for box in measured["boxes"] if box["kind"] == "value"]
        assert values[0] == "1s" and 5 < len(values) < len(outcomes)  # thinned, not gone
        boxes = measured["boxes"]
        clashes = [
            (a["what"], b["what"])
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if overlaps(a, b)
        ]
        assert clashes == [], f"at {window} {scale}x"
        widths.append(measured["width"])
    assert widths[1] < widths[0]  # the narrow window shrank the chart


def test_the_page_renders_in_a_browser(chromium: str, write_config: WriteConfig, tmp_path: Path):
    outcomes = sweep(write_config(CRASHER), "crash_every=2s..8s:1s", None)
    page = tmp_path / "sweep.html"
    page.write_text(render_sweep_html(parse_sweep("crash_every=2s..8s:1s"), outcomes, "x", []))
    screenshot = tmp_path / "sweep.png"
    browser(
        chromium, tmp_path, f"--screenshot={screenshot}", "--window-size=1100,900", page.as_uri()
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a blank page compresses to a few kB


def test_crowded_edges_take_lanes_then_join_and_no_text_overlaps(
    chromium: str, write_config: WriteConfig, tmp_path: Path
):
    # Outcomes that flip between fatal and not at almost every value: more edge labels than
    # the header's lanes hold side by side.
    parsed = parse_sweep("backoff.initial=0.1..6:0.1")
    result = sweep(write_config(CRASHER), "crash_every=1..1:1", None)[0].result
    flips = [
        Outcome(
            value=value,
            schedule=parse_schedule("every 1s"),
            result=result,
            restarts=1,
            fatal_at=1.0 if i % 3 else None,
            down=1.0,
            down_fraction=0.5,
        )
        for i, value in enumerate(parsed.values)
    ]
    edges = fatal_edges(flips)
    assert len(edges) > 30
    page = tmp_path / "sweep.html"
    html = render_sweep_html(parsed, flips, "crasher", [])
    # Labels that found no lane free joined the one before, which counts them.
    assert re.search(r">fatal (below|above) [\d.]+s \+\d</text>", html)
    page.write_text(html.replace("</body>", _MEASURE + "</body>"))
    for window, scale in VIEWS:
        dom = browser(
            chromium,
            tmp_path,
            f"--window-size={window}",
            f"--force-device-scale-factor={scale}",
            "--dump-dom",
            page.as_uri(),
        ).stdout
        found = re.search(r'<pre id="boxes">(.*?)</pre>', dom, re.S)
        assert found, dom[-2000:]
        boxes = json.loads(found.group(1).replace("&amp;", "&"))["boxes"]
        labels = [box for box in boxes if box["what"].startswith("fatal ")]
        assert len(labels) >= 2
        clashes = [
            (a["what"], b["what"])
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if overlaps(a, b)
        ]
        assert clashes == [], f"at {window} {scale}x"
