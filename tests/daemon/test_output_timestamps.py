"""The timestamp at the start of every line of a log file, against real processes and pipes."""

from __future__ import annotations

import io
import itertools
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supervisor.daemon.output import OutputPump
from supervisor.shared.logstamp import STAMP_BYTES, Stamper, stamp_time
from tests.support.outputpump import python, run_to_end

STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d) ")


def started_pump(tmp_path: Path, clock: Callable[[], float] = time.time) -> OutputPump:
    pump = OutputPump(tmp_path / "logs", io.StringIO(), clock=clock)
    pump.start()
    return pump


@pytest.fixture
def time_zone() -> Iterator[None]:
    """Lets a test set TZ; the process's own time zone comes back afterwards."""
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_every_line_of_both_streams_starts_with_the_time_it_was_read(
    tmp_path: Path,
):
    pump = started_pump(tmp_path)
    began = time.time()
    code = (
        "import sys\n"
        "for i in range(500):\n"
        "    print(f'out {i}', flush=True)\n"
        "    print(f'err {i}', file=sys.stderr, flush=True)"
    )
    assert run_to_end(pump, "web", python(code)) == 0
    pump.close()
    ended = time.time()

    lines = (tmp_path / "logs" / "web.log").read_text().splitlines()
    assert len(lines) == 1000
    stamps = []
    for line in lines:
        match = STAMP.match(line)
        assert match, f"no timestamp: {line!r}"
        stamps.append(stamp_time(line))
    # Milliseconds are cut, not rounded: a stamp may be up to 1 ms before the first read.
    assert all(began - 0.001 <= stamp <= ended for stamp in stamps)
    out = [line[STAMP_BYTES:] for line in lines if line[STAMP_BYTES:].startswith("out")]
    assert out == [f"out {i}" for i in range(500)]


def test_one_timestamp_is_made_per_read_not_per_line(tmp_path: Path):
    # A clock that moves on at every look: lines stamped one by one would all differ.
    ticks = itertools.count()
    pump = started_pump(tmp_path, clock=lambda: 1_800_000_000 + next(ticks) / 1000)
    code = "import os\nos.write(1, b''.join(b'line %04d\\n' % i for i in range(1000)))"
    assert run_to_end(pump, "web", python(code)) == 0
    pump.close()

    lines = (tmp_path / "logs" / "web.log").read_text().splitlines()
    assert [line[STAMP_BYTES:] for line in lines] == [f"line {i:04d}" for i in range(1000)]
    # 10 KB written at once reaches the pump in a read or a few, never one per line.
    assert len({line[:STAMP_BYTES] for line in lines}) <= 10


def test_a_line_continued_across_reads_is_stamped_once_when_it_ends(
    tmp_path: Path,
):
    pump = started_pump(tmp_path)
    code = (
        "import os, time\n"
        "os.write(1, b'start of a line, ')\n"
        "time.sleep(0.05)\n"  # the pump reads the first part alone, and keeps it
        "os.write(1, b'its end\\nand another\\n')"
    )
    assert run_to_end(pump, "web", python(code)) == 0
    pump.close()
    lines = (tmp_path / "logs" / "web.log").read_text().splitlines()
    assert [line[STAMP_BYTES:] for line in lines] == ["start of a line, its end", "and another"]
    assert all(STAMP.match(line) for line in lines)


@pytest.mark.usefixtures("time_zone")
@pytest.mark.parametrize(
    ("tz", "offset"), [("UTC0", "+00:00"), ("IST-5:30", "+05:30"), ("NST3:30", "-03:30")]
)
def test_the_stamp_is_local_time_with_its_offset_and_reads_back_as_the_same_instant(
    tz: str, offset: str
):
    os.environ["TZ"] = tz
    time.tzset()
    moment = 1_796_115_977.25
    stamp = Stamper(lambda: moment).stamp().decode()
    assert len(stamp) == STAMP_BYTES
    assert stamp.endswith(f".250{offset} ")
    assert stamp_time(stamp + "a line") == moment


@pytest.mark.parametrize(
    "line", ["", "no stamp here", "2026-12-01T09:03:57.123+01:0 short", "2026-12-01 09:03 x"]
)
def test_a_line_without_a_stamp_has_no_time(line: str):
    assert stamp_time(line) is None


def test_without_timestamps_the_lines_reach_the_file_as_written(tmp_path: Path):
    pump = OutputPump(tmp_path / "logs", io.StringIO(), timestamps=False)
    pump.start()
    code = (
        "import os, sys, time\n"
        "os.write(1, b'start of a line, ')\n"
        "time.sleep(0.05)\n"  # the pump reads the first part alone, and keeps it
        "os.write(1, b'its end\\nand another\\n')\n"
        "os.write(2, b'to stderr\\n')\n"
        "os.write(1, b''.join(b'line %04d\\n' % i for i in range(1000)))"
    )
    assert run_to_end(pump, "web", python(code)) == 0
    pump.close()
    lines = (tmp_path / "logs" / "web.log").read_text().splitlines()
    assert lines[:2] == ["start of a line, its end", "and another"]
    assert sorted(lines[2:]) == sorted(["to stderr"] + [f"line {i:04d}" for i in range(1000)])
    assert [line for line in lines if line.startswith("line")] == [
        f"line {i:04d}" for i in range(1000)
    ]
