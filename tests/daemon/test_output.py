"""The output pump against real processes, real pipes and real files."""

from __future__ import annotations

import fcntl
import io
import os
import re
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from supervisor.daemon.console import Console
from supervisor.daemon.output import (
    BUSY_PIPE_BYTES,
    MAX_LINE_BYTES,
    PUMP_NICENESS,
    READ_BYTES,
    OutputPump,
)
from supervisor.shared.logstamp import STAMP_BYTES
from tests.support.outputpump import TIMEOUT, python, run_to_end, started
from tests.support.waiting import wait_until

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ")
MakePump = Callable[..., OutputPump]


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "console-writer"]


def lines_of(path: Path) -> list[str]:
    """The lines of a log file without their timestamps, which every line must start with."""
    lines = path.read_text().splitlines()
    unstamped = [line for line in lines if not STAMP.match(line)]
    assert not unstamped, f"lines without a timestamp in {path}: {unstamped[:3]}"
    return [line[STAMP_BYTES:] for line in lines]


@pytest.fixture
def console_path(tmp_path: Path) -> Path:
    return tmp_path / "console.out"


@pytest.fixture
def make_pump(tmp_path: Path, console_path: Path) -> Iterator[MakePump]:
    """Started pumps whose console is a file, unless a test gives another; closed at teardown."""
    pumps: list[OutputPump] = []
    console_fd = os.open(console_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def make(
        console: Console = console_fd, max_bytes: int = 1 << 20, backups: int = 2, **options: Any
    ) -> OutputPump:
        pump = OutputPump(tmp_path / "logs", console, max_bytes, backups, **options)
        pump.start()
        pumps.append(pump)
        return pump

    yield make
    for pump in pumps:
        pump.close(timeout=1.0)
    os.close(console_fd)


def test_stdout_and_stderr_reach_the_log_file_and_the_console_under_the_padded_name(
    make_pump: MakePump, tmp_path: Path, console_path: Path
):
    pump = make_pump(names=["web", "cinder-volume@lvm-1"])
    script = "for i in 1 2 3; do echo line $i; done; echo oops >&2"
    assert run_to_end(pump, "web", ["sh", "-c", script]) == 0
    pump.close()

    assert sorted(lines_of(tmp_path / "logs" / "web.log")) == [
        "line 1",
        "line 2",
        "line 3",
        "oops",
    ]
    console = console_path.read_text().splitlines()
    assert sorted(console) == [
        "web                 | line 1",
        "web                 | line 2",
        "web                 | line 3",
        "web                 | oops",
    ]
    assert "\x1b[" not in console_path.read_text()  # a file is not a terminal: no colour


def test_an_unfinished_last_line_is_written_out_when_the_pipe_closes(
    make_pump: MakePump, tmp_path: Path, console_path: Path
):
    pump = make_pump()
    run_to_end(pump, "cinder-backup#2", ["printf", "first\\nno newline at the end"])
    pump.close()
    log = tmp_path / "logs" / "cinder-backup#2.log"
    assert lines_of(log) == ["first", "no newline at the end"]
    assert log.read_text().endswith("\n")
    assert console_path.read_text().endswith("cinder-backup#2 | no newline at the end\n")


def test_a_line_longer_than_the_limit_is_cut_into_lines(make_pump: MakePump, tmp_path: Path):
    pump = make_pump()
    size = 3 * MAX_LINE_BYTES
    run_to_end(pump, "web", python(f"import sys; sys.stdout.write('x' * {size})"))
    pump.close()
    lines = lines_of(tmp_path / "logs" / "web.log")
    assert len(lines) > 1
    assert all(len(line) <= MAX_LINE_BYTES for line in lines)
    assert "".join(lines) == "x" * size


def test_megabytes_written_quickly_arrive_whole_and_in_order(make_pump: MakePump, tmp_path: Path):
    pump = make_pump(max_bytes=64 << 20)
    count = 200_000  # about 6 MB
    code = f"for i in range({count}): print(f'line {{i:08d}} ' + 'y' * 16)"
    assert run_to_end(pump, "flood", python(code)) == 0
    pump.close()
    lines = lines_of(tmp_path / "logs" / "flood.log")
    assert lines == [f"line {i:08d} " + "y" * 16 for i in range(count)]


def test_a_pipe_found_full_is_widened_and_a_quiet_one_keeps_its_size(
    make_pump: MakePump, tmp_path: Path
):
    pump = make_pump(max_bytes=64 << 20)
    # One write far larger than the pipe: the kernel fills the pipe before the pump may read it.
    code = "import os\nos.write(1, (b'b' * 4095 + b'\\n') * 100)"
    with pump.attach("busy") as pipes:
        # The test's own copies of the write ends, to ask the pipes' sizes afterwards.
        busy, quiet = os.dup(pipes.stdout), os.dup(pipes.stderr)
        process = subprocess.Popen(python(code), stdout=pipes.stdout, stderr=pipes.stderr)
    try:
        assert process.wait(TIMEOUT) == 0
        log = tmp_path / "logs" / "busy.log"
        wait_until(lambda: log.exists() and len(lines_of(log)) == 100, "every line", TIMEOUT)
        assert fcntl.fcntl(busy, fcntl.F_GETPIPE_SZ) == BUSY_PIPE_BYTES
        assert fcntl.fcntl(quiet, fcntl.F_GETPIPE_SZ) == READ_BYTES
    finally:
        os.close(busy)
        os.close(quiet)


def test_the_pump_thread_alone_runs_at_the_lowest_priority(make_pump: MakePump):
    make_pump()

    def niceness(thread_id: int) -> int:
        stat = Path(f"/proc/self/task/{thread_id}/stat").read_text()
        return int(stat.rpartition(")")[2].split()[16])  # field 19 of proc(5): nice

    pump_thread = wait_until(
        lambda: next((t for t in threading.enumerate() if t.name == "output-pump"), None),
        "the pump's thread",
    )
    assert pump_thread.native_id is not None
    wait_until(lambda: niceness(pump_thread.native_id) == PUMP_NICENESS, "the pump's niceness")
    assert niceness(threading.get_native_id()) == os.getpriority(os.PRIO_PROCESS, 0)


def test_a_dev_null_console_gets_no_writer_and_the_log_file_every_line(
    make_pump: MakePump, tmp_path: Path
):
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        pump = make_pump(console=null)
        assert run_to_end(pump, "web", ["sh", "-c", "echo one; echo two >&2"]) == 0
        assert not writer_threads()
        pump.close()
        assert sorted(lines_of(tmp_path / "logs" / "web.log")) == ["one", "two"]
    finally:
        os.close(null)


def test_rotation_keeps_exactly_the_backups_and_cuts_only_between_lines(
    make_pump: MakePump, tmp_path: Path
):
    pump = make_pump(max_bytes=1000, backups=2)
    # 200 lines of 40 bytes, 70 with their timestamps: 14 fill a file, 4 are left for the last
    code = "for i in range(200): print(f'line {i:03d} ' + 'z' * 30)"
    run_to_end(pump, "cinder-volume@lvm-1", python(code))
    pump.close()

    logs = tmp_path / "logs"
    assert sorted(path.name for path in logs.iterdir()) == [
        "cinder-volume@lvm-1.log",
        "cinder-volume@lvm-1.log.1",
        "cinder-volume@lvm-1.log.2",
    ]
    oldest_first = [logs / f"cinder-volume@lvm-1.log.{n}" for n in (2, 1)]
    oldest_first.append(logs / "cinder-volume@lvm-1.log")
    assert all(path.stat().st_size <= 1000 for path in oldest_first)
    assert all(path.read_bytes().endswith(b"\n") for path in oldest_first)
    # The newest files hold the newest lines, in order, with no gap and no torn line.
    kept = [line for path in oldest_first for line in lines_of(path)]
    assert kept == [f"line {i:03d} " + "z" * 30 for i in range(200 - 14 - 14 - 4, 200)]


def test_a_process_can_have_its_own_rotation_settings(make_pump: MakePump, tmp_path: Path):
    pump = make_pump(max_bytes=1 << 20, backups=5)
    code = "for i in range(100): print(f'{i:09d}')"  # 1000 bytes
    run_to_end(pump, "small", python(code), max_bytes=300, backups=0)
    run_to_end(pump, "large", python(code))
    pump.close()
    logs = tmp_path / "logs"
    assert sorted(path.name for path in logs.iterdir()) == ["large.log", "small.log"]
    # 7 lines of 40 bytes (with their timestamps) per file and no backups: only the last, short
    # file is left, with the last 100 - 14 * 7 lines.
    assert lines_of(logs / "small.log") == [f"{i:09d}" for i in range(98, 100)]
    assert len(lines_of(logs / "large.log")) == 100


def test_a_restart_appends_to_the_same_file(make_pump: MakePump, tmp_path: Path):
    pump = make_pump()
    run_to_end(pump, "web", ["echo", "first run"])
    run_to_end(pump, "web", ["echo", "second run"])
    pump.close()
    assert lines_of(tmp_path / "logs" / "web.log") == ["first run", "second run"]


def test_a_quiet_process_is_heard_while_another_floods(make_pump: MakePump, tmp_path: Path):
    pump = make_pump(max_bytes=1 << 20, backups=1)
    with started(pump, "flood", ["yes", "a line of a service that never stops talking"]):
        wait_until(
            lambda: (tmp_path / "logs" / "flood.log.1").exists(), "the flood to rotate", TIMEOUT
        )
        run_to_end(pump, "quiet", ["echo", "still here"])
        quiet = tmp_path / "logs" / "quiet.log"
        wait_until(
            lambda: quiet.exists() and lines_of(quiet) == ["still here"], "quiet.log", TIMEOUT
        )


def test_a_console_nobody_reads_never_holds_up_the_log_files(make_pump: MakePump, tmp_path: Path):
    console_read, console_write = os.pipe()
    try:
        pump = make_pump(console=console_write, max_bytes=64 << 20)
        count = 100_000  # about 4 MB: far more than the pipe and the console's buffer hold
        code = f"for i in range({count}): print(f'{{i:08d}}' + 'w' * 31)"
        with started(pump, "chatty", python(code)):
            log = tmp_path / "logs" / "chatty.log"
            last = f"{count - 1:08d}" + "w" * 31 + "\n"
            wait_until(
                lambda: log.exists() and log.read_text().endswith(last), "the last line", TIMEOUT
            )

        began = time.monotonic()
        pump.close(timeout=0.5)
        assert time.monotonic() - began < 5.0
        assert len(lines_of(log)) == count

        # Once someone reads the console again, it shows what it kept and how much it dropped.
        shown = bytearray()
        deadline = time.monotonic() + TIMEOUT

        def read_console() -> bool:
            if select.select([console_read], [], [], 0.1)[0]:
                shown.extend(os.read(console_read, 1 << 20))
            return b"bytes of output dropped" in shown or time.monotonic() > deadline

        wait_until(read_console, "the drop marker", TIMEOUT)
        assert b"bytes of output dropped" in shown
        # The writer must be done with the pipe before the test closes it.
        wait_until(lambda: not writer_threads(), "the console writer to finish", TIMEOUT)
    finally:
        os.close(console_read)
        os.close(console_write)


def test_close_stops_waiting_for_a_pipe_a_grandchild_still_holds(
    make_pump: MakePump, tmp_path: Path
):
    pump = make_pump()
    with started(pump, "parent", ["sh", "-c", "sleep 60 & echo started"]) as process:
        try:
            process.wait(TIMEOUT)
            began = time.monotonic()
            pump.close(timeout=0.5)
            assert time.monotonic() - began < 5.0
            assert lines_of(tmp_path / "logs" / "parent.log") == ["started"]
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the sleep is still in the group


def test_the_parents_copies_of_the_pipes_are_closed_even_when_the_spawn_fails(
    make_pump: MakePump,
):
    pump = make_pump()
    with pytest.raises(FileNotFoundError), pump.attach("missing") as pipes:
        subprocess.Popen(["/nonexistent/program"], stdout=pipes.stdout, stderr=pipes.stderr)
    # Were a write end still open here, close would wait its whole timeout for end-of-file.
    began = time.monotonic()
    pump.close(timeout=30.0)
    assert time.monotonic() - began < 10.0


def test_prefixes_are_coloured_on_a_terminal(make_pump: MakePump, tmp_path: Path):
    controller, terminal = os.openpty()
    try:
        pump = make_pump(console=terminal)
        run_to_end(pump, "web", ["echo", "hello"])
        pump.close()
        shown = bytearray()

        def read_terminal() -> bool:
            if select.select([controller], [], [], 0.1)[0]:
                shown.extend(os.read(controller, 4096))
            return b"hello" in shown

        wait_until(read_terminal, "the line on the terminal", TIMEOUT)
        assert shown.startswith(b"\x1b[36mweb |\x1b[0m hello")
    finally:
        os.close(controller)
        os.close(terminal)


def test_a_text_console_without_a_file_descriptor_gets_the_lines(make_pump: MakePump):
    console = io.StringIO()
    pump = make_pump(console=console)
    run_to_end(pump, "web", ["echo", "hello"])
    pump.close()
    assert console.getvalue() == "web | hello\n"


def test_a_log_file_that_cannot_be_written_is_reported_and_the_console_still_shows_the_lines(
    make_pump: MakePump, tmp_path: Path, console_path: Path
):
    (tmp_path / "logs" / "web.log").mkdir(parents=True)
    pump = make_pump()
    run_to_end(pump, "web", ["sh", "-c", "echo one; echo two"])
    pump.close()
    console = console_path.read_text().splitlines()
    assert console[0].startswith(f"[supervisor: cannot write {tmp_path / 'logs' / 'web.log'}: ")
    assert console[1:] == ["web | one", "web | two"]


def test_attach_refuses_what_it_cannot_use_and_a_closed_pump(make_pump: MakePump, tmp_path: Path):
    with pytest.raises(ValueError):
        OutputPump(tmp_path / "logs", io.StringIO(), max_bytes=0, backups=1)
    pump = make_pump()
    for name in ("", "..", "a/b"):
        with pytest.raises(ValueError):
            pump.attach(name)
    with pytest.raises(ValueError):
        pump.attach("web", backups=-1)
    pump.close()
    with pytest.raises(RuntimeError):
        pump.attach("web")
