"""The timeline page's marks never overlap: packed by `layout.pack`, and measured in Chromium.

The browser tests load pages whose events crowd together (bursts of faults and restarts a few
milliseconds apart, a reload storm, the group's stop and end at once), write every label's and
marker's bounding box into the DOM with a small script, and compare the boxes.  They skip when
Chromium is missing, except under CI, where .ci/run installs it and a skip would hide a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.tools.report.html import render_html
from supervisor.tools.report.layout import pack, text_width
from supervisor.tools.report.timeline import Timeline, build_timeline

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Window sizes the page is seen at: wide enough for the drawing's own size, and narrow, where
# the drawing shrinks to fit (`max-width: 100%`), with a high-density screen as a browser zoom.
VIEWS = (("1400,900", "1"), ("700,900", "1"), ("1000,900", "2"))


# -- the packing, without a browser --------------------------------------------------------------


def test_items_far_apart_each_get_a_mark_in_the_first_lane():
    placed = pack([0.0, 100.0, 200.0], lambda x: x, lambda items: (0, 50), lanes=3, gap=4)
    assert [(mark.x, mark.lane, mark.items) for mark in placed] == [
        (0.0, 0, [0.0]),
        (100.0, 0, [100.0]),
        (200.0, 0, [200.0]),
    ]


def test_close_items_take_the_next_lane_then_join_the_nearest_mark():
    def extent(items: list[float]) -> tuple[float, float]:
        return 0, 20 + 10 * (len(items) - 1)  # a count beside the mark makes it wider

    placed = pack([0.0, 5.0, 10.0, 12.0, 100.0], lambda x: x, extent, lanes=2, gap=2)
    assert [(mark.x, mark.lane, mark.items) for mark in placed] == [
        (0.0, 0, [0.0]),
        (5.0, 1, [5.0, 10.0, 12.0]),  # no lane free at 10 or 12: the mark at 5 counts them
        (100.0, 0, [100.0]),
    ]
    assert placed[1].right == 5.0 + 40


@pytest.mark.parametrize("seed", range(20))
def test_packed_marks_never_overlap_and_lose_nothing(seed: int):
    chance = random.Random(seed)
    items = [chance.uniform(0, 300) for _ in range(chance.randint(1, 80))]

    def extent(marks: list[float]) -> tuple[float, float]:
        return -5, 5 + text_width(f"x{len(marks)}", 10) * (len(marks) > 1)

    placed = pack(items, lambda x: x, extent, lanes=chance.randint(1, 3), gap=2)
    assert sorted(item for mark in placed for item in mark.items) == sorted(items)
    for lane in {mark.lane for mark in placed}:
        marks = [mark for mark in placed if mark.lane == lane]
        for before, after in itertools.pairwise(marks):
            assert before.right + 2 <= after.x + extent(after.items)[0]


# -- crowded pages -------------------------------------------------------------------------------


def crowded_events() -> list[dict]:
    """A minute of a stack in which everything happens at once, several times over."""
    events: list[dict] = [{"event": "supervisor", "action": "start", "time": 0.0}]
    units = ["cinder-scheduler", "cinder-volume@lvm-1", "cinder-backup#1", "web"]
    for unit in units:
        events.append(_state(0.0, unit, "stopped", "starting", "supervisor started"))
        events.append(_state(0.5, unit, "starting", "running", "started"))
    # Bursts: a fault and the restart it caused a few milliseconds later, on every process.
    for burst in (10.0, 10.2, 30.0):
        for step, unit in enumerate(units):
            at = burst + step * 0.004
            events.append({"event": "fault", "unit": unit, "kind": "kill", "time": at})
            events.append(_state(at + 0.002, unit, "running", "backoff", "killed", delay=0.1))
            events.append(_state(at + 0.1, unit, "backoff", "starting", "backoff elapsed"))
            events.append(_state(at + 0.15, unit, "starting", "running", "started"))
    # An operator's restart and stop right after, and a kill during the stop.
    events.append(_state(30.3, "web", "running", "stopping", "restarted by operator"))
    events.append({"event": "kill", "unit": "web", "cause": "still running", "time": 30.31})
    events.append(_state(30.32, "web", "stopping", "exited", "stopped: killed by SIGKILL"))
    events.append(_state(30.33, "web", "exited", "starting", "restarted by operator"))
    events.append(_state(30.34, "web", "starting", "running", "started"))
    events.append(_state(30.35, "cinder-backup#1", "running", "stopping", "stopped by operator"))
    events.append(_state(30.36, "cinder-backup#1", "stopping", "stopped", "stopped cleanly"))
    # Marks at every spacing, a few pixels to a few labels' width apart.
    chance = random.Random(7)
    for at in sorted(chance.uniform(12, 28) for _ in range(30)):
        signal = {"event": "signal", "signal": chance.choice(["SIGHUP", "SIGUSR1"]), "time": at}
        events.append(chance.choice([signal, {"event": "reload", "action": "applied", "time": at}]))
    for at in sorted(chance.uniform(42, 58) for _ in range(40)):
        events.append(_state(at, "cinder-scheduler", "running", "backoff", "exit 1", delay=0))
        events.append(_state(at, "cinder-scheduler", "backoff", "running", "started"))
    # A reload storm, then the group's signal, stop and end in the same instant.
    for n in range(12):
        events.append(
            {"event": "reload", "action": "applied", "changed": ["web"], "time": 40 + n * 0.01}
        )
    events.append({"event": "signal", "signal": "SIGTERM", "time": 59.9})
    events.append({"event": "group", "action": "stop", "cause": "SIGTERM received", "time": 59.9})
    for unit in units:
        if unit != "cinder-backup#1":
            events.append(_state(59.95, unit, "running", "exited", "stopped cleanly"))
    events.append({"event": "group", "action": "exit", "status": 0, "cause": "", "time": 60.0})
    return events


def _state(at: float, unit: str, previous: str, to: str, cause: str, **more: object) -> dict:
    return {
        "event": "state",
        "unit": unit,
        "from": previous,
        "to": to,
        "cause": cause,
        "time": at,
        **more,
    }


def test_a_crowded_page_draws_every_marker_and_group_mark_once():
    timeline = build_timeline(crowded_events(), "crowded")
    page = render_html(timeline)
    drawn = [
        int(count or 1)
        for count in re.findall(r'<g class="marker [a-z ]+"(?: data-count="(\d+)")?>', page)
    ]
    assert sum(drawn) == len(timeline.markers)
    assert len(drawn) < len(timeline.markers)  # the bursts were joined
    labelled = re.findall(r'<g class="group-label [a-z]+">.*?<title>(.*?)</title>', page, re.S)
    assert sum(title.count("\n") + 1 for title in labelled) == 2 * len(timeline.group)
    assert page.count('<tr class="operator">') == 2  # the restart once, and the stop


# -- in Chromium ---------------------------------------------------------------------------------

# Writes the bounding box, in CSS pixels, of every text outside a marker and of every marker
# (its shape and its count) into <pre id="boxes">, for --dump-dom to carry out.
_MEASURE = """
<script>
const boxes = [];
for (const element of document.querySelectorAll("svg.timeline text, svg.timeline .marker")) {
  if (element.tagName === "text" && element.closest(".marker")) continue;
  const r = element.getBoundingClientRect();
  const what = element.tagName === "text" ? "text " + element.textContent
                                          : element.getAttribute("class");
  boxes.push({what, left: r.left, top: r.top, right: r.right, bottom: r.bottom});
}
const pre = document.createElement("pre");
pre.id = "boxes";
pre.textContent = JSON.stringify({boxes, svgWidth: document.querySelector("svg.timeline")
                                  .getBoundingClientRect().width});
