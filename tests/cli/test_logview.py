"""Reading log files: the last lines from the end, and following across rotations and restarts."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.cli.logfollow import follow, tail_lines
from supervisor.daemon.logfile import RotatingLog
from supervisor.daemon.output import OutputPump
from supervisor.shared.logstamp import STAMP_BYTES
from tests.support.outputpump import TIMEOUT, python, run_to_end
from tests.support.waiting import wait_until

POLL = 0.01


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Set at teardown, or by the deadline, so that no follower can wait forever."""
    event = threading.Event()
    deadline = threading.Timer(TIMEOUT, event.set)
    deadline.start()
    yield event
    deadline.cancel()
    event.set()


def bytes_read_by_this_process() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_tail_lines_reads_a_big_file_from_its_end(tmp_path: Path):
    path = tmp_path / "big.log"
    with path.open("wb") as file:
        file.truncate(1 << 30)  # a 1 GiB hole: reading it all would be slow and show in rchar
        file.seek(0, os.SEEK_END)
        file.write(b"".join(f"line {i}\n".encode() for i in range(100_000)))
    before = bytes_read_by_this_process()
    assert tail_lines(path, 3) == ["line 99997", "line 99998", "line 99999"]
    assert bytes_read_by_this_process() - before < 1 << 20


@pytest.mark.parametrize(
    ("content", "n", "expected"),
    [
        (b"a\nb\nc\n", 2, ["b", "c"]),
        (b"a\nb\nc\n", 10, ["a", "b", "c"]),
        (b"a\nb\nno newline", 2, ["b", "no newline"]),
        (b"a\n\n\nb\n", 3, ["", "", "b"]),
        (b"", 5, []),
        (b"a\n", 0, []),
        ("caf\u00e9 \u2713\n".encode(), 1, ["caf\u00e9 \u2713"]),
    ],
)
def test_tail_lines_counts_lines_not_bytes(
    tmp_path: Path, content: bytes, n: int, expected: list[str]
):
    path = tmp_path / "x.log"
    path.write_bytes(content)
    assert tail_lines(path, n) == expected


def test_follow_gives_the_last_lines_then_whole_new_lines_as_they_come(
    tmp_path: Path, stop: threading.Event
):
    path = tmp_path / "web.log"
    path.write_bytes(b"old 1\nold 2\nold 3\n")
    lines = follow(path, last=2, stop=stop, interval=POLL)
    assert [next(lines), next(lines)] == ["old 2", "old 3"]
    with path.open("ab") as file:
        file.write(b"new 1\nnew ")
        file.flush()
        assert next(lines) == "new 1"
        file.write(b"2\n")
    assert next(lines) == "new 2"


def test_follow_reads_the_old_file_to_its_end_across_a_rotation(
    tmp_path: Path, stop: threading.Event
):
    path = tmp_path / "web.log"
    log = RotatingLog(path, max_bytes=100, backups=1)
    log.write(b"before\n")
    lines = follow(path, last=1, stop=stop, interval=POLL)
    assert next(lines) == "before"
    # Written in one go after the follower's last look: the first part fills the old file,
    # which is then renamed, and the rest starts the new one.
    batch = [f"b{i:08d}" for i in range(15)]
    log.write("".join(f"{line}\n" for line in batch).encode())
    assert (tmp_path / "web.log.1").exists()
    assert [next(lines) for _ in batch] == batch
    log.write(b"after\n")
    assert next(lines) == "after"
    log.close()


def test_follow_starts_again_from_the_top_of_a_truncated_file(
    tmp_path: Path, stop: threading.Event
):
    path = tmp_path / "web.log"
    path.write_bytes(b"a long first line\n")
    lines = follow(path, last=1, stop=stop, interval=POLL)
    assert next(lines) == "a long first line"
    path.write_bytes(b"short\n")  # truncates in place, as copy-and-truncate rotation does
    assert next(lines) == "short"


def test_follow_waits_for_the_file_and_reads_it_from_its_start(
    tmp_path: Path, stop: threading.Event
):
    path = tmp_path / "later.log"
    lines = follow(path, last=5, stop=stop, interval=POLL)
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.extend(lines))
    reader.start()
    try:
        path.write_bytes(b"first\nsecond\n")
        wait_until(lambda: found == ["first", "second"], "both lines", TIMEOUT)
    finally:
        stop.set()
        reader.join(TIMEOUT)
    assert not reader.is_alive()


def test_setting_stop_ends_a_follower_that_waits(tmp_path: Path):
    stop = threading.Event()
    missing = follow(tmp_path / "missing.log", stop=stop, interval=60.0)
    (tmp_path / "idle.log").write_bytes(b"only line\n")
    idle = follow(tmp_path / "idle.log", last=1, stop=stop, interval=60.0)
    assert next(idle) == "only line"
    threading.Timer(0.05, stop.set).start()
    assert list(missing) == []  # ends long before the 60 s interval
    assert list(idle) == []


def test_follow_sees_every_line_across_a_rotation_and_a_restart(
    tmp_path: Path, stop: threading.Event
):
    pump = OutputPump(tmp_path / "logs", io.StringIO(), max_bytes=8192, backups=3)
    pump.start()
    found: list[str] = []
    lines = follow(tmp_path / "logs" / "web.log", stop=stop, interval=POLL)
    reader = threading.Thread(target=lambda: found.extend(lines))
    reader.start()
    try:
        # Two runs of 6000 bytes each (with timestamps): the second crosses the 8192-byte limit.
        for run in (1, 2):
            code = f"for i in range(100): print(f'run {run} line {{i:03d}} ' + 'x' * 14)"
            assert run_to_end(pump, "web", python(code)) == 0
        expected = [f"run {run} line {i:03d} " + "x" * 14 for run in (1, 2) for i in range(100)]
        wait_until(lambda: len(found) >= len(expected), "every line", TIMEOUT)
        assert [line[STAMP_BYTES:] for line in found] == expected
        assert (tmp_path / "logs" / "web.log.1").exists()
    finally:
        stop.set()
        reader.join(TIMEOUT)
        pump.close()
