"""`supervisor import` of a compose file: the services that run a command, on the host;
healthchecks become readiness probes, depends_on conditions this project's dependencies."""

from __future__ import annotations

import signal

from tests.support.stackcli import cli, status_of
from tests.tools.importers.importing import (
    assert_refused,
    comments,
    services_of,
    supervisor_import,
)


def _imported(fixture_copy, monkeypatch):
    monkeypatch.setenv("IMPORT_GREETING", "hi")
    folder = fixture_copy("compose")
    config = folder / "services.toml"
    result = supervisor_import(folder / "docker-compose.yml", "-o", str(config))
    assert result.returncode == 0, result.stderr
    return config, result.stderr


def test_a_compose_file_is_imported_checked_and_run(fixture_copy, ready_import, monkeypatch):
    config, _ = _imported(fixture_copy, monkeypatch)
    assert cli(config, "check").returncode == 0

    stack = ready_import(config)
    states = {name: row["state"] for name, row in status_of(config).items()}
    assert states == {"migrate": "exited", "db": "running", "api": "running", "worker": "running"}
    # The api waited for db's healthcheck and for migrate's success.
    ready = {e["unit"]: e["timestamp"] for e in stack.select(event="state", to="running")}
    completed = stack.select(event="state", unit="migrate", to="exited")[0]["timestamp"]
    started = stack.select(event="state", unit="api", to="starting")[0]["timestamp"]
    assert ready["db"] <= started and completed <= started
    log = config.parent / ".supervisor" / "logs" / "api.log"
    stack.wait_until(lambda: log.exists() and "api for hi /bin/sh" in log.read_text(), 30, "api")
    stack.signal(signal.SIGTERM)
    assert stack.wait_exit(timeout=60) == 0


def test_what_each_service_becomes(fixture_copy, monkeypatch) -> None:
    config, stderr = _imported(fixture_copy, monkeypatch)
    services = services_of(config)
    assert "redis" not in services
    api, db = services["api"], services["db"]
    assert api["command"] == [
        "/bin/sh",
        "-c",
        "echo api for ${IMPORT_GREETING:-nobody} $0; exec sleep 1000",
    ]
    assert api["env"] == {"SHOP_MODE": "production", "DEBUG": "false"}
    assert (api["env_file"], api["directory"]) == ("api.env", ".")
    assert (api["stop_signal"], api["depends_on"]) == ("INT", ["db", "migrate"])
    assert api["restart"]["policy"] == "on-failure"
    assert api["restart"]["start_limit"]["burst"] == 3
    assert api["readiness"]["exec"] == ["/bin/sh", "-c", 'test -n "$SHOP_MODE"']
    assert db["readiness"] == {
        "exec": ["test", "-e", "db-ready"],
        "period": 0.1,
        "timeout": 5.0,
        "initial_delay": 0.0,
        "failure_threshold": 50,
    }
    assert db["stop_timeout"] == 5.0
    assert services["migrate"]["oneshot"] is True  # api waits for it to complete successfully
    assert services["worker"]["restart"]["policy"] == "always"  # unless-stopped
    assert services["worker"]["env"] == {"QUEUE": "default", "HOME": "${HOME:-}"}
    compose = config.parent / "docker-compose.yml"
    for expected in (
        f"{compose}:2: services.redis: not imported: it has no command or entrypoint",
        f"{compose}:34: services.api.ports = ['8000:8000']: not imported",
        f"{compose}:36: services.api.volumes = ['./data:/data']: not imported",
        f"{compose}:43: services.api.depends_on.redis: not imported",
        f"{compose}:54: networks = {{'default': {{}}}}: not imported",
        f"{compose}:56: x-shop-version = 3: not imported: an extension field",
    ):
        assert expected in stderr
    notes = comments(config.read_text())
    assert "image shop:latest is not used: the command runs on this host" in notes
    assert "unless-stopped: as always here" in notes


def test_a_yaml_error_names_its_line(tmp_path) -> None:
    source = tmp_path / "compose.yaml"
    source.write_text("services:\n  web:\n    command: [sleep\n  db: {}\n")
    assert_refused(source, f"{source}:4: invalid YAML")


def test_a_file_of_images_only_has_nothing_to_import(tmp_path) -> None:
    source = tmp_path / "docker-compose.yaml"
    source.write_text("services:\n  redis:\n    image: redis\n")
    assert_refused(source, "no service runs a command on the host: nothing to import")