document.body.appendChild(pre);
</script>
"""


@pytest.fixture
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium is missing, though .ci/run installs it (Debian package 'chromium')"
            )
        pytest.skip("needs Chromium: apt-get install chromium (.ci/run installs it in CI)")
    return found


def browser(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )


def measured_boxes(chromium: str, tmp_path: Path, timeline: Timeline) -> Iterator[tuple[str, dict]]:
    """For each view, the boxes of the page's labels and markers as Chromium lays them out."""
    page = tmp_path / "timeline.html"
    page.write_text(render_html(timeline).replace("</body>", _MEASURE + "</body>"))
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
        yield f"{window} at {scale}x", json.loads(found.group(1).replace("&amp;", "&"))


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def test_no_two_labels_or_markers_overlap_in_a_browser(chromium: str, tmp_path: Path):
    timeline = build_timeline(crowded_events(), "crowded")
    widths = []
    for view, measured in measured_boxes(chromium, tmp_path, timeline):
        boxes = measured["boxes"]
        assert sum(box["what"].startswith("marker") for box in boxes) > 10
        assert sum(box["what"].startswith("text ") for box in boxes) > 10
        clashes = [
            (a["what"], b["what"])
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if overlaps(a, b)
        ]
        assert clashes == [], f"at {view}"
        widths.append(measured["svgWidth"])
    assert widths[1] < widths[0]  # the narrow window did shrink the drawing


def test_the_page_renders_in_a_browser(chromium: str, tmp_path: Path):
    page = tmp_path / "timeline.html"
    page.write_text(render_html(build_timeline(crowded_events(), "crowded")))
    dom = browser(chromium, tmp_path, "--dump-dom", page.as_uri()).stdout
    assert dom.count('<g class="row"') == 4
    assert '<span class="status ok" id="group-status"' in dom
    screenshot = tmp_path / "timeline.png"
    browser(
        chromium, tmp_path, f"--screenshot={screenshot}", "--window-size=1400,900", page.as_uri()
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a blank page compresses to a few kB
