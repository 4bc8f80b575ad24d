"""Where a file's supervisor lives: what a client command reads of the file, and nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor.config import ConfigError, state_dir_of


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.toml"
    path.write_text(text)
    return path


def test_the_supervisor_table_is_read_on_its_own(tmp_path: Path):
    # The rest of the file is not judged: a client of a running stack still finds it.
    path = written(tmp_path, '[supervisor]\nstate_dir = "run"\n[services.a]\ncommand = \n')
    assert state_dir_of(path) == tmp_path / "run"


def test_a_table_cut_short_by_a_line_like_a_table_header_is_read_from_the_whole_file(
    tmp_path: Path,
):
    # `  [1, 2],` opens like a table: the table alone does not parse, the whole file does.
    path = written(tmp_path, '[supervisor]\nlog = [\n  [1, 2],\n]\nstate_dir = "run"\n')
    assert state_dir_of(path) == tmp_path / "run"
    path = written(tmp_path, "[supervisor]\nlog = [\n  [1, 2],\n\n[services.a]\n")
    with pytest.raises(ConfigError):  # and then the whole file's error is the answer
        state_dir_of(path)


def test_a_state_dir_given_without_a_supervisor_table(tmp_path: Path):
    path = written(tmp_path, 'supervisor.state_dir = "dotted"\n[services.a]\ncommand = "x"\n')
    assert state_dir_of(path) == tmp_path / "dotted"
    path = written(tmp_path, 'supervisor = { state_dir = "inline" }\n')
    assert state_dir_of(path) == tmp_path / "inline"
    path = written(tmp_path, '[services.a]\ncommand = "x"\n')
    assert state_dir_of(path) == tmp_path / ".supervisor"


def test_a_supervisor_header_inside_a_string_is_not_taken_for_the_table(tmp_path: Path):
    text = '[services.a]\ncommand = """\n[supervisor]\nstate_dir = "evil"\n"""\n'
    path = written(tmp_path, text)
    assert state_dir_of(path) == tmp_path / ".supervisor"
