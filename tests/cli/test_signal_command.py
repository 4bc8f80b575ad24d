"""`supervisor signal NAME SIG`: a signal to a service's processes or to one process, through the
real command line and real processes, as `supervisorctl signal` or `systemctl kill -s`."""

from __future__ import annotations

from pathlib import Path

from tests.support.stackcli import ReadyStack, cli, status_of

# Each worker writes the signals it gets to its own file and lives on.
LISTENER = """
[services.listener]
command = ["python3", "-c", '''
import os, signal, socket, sys
path = sys.argv[1] + "/got-" + sys.argv[2]
def note(signum, frame):
    with open(path, "a") as out:
        out.write(signal.Signals(signum).name + "\\n")
for signum in (signal.SIGUSR1, signal.SIGHUP):
    signal.signal(signum, note)
address = os.environ["NOTIFY_SOCKET"]
address = "\\0" + address[1:] if address.startswith("@") else address
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", address)
while True:
    signal.pause()
''', "{directory}", "{process_number}"]
workers = 2
notify = true  # READY=1 once its handlers are in place
"""


def listener_stack(ready_stack: ReadyStack, tmp_path: Path):
    return ready_stack(LISTENER.replace("{directory}", str(tmp_path)))


def test_a_signal_reaches_every_process_of_a_service_and_each_lives_on(
    ready_stack: ReadyStack, tmp_path: Path
):
    stack = listener_stack(ready_stack, tmp_path)
    before = {name: row["pid"] for name, row in status_of(stack.config).items()}
    result = cli(stack.config, "signal", "listener", "usr1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["listener#1: sent SIGUSR1", "listener#2: sent SIGUSR1"]
    for number in (1, 2):
        got = tmp_path / f"got-{number}"
        stack.wait_until(lambda got=got: got.exists() and got.read_text(), 20, f"{got}")
        assert got.read_text() == "SIGUSR1\n"
    events = stack.select(event="signal", signal="SIGUSR1")
    assert sorted(e["unit"] for e in events) == ["listener#1", "listener#2"]
    assert {e["cause"] for e in events} == {"sent by operator"}
    after = {name: row["pid"] for name, row in status_of(stack.config).items()}
    assert after == before  # handled: nothing restarted


def test_one_process_by_name_or_number_and_what_is_refused(ready_stack: ReadyStack, tmp_path: Path):
    stack = listener_stack(ready_stack, tmp_path)
    result = cli(stack.config, "signal", "listener#2", "1")  # 1 is SIGHUP
    assert (result.returncode, result.stdout) == (0, "listener#2: sent SIGHUP\n")
    stack.wait_until(lambda: (tmp_path / "got-2").exists(), 20, "listener#2's SIGHUP")
    assert not (tmp_path / "got-1").exists()

    bad = cli(stack.config, "signal", "listener", "BOGUS")
    assert bad.returncode == 2
    assert "no such signal: 'BOGUS'" in bad.stderr
    unknown = cli(stack.config, "signal", "nope", "HUP")
    assert unknown.returncode != 0 and "nope" in unknown.stderr
    assert cli(stack.config, "signal", "listener").returncode == 2  # no signal: usage

    assert cli(stack.config, "stop", "listener#1").returncode == 0
    idle = cli(stack.config, "signal", "listener#1", "HUP")
    assert idle.returncode == 1
    assert "no process to signal: listener#1 is stopped" in idle.stderr
    partly = cli(stack.config, "signal", "listener", "HUP")
    assert partly.returncode == 0
    assert "listener#1: not running, not signalled" in partly.stderr
