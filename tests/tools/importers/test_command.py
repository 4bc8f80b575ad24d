"""The `supervisor import` command line: the format told by the file's name or --format, the
output to stdout or -o (never over a file without --force), and a translation `check` refuses
failing loudly instead of being written."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from supervisor.tools.importers import command, writer
from tests.tools.importers.importing import FIXTURES, supervisor_import

PROCFILE = "web: sleep 1000\n"


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("supervisord.conf", "supervisord"),
        ("supervisord-prod.conf", "supervisord"),
        ("app.ini", "supervisord"),
        ("Procfile", "procfile"),
        ("Procfile.dev", "procfile"),
        ("docker-compose.yml", "compose"),
        ("compose.yaml", "compose"),
        ("docker-compose.override.yaml", "compose"),
        ("services.toml", None),
        ("app.conf", None),
    ],
)
def test_the_format_is_told_by_the_name(name, format) -> None:
    assert command.detect_format(Path(name)) == format


def test_a_name_that_tells_nothing_needs_format(tmp_path) -> None:
    source = tmp_path / "processes.txt"
    source.write_text(PROCFILE)
    refused = supervisor_import(source)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "cannot tell the format of" in refused.stderr and "give --format" in refused.stderr
    accepted = supervisor_import(source, "--format", "procfile")
    assert accepted.returncode == 0, accepted.stderr
    assert "[services.web]" in accepted.stdout


def test_an_existing_output_is_overwritten_only_with_force(tmp_path) -> None:
    source = tmp_path / "Procfile"
    source.write_text(PROCFILE)
    output = tmp_path / "services.toml"
    output.write_text("# mine\n")
    refused = supervisor_import(source, "-o", str(output))
    assert refused.returncode == 1
    assert f"{output} exists: give --force to overwrite it" in refused.stderr
    assert output.read_text() == "# mine\n"
    forced = supervisor_import(source, "-o", str(output), "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout == ""
    assert output.read_text() == supervisor_import(source).stdout  # the same, every time


def test_a_missing_input_is_an_error_with_its_name(tmp_path) -> None:
    result = supervisor_import(tmp_path / "supervisord.conf")
    assert result.returncode == 2
    assert f"{tmp_path / 'supervisord.conf'}: no such file" in result.stderr


def test_a_translation_check_refuses_is_not_written(tmp_path, monkeypatch, capsys) -> None:
    source = tmp_path / "Procfile"
    source.write_text(PROCFILE)
    output = tmp_path / "services.toml"
    render = writer.render
    monkeypatch.setattr(writer, "render", lambda t: render(t) + "stop_timeuot = 1\n")
    arguments = argparse.Namespace(file=source, output=output, format=None, force=False)
    assert command.run_import(arguments) == 1
    stderr = capsys.readouterr().err
    assert "the translation does not pass `check`" in stderr
    assert "services.web.restart.stop_timeuot: unknown key" in stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Procfile"]


def test_every_fixture_imports_the_same_twice(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IMPORT_GREETING", "hi")
    for source in (
        FIXTURES / "supervisord" / "supervisord.conf",
        FIXTURES / "procfile" / "Procfile",
        FIXTURES / "compose" / "docker-compose.yml",
    ):
        first, second = supervisor_import(source), supervisor_import(source)
        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout


def test_an_output_in_a_missing_folder_is_refused(tmp_path) -> None:
    source = tmp_path / "Procfile"
    source.write_text(PROCFILE)
    result = supervisor_import(source, "-o", str(tmp_path / "missing" / "services.toml"))
    assert result.returncode == 1
    assert f"supervisor: cannot write in {tmp_path / 'missing'}: No such file" in result.stderr
