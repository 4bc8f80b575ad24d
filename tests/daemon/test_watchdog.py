"""The watchdog: a process that stops sending WATCHDOG=1, or asks, is failed and restarted."""

from __future__ import annotations

import json

from supervisor.testing.harness import RunStack, WriteConfig
from tests.support.stackcli import cli

# Ready at once, then PINGS keep-alives 50 ms apart, then FINALE: either silence or a trigger.
PINGER = (
    "import os, signal, socket, sys, time; "
    "address = os.environ['NOTIFY_SOCKET'].replace('@', chr(0), 1); "
    "sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
    "sock.sendto(b'READY=1', address); "
    "[(sock.sendto(b'WATCHDOG=1', address), time.sleep(0.05)) for _ in range({pings})]; "
    "sock.sendto(b'{finale}', address); "
    "signal.pause()"
)


def pinger(pings: int, finale: str) -> str:
    return PINGER.format(pings=pings, finale=finale)


def test_status_shows_the_age_of_the_last_keepalive_and_the_last_status_text(
    write_config: WriteConfig, run_stack: RunStack
):
    # No watchdog: the process stays as it is however long `status` takes on a loaded machine.
    config = write_config(
        f"""
        [services.hangs]
        command = ["python3", "-c", "{pinger(3, "STATUS=stuck")}"]
        notify = true
        """
    )
    stack = run_stack(config)
    stack.wait_event(event="notify", unit="hangs", STATUS="stuck")
    status = json.loads(cli(config, "status", "--json", "hangs").stdout)["processes"][0]
    assert status["heartbeat_age"] is not None
    assert status["status_text"] == "stuck"
    assert stack.stop() == 0


def test_a_process_that_stops_its_keepalives_is_failed_and_restarted(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        f"""
        [services.hangs]
        command = ["python3", "-c", "{pinger(6, "STATUS=stuck")}"]
        notify = true
        watchdog = 0.5
        restart = {{ backoff = {{ initial = 0.0 }}, start_limit = {{ burst = 1 }} }}
        """
    )
    stack = run_stack(config)
    first = stack.wait_event(event="state", unit="hangs", to="running")
    kill = stack.wait_event(event="kill", unit="hangs")
    assert kill["cause"] == "watchdog: no keep-alive (WATCHDOG=1) for 0.5s"
    backoff = stack.wait_event(event="state", unit="hangs", to="backoff")
    assert backoff["cause"].startswith("watchdog: no keep-alive (WATCHDOG=1) for 0.5s; killed by")
    second = stack.wait_event(
        event="state", unit="hangs", to="starting", cause="restarting at once"
    )
    assert second["pid"] != first["pid"]
    # The second run hangs too: with one restart allowed, the unit goes fatal.
    assert stack.wait_exit() == 128 + 6
    assert not stack.select(event="notify", WATCHDOG="1"), "keep-alives stay out of the log"


def test_watchdog_trigger_fails_the_process_at_once(write_config: WriteConfig, run_stack: RunStack):
    config = write_config(
        f"""
        [services.asks]
        command = ["python3", "-c", "{pinger(1, "WATCHDOG=trigger")}"]
        notify = true
        restart = {{ start_limit = {{ burst = 0 }} }}
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 128 + 6
    fatal = stack.wait_event(event="state", unit="asks", to="fatal")
    assert fatal["cause"].startswith("watchdog: the service asked for it (WATCHDOG=trigger)")


def test_a_notify_service_that_never_gets_ready_fails_its_start(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        """
        [services.silent]
        command = ["sleep", "1000"]
        notify = true
        start_timeout = 0.3
        restart = { backoff = { initial = 0.0 }, start_limit = { burst = 1 } }
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 128 + 6
    kills = stack.select(event="kill", unit="silent")
    assert [kill["cause"] for kill in kills] == ["start timeout: no READY=1 within 0.3s"] * 2
    states = [event["to"] for event in stack.select(event="state", unit="silent")]
    assert states == ["starting", "backoff", "starting", "fatal"]
