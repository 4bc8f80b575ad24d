"""`supervisor import` of a Procfile: each process type a service run through /bin/sh in the
Procfile's folder, PORT as honcho and foreman give it, the .env beside it read."""

from __future__ import annotations

import signal

from tests.support.stackcli import cli, status_of
from tests.tools.importers.importing import (
    assert_refused,
    comments,
    services_of,
    supervisor_import,
)


def test_a_procfile_is_imported_checked_and_run(fixture_copy, ready_import) -> None:
    folder = fixture_copy("procfile")
    config = folder / "services.toml"
    result = supervisor_import(folder / "Procfile", "-o", str(config))
    assert result.returncode == 0, result.stderr
    assert cli(config, "check").returncode == 0

    stack = ready_import(config)
    assert {name: row["state"] for name, row in status_of(config).items()} == {
        "web": "running",
        "worker": "running",
        "clock": "running",
    }
    # PORT: 5000 for the first process type, 100 more for each next; GREETING from .env.
    for made in ("port-web-5000", "greeting-hello"):
        stack.wait_until((folder / made).exists, 30, f"{made} in {folder}")
    stack.signal(signal.SIGTERM)
    assert stack.wait_exit(timeout=60) == 0


def test_what_each_process_type_becomes(fixture_copy) -> None:
    folder = fixture_copy("procfile")
    result = supervisor_import(folder / "Procfile")  # to stdout, paths relative to its folder
    assert result.returncode == 0, result.stderr
    config = folder / "services.toml"
    config.write_text(result.stdout)
    services = services_of(config)
    assert list(services) == ["web", "worker", "clock"]
    assert services["clock"] == {
        "command": ["/bin/sh", "-c", "sleep 1000"],
        "directory": ".",
        "port": 5200,
        "env": {"PORT": "{port}"},
        "stop_timeout": 5.0,
        "critical": True,
        "restart": {"policy": "never"},
    }
    assert 'env_file = ".env"' in result.stdout
    assert "a clean exit leaves the others running" in comments(result.stdout)


def test_a_line_that_is_no_process_type_names_its_line(tmp_path) -> None:
    source = tmp_path / "Procfile"
    source.write_text("web: sleep 1\n\nthis is not a process\n")
    assert_refused(source, f"{source}:3: 'this is not a process': expected 'name: command'")


def test_a_process_type_defined_twice_is_refused(tmp_path) -> None:
    source = tmp_path / "Procfile.dev"
    source.write_text("web: sleep 1\nweb: sleep 2\n")
    assert_refused(source, f"{source}:2: web: the process type web is defined twice (line 1 too)")


def test_a_dotenv_services_toml_reads_differently_is_not_imported(tmp_path) -> None:
    (tmp_path / "Procfile").write_text("web: sleep 1000\n")
    (tmp_path / ".env").write_text("GOOD=1\nthis is no assignment\n")
    result = supervisor_import(tmp_path / "Procfile")
    assert result.returncode == 0, result.stderr
    assert "env_file" not in result.stdout
    assert f".env = '{tmp_path / '.env'}': not imported: services.toml reads env files" in (
        result.stderr
    )
