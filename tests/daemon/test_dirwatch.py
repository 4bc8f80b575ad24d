"""The directory watch: the kernel's report of removals and replacements, and nothing else."""

from __future__ import annotations

import os
import select
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.daemon.dirwatch import DirectoryWatch


def reported(watch: DirectoryWatch) -> bool:
    """inotify queues an event before the system call that caused it returns: no waiting."""
    readable, _, _ = select.select([watch.fd], [], [], 0)
    watch.drain()
    return bool(readable)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, DirectoryWatch]]:
    directory = tmp_path / "state"
    directory.mkdir()
    (directory / "events.jsonl").write_text("")
    watch = DirectoryWatch.open(directory)
    yield directory, watch
    watch.close()


def test_writing_and_creating_are_not_reported(watched: tuple[Path, DirectoryWatch]):
    directory, watch = watched
    with (directory / "events.jsonl").open("a") as file:
        file.write("{}\n")
    (directory / "new").mkdir()
    assert not reported(watch)


def test_a_removed_entry_is_reported(watched: tuple[Path, DirectoryWatch]):
    directory, watch = watched
    (directory / "events.jsonl").unlink()
    assert reported(watch)


def test_an_entry_replaced_by_a_move_is_reported(watched: tuple[Path, DirectoryWatch]):
    directory, watch = watched
    other = directory.parent / "other.jsonl"
    other.write_text("")
    os.replace(other, directory / "events.jsonl")
    assert reported(watch)


def test_the_directory_removed_and_made_again_is_watched_again(
    watched: tuple[Path, DirectoryWatch],
):
    directory, watch = watched
    shutil.rmtree(directory)
    assert reported(watch)
    directory.mkdir()
    watch.rewatch()
    (directory / "lock").write_text("")
    (directory / "lock").unlink()
    assert reported(watch)


def test_a_directory_that_is_not_there_cannot_be_watched(tmp_path: Path):
    with pytest.raises(OSError):
        DirectoryWatch.open(tmp_path / "missing")
