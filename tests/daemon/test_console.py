"""The console writer against real pipes, files and /dev/null."""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.daemon.console import ConsoleWriter, is_null_device, prefixed
from tests.support.waiting import wait_until


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "console-writer"]


@pytest.fixture
def console_pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def test_only_dev_null_is_a_null_device(tmp_path: Path, console_pipe: tuple[int, int]):
    null = os.open(os.devnull, os.O_WRONLY)
    file = os.open(tmp_path / "console.out", os.O_WRONLY | os.O_CREAT)
    try:
        assert is_null_device(null)
        assert not is_null_device(file)
        assert not is_null_device(console_pipe[1])
    finally:
        os.close(null)
        os.close(file)


def test_a_dev_null_console_starts_no_thread_and_queues_nothing():
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        writer = ConsoleWriter(null)
        writer.start()
        assert writer.discards
        assert not writer_threads()
        writer.write(b"nobody sees this\n")
        writer.close(timeout=1.0)
    finally:
        os.close(null)


def test_more_pieces_than_one_writev_takes_arrive_whole_and_in_order(
    console_pipe: tuple[int, int],
):
    # Far more than a pipe holds, in more pieces than IOV_MAX: the writer meets short writes
    # and cuts its batches, and a reader that takes its time still gets every byte in order.
    read_end, write_end = console_pipe
    writer = ConsoleWriter(write_end, buffer_bytes=64 << 20)
    expected = bytearray()
    for number in range(5000):
        line = b"%05d " % number + b"z" * 200 + b"\n"
        view = memoryview(line)
        writer.write(view[:3], view[3:])
        expected += line
    writer.start()
    received = bytearray()

    def read_some() -> bool:
        if select.select([read_end], [], [], 0.1)[0]:
            received.extend(os.read(read_end, 4096))
        return len(received) >= len(expected)

    wait_until(read_some, "every byte on the console")
    writer.close(timeout=5.0)
    assert received == expected


def test_prefixed_pieces_join_into_the_lines_with_the_unfinished_ends_left_out():
    data = b"end of an earlier line\nsecond\nstart of the next"
    pieces = prefixed(b"web | ", data, head=b"the ", tail=len(b"start of the next"))
    assert b"".join(pieces) == b"web | the end of an earlier line\nweb | second\n"
    assert b"".join(prefixed(b"> ", b"one\ntwo\n")) == b"> one\n> two\n"
