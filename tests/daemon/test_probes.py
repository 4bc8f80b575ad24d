"""Health probes with real processes: http, tcp and log readiness hold `running` and a dependant
until the service answers; a server that accepts and never answers is given up at the timeout;
a liveness probe that starts failing gets its process killed and restarted, with the cause in
the events and in `status` (test_readiness.py covers exec probes, hung ones included)."""

from __future__ import annotations

import sys
from pathlib import Path

from supervisor.testing.harness import RunningStack, RunStack, WriteConfig
from supervisor.testing.openstack import free_port
from tests.support.stackcli import cli, status_of, wait_for_cause

# A health endpoint: /health answers 200 while the health file exists, 503 otherwise.  With a
# listen flag it binds only once that file exists, and then says so on stdout.
SERVER = """
import http.server, os, sys, time
port, health, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3]
while flag != "-" and not os.path.exists(flag):
    time.sleep(0.02)
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if os.path.exists(health) else 503)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Health)
print(f"listening on {port}", flush=True)
server.serve_forever()
"""
# Accepts connections (the kernel does, from its backlog) and never answers.
SILENT = """
import socket, sys, time
listener = socket.socket()
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
time.sleep(1000)
"""


def server_stack(
    write_config: WriteConfig,
    run_stack: RunStack,
    tmp_path: Path,
    probes: str,
    *,
    health: Path,
    flag: str = "-",
    extra: str = "",
    script: str = SERVER,
) -> tuple[RunningStack, int]:
    port = free_port()
    program = tmp_path / "server.py"
    program.write_text(script)
    argv = f'["{sys.executable}", "{program}", "{port}", "{health}", "{flag}"]'
    config = write_config(
        f"""
        [services.web]
        command = {argv}
        {extra}
        {probes.replace("PORT", str(port))}

        [services.client]
        command = ["sleep", "1000"]
        start_seconds = 0
        depends_on = ["web"]
        """
    )
    return run_stack(config), port


def assert_gated_until(stack: RunningStack, opened: Path) -> None:
    """`web` stays starting and `client` waiting until `opened` exists; then both run."""
    assert status_of(stack.config)["web"]["state"] == "starting"
    assert status_of(stack.config)["client"]["state"] == "waiting"
    opened.touch()
    running = stack.wait_event(event="state", unit="web", to="running")
    assert running["cause"] == "readiness probe passed"
    stack.wait_event(event="state", unit="client", to="running")
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    assert stack.stop() == 0


def test_http_readiness_holds_running_and_dependants_until_the_server_answers_2xx(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    health = tmp_path / "healthy"
    probes = '[services.web.readiness]\nhttp = "http://127.0.0.1:PORT/health"\nperiod = 0.05'
    stack, _ = server_stack(write_config, run_stack, tmp_path, probes, health=health)
    wait_for_cause(stack, "web", "readiness probe: status 503")
    assert_gated_until(stack, health)


def test_tcp_readiness_waits_for_the_port_to_accept(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    flag = tmp_path / "listen"
    probes = '[services.web.readiness]\ntcp = "127.0.0.1:PORT"\nperiod = 0.05'
    stack, _ = server_stack(
        write_config, run_stack, tmp_path, probes, health=tmp_path / "h", flag=str(flag)
    )
    wait_for_cause(stack, "web", "readiness probe: connection refused")
    assert_gated_until(stack, flag)


def test_log_readiness_waits_for_a_matching_line(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    flag = tmp_path / "listen"
    probes = "[services.web.readiness]\nlog = 'listening on \\d+$'"
    stack, _ = server_stack(
        write_config, run_stack, tmp_path, probes, health=tmp_path / "h", flag=str(flag)
    )
    stack.wait_event(event="state", unit="client", to="waiting")
    assert_gated_until(stack, flag)


def test_a_server_that_accepts_and_never_answers_times_out_and_control_still_answers(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    probes = (
        '[services.web.readiness]\nhttp = "http://127.0.0.1:PORT/"\nperiod = 0.05\ntimeout = 0.2'
    )
    stack, _ = server_stack(
        write_config, run_stack, tmp_path, probes, health=tmp_path / "h", script=SILENT
    )
    web = wait_for_cause(stack, "web", "readiness probe: timed out after 0.2s")
    assert web["state"] == "starting"
    assert stack.stop() == 0


def test_a_failing_liveness_probe_kills_and_restarts_with_the_cause_in_events_and_status(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    health = tmp_path / "healthy"
    health.touch()
    probes = """
        [services.web.readiness]
        http = "http://127.0.0.1:PORT/health"
        period = 0.05
        [services.web.liveness]
        http = "http://127.0.0.1:PORT/health"
        period = 0.05
        failure_threshold = 2
    """
    extra = "restart = { policy = 'always', backoff = { initial = 30.0 } }"
    stack, port = server_stack(
        write_config, run_stack, tmp_path, probes, health=health, extra=extra
    )
    stack.wait_event(event="state", unit="web", to="running")
    health.unlink()
    what = f"liveness http http://127.0.0.1:{port}/health: status 503"
    first = stack.wait_event(event="probe", unit="web", failures=1)
    assert first["cause"] == what
    killed = stack.wait_event(event="kill", unit="web")
    assert killed["cause"] == f"{what} (2 failures in a row)"
    backoff = stack.wait_event(event="state", unit="web", to="backoff")
    assert backoff["cause"].startswith(f"{what} (2 failures in a row); killed by SIGABRT")
    web = status_of(stack.config)["web"]
    assert (web["state"], web["restarts"]) == ("backoff", 1)
    assert web["cause"] == backoff["cause"]
    assert stack.stop() == 0
