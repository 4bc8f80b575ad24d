"""Where a file's supervisor lives: what a client command reads of the file, and nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor.config import ConfigError, location, state_dir_of
from supervisor.config.location import Search, find_services_file


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


# -- which file, when none is named -------------------------------------------------------------


def test_the_nearest_services_file_in_this_directory_or_a_parent_is_found(tmp_path: Path):
    project = written(tmp_path, "")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_services_file(deep) == Search(project, deep)
    assert find_services_file(tmp_path).found == project
    nested = written(tmp_path / "a", "")  # a nearer one wins, as a nested git repository does
    assert find_services_file(deep).found == nested


def test_a_search_that_finds_nothing_says_where_it_looked(tmp_path: Path, monkeypatch):
    # A file of that name somewhere above tmp_path would be found: pretend tmp_path is a mount.
    real_device = location._device
    monkeypatch.setattr(
        location, "_device", lambda d: -1 if d == tmp_path.parent else real_device(d)
    )
    deep = tmp_path / "x"
    deep.mkdir()
    search = find_services_file(deep)
    assert search == Search(None, deep, tmp_path)
    assert search.not_found() == (
        f"no services.toml in {deep} or any parent directory up to the mount point {tmp_path};"
        " give one with -c FILE or $SUPERVISOR_CONFIG"
    )


def test_the_search_stops_at_a_real_mount_point_and_at_the_root():
    # /proc is a filesystem of its own, and holds no services.toml.
    assert find_services_file(Path("/proc/self")) == Search(None, Path("/proc/self"), Path("/proc"))
    if not Path("/services.toml").exists():
        assert find_services_file(Path("/")) == Search(None, Path("/"))


def test_a_services_file_that_cannot_be_read_is_still_the_one_found(tmp_path: Path):
    (tmp_path / "services.toml").symlink_to(tmp_path / "gone.toml")
    assert find_services_file(tmp_path).found == tmp_path / "services.toml"
