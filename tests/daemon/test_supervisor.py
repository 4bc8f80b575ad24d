"""The supervisor against real processes: restarts, stops, escalation, group status, orphans."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil

from supervisor.testing.harness import RunningStack, RunStack, WriteConfig

# A shell that ignores SIGTERM, starts a grandchild that inherits that, and records its pid.
STUBBORN = """["sh", "-c", "trap '' TERM; sleep 1000 & echo $! > {pidfile}; wait"]"""
NO_JITTER = "jitter = 0.0"
# A child that starts a grandchild in a session of its own, out of the service's process group.
ESCAPER = (
    "import os, signal, sys; "
    "pid = os.fork(); "
    "pid == 0 and (os.setsid(), signal.pause()); "
    "open(sys.argv[1], 'w').write(str(pid)); "
    "signal.pause()"
)


def states(stack: RunningStack, unit: str) -> list[str]:
    return [event["to"] for event in stack.select(event="state", unit=unit)]


def assert_gone(*pids: int) -> None:
    """Every pid ends (and is reaped by whoever owns it) before a generous deadline."""
    processes = []
    for pid in pids:
        try:
            processes.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=5)
    assert not alive, f"still running: {alive}"


def wait_for_pidfile(stack: RunningStack, path: Path) -> int:
    stack.wait_until(lambda: path.exists() and path.read_text().strip() != "", 10, str(path))
    return int(path.read_text())


def start_stubborn(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path, stop_timeout: float
) -> tuple[RunningStack, int]:
    """A stack of one service that ignores SIGTERM, as does its grandchild (whose pid is
    returned once it runs)."""
    pidfile = tmp_path / "grandchild.pid"
    config = write_config(
        f"""
        [services.stubborn]
        command = {STUBBORN.format(pidfile=pidfile)}
        start_seconds = 0
        stop_timeout = {stop_timeout}
        """
    )
    stack = run_stack(config)
    return stack, wait_for_pidfile(stack, pidfile)


def test_on_failure_backs_off_exponentially_then_hits_the_start_limit(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        f"""
        [services.crasher]
        command = ["sh", "-c", "exit 3"]
        [services.crasher.restart]
        policy = "on-failure"
        backoff = {{ initial = 0.02, factor = 2.0, max = 0.05, {NO_JITTER} }}
        start_limit = {{ burst = 3, interval = 60 }}
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 3
    backoffs = stack.select(event="state", unit="crasher", to="backoff")
    assert [event["delay"] for event in backoffs] == [0.02, 0.04, 0.05]
    assert len(stack.select(event="state", unit="crasher", to="starting")) == 4
    fatal = stack.wait_event(event="state", unit="crasher", to="fatal")
    assert "start limit hit: 3 restarts within 60s" in fatal["cause"]
    assert fatal["exit_status"] == 3


