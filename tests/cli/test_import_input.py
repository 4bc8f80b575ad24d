"""`supervisor import FILE` with a FILE that cannot be imported at all: one line naming it and
why, exit 2, with or without --format, before the format is even looked at."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.importers.importing import supervisor_import

USAGE = 2
FORMATS = ((), ("--format", "supervisord"), ("--format", "procfile"), ("--format", "compose"))


def assert_refused(source: Path, format: tuple[str, ...], why: str) -> None:
    result = supervisor_import(source, *format)
    assert result.returncode == USAGE, (format, result.stderr)
    assert result.stderr == f"supervisor: {source}: {why}\n", format
    assert result.stdout == ""
    assert "Errno" not in result.stderr


@pytest.mark.parametrize("format", FORMATS)
def test_a_missing_file_is_no_such_file(tmp_path: Path, format: tuple[str, ...]):
    assert_refused(tmp_path / "nope.conf", format, "no such file")
    assert_refused(tmp_path / "supervisord.conf", format, "no such file")
    dangling = tmp_path / "Procfile"
    dangling.symlink_to(tmp_path / "gone")
    assert_refused(dangling, format, "no such file")


@pytest.mark.parametrize("format", FORMATS)
def test_a_directory_is_not_a_file(tmp_path: Path, format: tuple[str, ...]):
    folder = tmp_path / "docker-compose.yml"
    folder.mkdir()
    assert_refused(folder, format, "is a directory, not a file")


@pytest.mark.parametrize("format", FORMATS)
def test_an_empty_file_has_nothing_to_import(tmp_path: Path, format: tuple[str, ...]):
    empty = tmp_path / "supervisord.conf"
    empty.write_text("")
    assert_refused(empty, format, "the file is empty: nothing to import")
    empty.write_text("\n  \n")
    assert_refused(empty, format, "the file is empty: nothing to import")


@pytest.fixture
def socket_file(tmp_path: Path) -> Iterator[Path]:
    """A file no one can open for reading, root included: a listening socket's."""
    path = tmp_path / "Procfile"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        yield path


@pytest.mark.parametrize("format", FORMATS)
def test_a_file_that_cannot_be_opened_says_why(socket_file: Path, format: tuple[str, ...]):
    assert_refused(socket_file, format, "cannot read: no such device or address")


def test_a_file_without_read_permission_says_so(tmp_path: Path):
    locked = tmp_path / "Procfile"
    locked.write_text("web: sleep 1000\n")
    locked.chmod(0)
    # Root reads a file of mode 000 through CAP_DAC_OVERRIDE: the import runs without it (and
    # without CAP_DAC_READ_SEARCH), as an ordinary user would.
    without_override = (
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    )
    result = subprocess.run(
        [*without_override, sys.executable, "-m", "supervisor", "import", str(locked)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == USAGE, result.stderr
    assert result.stderr == f"supervisor: {locked}: cannot read: permission denied\n"