def test_backoff_starts_afresh_after_a_long_enough_run(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        f"""
        [services.flaky]
        command = ["sh", "-c", "sleep 0.3; exit 1"]
        [services.flaky.restart]
        backoff = {{ initial = 0.01, factor = 10.0, reset_after = 0.2, {NO_JITTER} }}
        start_limit = {{ burst = 2, interval = 60 }}
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 1
    delays = [e["delay"] for e in stack.select(event="state", unit="flaky", to="backoff")]
    assert delays == [0.01, 0.01]


def test_always_restarts_clean_exits_and_a_fatal_unit_never_reports_success(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        """
        [services.oneshot]
        command = ["true"]
        restart = { policy = "always", backoff = { initial = 0.0 }, start_limit = { burst = 2 } }
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 1
    assert states(stack, "oneshot") == ["starting", "backoff"] * 2 + ["starting", "fatal"]


def test_on_failure_leaves_a_clean_exit_alone_and_the_group_ends_with_0(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        """
        [services.done]
        command = ["true"]
        [services.also-done]
        command = ["sh", "-c", "exit 0"]
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 0
    assert states(stack, "done") == ["starting", "exited"]
    assert stack.wait_event(event="group", action="exit")["status"] == 0


def test_never_ends_with_the_exit_code_or_128_plus_the_signal(
    write_config: WriteConfig, run_stack: RunStack
):
    for command, status in (
        ('["sh", "-c", "exit 5"]', 5),
        ('["sh", "-c", "kill -USR1 $$$$"]', 138),  # `$$` is a `$` in services.toml
    ):
        config = write_config(f'[services.once]\ncommand = {command}\nrestart.policy = "never"\n')
        stack = run_stack(config)
        assert stack.wait_exit() == status
        assert states(stack, "once")[-1] == "exited"


def test_a_program_that_cannot_be_executed_is_fatal_at_once(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    # An executable file that the kernel cannot start (its interpreter is missing): `check`
    # finds the program, and only its start can fail.
    ghost = tmp_path / "ghost"
    ghost.write_text("#!/nonexistent/interpreter\n")
    ghost.chmod(0o755)
    config = write_config(f'[services.ghost]\ncommand = ["{ghost}"]\n')
    stack = run_stack(config)
    assert stack.wait_exit() == 127
    (fatal,) = stack.select(event="state", unit="ghost", to="fatal")
    assert fatal["cause"] == f"cannot execute {ghost}: No such file or directory"


def test_a_critical_unit_that_fails_for_good_stops_the_group(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        """
        [services.sleeper]
        command = ["sleep", "1000"]
        start_seconds = 0

        [services.database]
        command = ["sh", "-c", "exit 9"]
        critical = true
        restart = { start_limit = { burst = 0 } }
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 9
    stop = stack.wait_event(event="group", action="stop")
    assert stop["cause"] == "critical unit database failed for good"
    assert states(stack, "sleeper")[-2:] == ["stopping", "exited"]


def test_a_requested_stop_is_clean_and_goes_in_dependency_layers(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        """
        [services.first]
        command = ["sleep", "1000"]
        start_seconds = 0
        [services.second]
        command = ["sleep", "1000"]
        start_seconds = 0
        workers = 2
        depends_on = ["first"]
        [services.third]
        command = ["sleep", "1000"]
        start_seconds = 0
        depends_on = ["second"]
        [services.unrelated]
        command = ["sleep", "1000"]
        start_seconds = 0
        """
    )
    stack = run_stack(config)
    for unit in ("first", "second#1", "second#2", "third", "unrelated"):
        stack.wait_event(event="state", unit=unit, to="running")
    stack.signal(signal.SIGTERM)
    assert stack.wait_exit() == 0
    order = [
        (event["unit"], event["to"])
        for event in stack.select(event="state")
        if event["to"] in ("stopping", "exited")
    ]
    third_gone = order.index(("third", "exited"))
    second_gone = max(order.index((f"second#{n}", "exited")) for n in (1, 2))
    assert third_gone < order.index(("second#1", "stopping"))
    assert second_gone < order.index(("first", "stopping"))
    # Nothing depends on `unrelated`, and it depends on nothing: it goes with the first layer.
    assert order.index(("unrelated", "stopping")) < third_gone
    assert stack.wait_event(event="group", action="exit")["status"] == 0


def test_services_without_dependencies_stop_at_once(write_config: WriteConfig, run_stack: RunStack):
    config = write_config(
        "".join(
            f'[services.s{n}]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\n' for n in range(4)
        )
    )
    stack = run_stack(config)
    for n in range(4):
        stack.wait_event(event="state", unit=f"s{n}", to="running")
    stack.signal(signal.SIGTERM)
    assert stack.wait_exit() == 0
    order = [e["to"] for e in stack.select(event="state") if e["to"] in ("stopping", "exited")]
    # Every stop is asked in one pass of the loop, before any exit is heard.
    assert order[:4] == ["stopping"] * 4


def test_stop_escalates_to_sigkill_for_the_whole_process_group(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    stack, grandchild = start_stubborn(write_config, run_stack, tmp_path, stop_timeout=0.3)
    running = stack.wait_event(event="state", unit="stubborn", to="running")
    stack.signal(signal.SIGTERM)
    assert stack.wait_exit() == 128 + signal.SIGKILL
    kill = stack.wait_event(event="kill", unit="stubborn")
    assert kill["cause"] == "still running 0.3s after the stop signal"
    exited = stack.wait_event(event="state", unit="stubborn", to="exited")
    assert exited["cause"] == "stopped after SIGKILL: killed by SIGKILL"
    assert_gone(running["pid"], grandchild)


def test_a_second_sigint_kills_everything_at_once(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    stack, _ = start_stubborn(write_config, run_stack, tmp_path, stop_timeout=600)
    stack.signal(signal.SIGINT)
    stack.wait_event(event="state", unit="stubborn", to="stopping")
    stack.signal(signal.SIGINT)
    assert stack.wait_exit(timeout=20) == 128 + signal.SIGINT
    assert stack.wait_event(event="group", action="exit")["cause"] == "killed on a second SIGINT"


def test_no_service_process_outlives_a_sigkilled_supervisor(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    pidfile = tmp_path / "grandchild.pid"
    escaped = tmp_path / "escaped.pid"
    config = write_config(
        f"""
        [services.stubborn]
        command = {STUBBORN.format(pidfile=pidfile)}
        start_seconds = 0
        [services.escaper]
        command = ["python3", "-c", "{ESCAPER}", "{escaped}"]
        start_seconds = 0
        [services.plain]
        command = ["sleep", "1000"]
        workers = 3
        start_seconds = 0
        """
    )
    stack = run_stack(config)
    pids = [wait_for_pidfile(stack, pidfile), wait_for_pidfile(stack, escaped)]
    for unit in ("stubborn", "escaper", "plain#1", "plain#2", "plain#3"):
        pids.append(stack.wait_event(event="state", unit=unit, to="running")["pid"])
    stack.signal(signal.SIGKILL)
    stack.wait_exit()
    assert_gone(*pids)


def test_a_command_speaking_sd_notify_is_running_only_once_ready(
    write_config: WriteConfig, run_stack: RunStack
):
    script = (
        "import os, signal, socket, sys; "
        "sys.stdin.close(); "
        "address = os.environ['NOTIFY_SOCKET'].replace('@', chr(0), 1); "
        "sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
        "sock.sendto(b'STATUS=warming up', address); "
        "sock.sendto(b'READY=1', address); "
        "signal.pause()"
    )
    config = write_config(
        f"""
        [services.notifier]
        command = ["python3", "-c", "{script}"]
        notify = true
        start_seconds = 0
        """
    )
    stack = run_stack(config)
    running = stack.wait_event(event="state", unit="notifier", to="running")
    assert running["cause"] == "READY=1"
    status = stack.wait_event(event="notify", unit="notifier", STATUS="warming up")
    assert status["pid"] == running["pid"]
    assert stack.stop() == 0
