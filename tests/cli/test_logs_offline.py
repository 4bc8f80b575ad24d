"""`supervisor logs` with and without a supervisor: real stacks, real files, the real CLI."""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supervisor.shared.logstamp import STAMP_BYTES, Stamper, stamp_time
from supervisor.testing.harness import RunningStack
from tests.support.stackcli import ReadyStack, cli
from tests.support.waiting import wait_until

DEADLINE = 20.0
NOT_RUNNING = 3

TALKERS = """
[services.talker]
command = ["sh", "-c", "seq -f 'line %g' 1 20; echo oops >&2; exec sleep 1000"]
start_seconds = 0
workers = 2

[services.quiet]
command = ["sleep", "1000"]
start_seconds = 0
"""

TICKERS = """
[services.ticker]
command = ["sh", "-c", "while true; do echo tick; sleep 0.05; done"]
start_seconds = 0
workers = 2

[services.other]
command = ["sh", "-c", "while true; do echo other; sleep 0.05; done"]
start_seconds = 0
"""

SPLIT = """
[services.split]
command = ["sh", "-c", "echo to-out; echo to-err >&2; echo out-again; exec sleep 1000"]
start_seconds = 0
stderr = "separate"

[services.merged]
command = ["sh", "-c", "echo both >&2; exec sleep 1000"]
start_seconds = 0
"""


def unstamped(lines: list[str]) -> list[str]:
    """Log lines without their timestamps, which every one of them must have."""
    assert all(stamp_time(line) is not None for line in lines), lines
    return [line[STAMP_BYTES:] for line in lines]


def file_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def logs_dir(stack: RunningStack) -> Path:
    return stack.config.parent / "state" / "logs"


def shut_down(stack: RunningStack) -> None:
    result = cli(stack.config, "shutdown")
    assert result.returncode == 0, result.stderr
    assert stack.wait_exit() == 0


class Follower:
    """`supervisor logs ... -f` in a child, its stdout read line by line under a deadline."""

    def __init__(self, config: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "supervisor", "logs", *args, "-f", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._buffer = b""
        self.seen: list[str] = []

    def read_until(self, done: Callable[[list[str]], bool], what: str) -> list[str]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + DEADLINE
        fd = self.process.stdout.fileno()
        while not done(self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise AssertionError(f"no {what} within {DEADLINE}s; seen: {self.seen[-10:]}")
            chunk = self.process.stdout.read1(65536)
            if not chunk:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise AssertionError(f"the follower ended before {what}: {stderr}")
            *lines, self._buffer = (self._buffer + chunk).split(b"\n")
            self.seen.extend(line.decode() for line in lines)
        return self.seen

    def close(self) -> None:
        self.process.kill()
        self.process.communicate()


@pytest.fixture
def followers() -> Iterator[list[Follower]]:
    started: list[Follower] = []
    yield started
    for follower in started:
        follower.close()


def test_logs_after_shutdown_reads_the_files_and_shows_what_the_live_supervisor_showed(
    ready_stack: ReadyStack,
):
    stack = ready_stack(TALKERS)
    logs = logs_dir(stack)
    for process in ("talker#1", "talker#2"):
        wait_until(
            lambda p=process: len(file_lines(logs / f"{p}.log")) == 21, f"all of {process}'s lines"
        )
    live = cli(stack.config, "logs", "talker", "-n", "100")
    assert live.returncode == 0, live.stderr
    assert live.stderr == ""
    shut_down(stack)

    offline = cli(stack.config, "logs", "talker", "-n", "100")
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == live.stdout
    assert offline.stderr.splitlines() == [
        f"supervisor: no supervisor is running for {logs.parent}; reading {logs}"
    ]
    shown = offline.stdout.splitlines()
    for process in ("talker#1", "talker#2"):
        own = [line[len(f"{process} | ") :] for line in shown if line.startswith(f"{process} | ")]
        assert sorted(unstamped(own)) == sorted([*(f"line {i}" for i in range(1, 21)), "oops"])
    # In timestamp order across both processes
    times = [stamp_time(line.split(" | ", 1)[1]) for line in shown]
    assert times == sorted(times)

    # A process by its name: no prefix; the last lines of its file.
    one = cli(stack.config, "logs", "talker#2", "-n", "3")
    assert one.returncode == 0
    assert one.stdout.splitlines() == file_lines(logs / "talker#2.log")[-3:]

    unknown = cli(stack.config, "logs", "nope")
    assert unknown.returncode == 1
    assert "unknown name 'nope'; services: talker; processes: talker#1, talker#2" in unknown.stderr


def test_logs_without_a_supervisor_or_any_log_file_exits_3(tmp_path: Path):
    config = tmp_path / "services.toml"
    config.write_text('[supervisor]\nstate_dir = "state"\n')
    result = cli(config, "logs")
    assert result.returncode == NOT_RUNNING
    assert result.stderr == f"supervisor: no supervisor is running for {tmp_path / 'state'}\n"


def test_follow_shows_every_process_of_a_service_under_its_prefix(
    ready_stack: ReadyStack, followers: list[Follower]
):
    stack = ready_stack(TICKERS)
    service = Follower(stack.config, "ticker", "-n", "0")
    followers.append(service)
    seen = service.read_until(
        lambda lines: {line.split(" | ")[0] for line in lines} >= {"ticker#1", "ticker#2"},
        "lines of both workers",
    )
    assert all(line.startswith(("ticker#1 | ", "ticker#2 | ")) for line in seen)
    assert {line[len("ticker#1 | ") :][STAMP_BYTES:] for line in seen} == {"tick"}

    everything = Follower(stack.config, "-n", "0")
    followers.append(everything)
    prefixes = {"ticker#1 | ", "ticker#2 | ", "other    | "}
    everything.read_until(
        lambda lines: {line[: len("ticker#1 | ")] for line in lines} >= prefixes,
        "lines of every process",
    )


def test_stderr_separate_writes_its_own_file_and_logs_shows_both_in_time_order(
    ready_stack: ReadyStack,
):
    stack = ready_stack(SPLIT)
    logs = logs_dir(stack)
    wait_until(lambda: len(file_lines(logs / "split.log")) == 2, "split's stdout")
    wait_until(lambda: len(file_lines(logs / "split.err.log")) == 1, "split's stderr")
    wait_until(lambda: len(file_lines(logs / "merged.log")) == 1, "merged's stderr")
    assert unstamped(file_lines(logs / "split.log")) == ["to-out", "out-again"]
    assert unstamped(file_lines(logs / "split.err.log")) == ["to-err"]
    assert not (logs / "merged.err.log").exists()

    for when in ("live", "after shutdown"):
        both = cli(stack.config, "logs", "split")
        assert both.returncode == 0, (when, both.stderr)
        lines = both.stdout.splitlines()
        assert sorted(unstamped(lines)) == ["out-again", "to-err", "to-out"], when
        assert [stamp_time(line) for line in lines] == sorted(stamp_time(line) for line in lines)
        only_stderr = cli(stack.config, "logs", "split", "--stderr")
        assert unstamped(only_stderr.stdout.splitlines()) == ["to-err"], when
        refused = cli(stack.config, "logs", "merged", "--stderr")
        assert refused.returncode == 1, when
        assert 'stderr = "separate"' in refused.stderr
        if when == "live":
            shut_down(stack)


def stamped(moment: float, text: str) -> str:
    return Stamper(lambda: moment).stamp().decode() + text


def test_since_until_and_grep_filter_on_the_timestamps_and_the_text(tmp_path: Path):
    """Files as a stopped stack left them, with times written by the test: no clock races."""
    config = tmp_path / "services.toml"
    config.write_text('[supervisor]\nstate_dir = "state"\n')
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True)
    now = time.time()
    hour = 3600.0
    (logs / "web.log.1").write_text(
        stamped(now - 3 * hour, "old one\n") + stamped(now - 2.5 * hour, "old two\n")
    )
    (logs / "web.log").write_text(
        stamped(now - 2 * hour, "new one\n")
        + "  a continuation without a stamp\n"
        + stamped(now - 1 * hour, "new two\n")
    )
    (logs / "web.err.log").write_text(stamped(now - 1.5 * hour, "an error\n"))
    # In UTC, whatever the local zone: the same instant, written another way
    utc = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 2.75 * hour))
    (logs / "api#1.log").write_text(f"{utc}.000+00:00 api starts\n")

    def shown(*args: str) -> list[str]:
        """`process text` per line shown (`-` for a line without a prefix), stamps left out."""
        result = cli(config, "logs", *args)
        assert result.returncode == 0, result.stderr
        lines = []
        for line in result.stdout.splitlines():
            process, bar, text = line.partition(" | ")
            lines.append(f"{process.rstrip()} {_text(text)}" if bar else f"- {_text(line)}")
        return lines

    everything = [
        "web old one",
        "api#1 api starts",
        "web old two",
        "web new one",
        "web   a continuation without a stamp",
        "web an error",
        "web new two",
    ]
    assert shown("-n", "100") == everything
    assert shown() == everything  # fewer than the default 10
    assert shown("-n", "2") == everything[-2:]
    # Between the lines' times, with minutes to spare for a slow machine.
    assert shown("--since", "160m") == everything[2:]
    assert shown("--since", "2h 40m ago", "--until", "100m") == everything[2:5]
    assert shown("--until", _rfc3339(now - 2.6 * hour)) == everything[:2]
    assert shown("--grep", "^(old|new) t") == ["web old two", "web new two"]
    assert shown("--grep", "^api", "--since", "3h") == ["api#1 api starts"]
    assert shown("web", "--stderr") == ["- an error"]
    assert shown("api") == ["- api starts"]

    # What journalctl takes, a leading minus included, given apart or after `=`
    assert shown("--since", "-160m") == everything[2:]
    assert shown("--since=-160m") == everything[2:]
    assert shown("--since", "-2h40m", "--until", "-100m") == everything[2:5]
    assert shown("--since", "160 minutes ago") == everything[2:]
    assert shown("--since", "9600 seconds ago") == everything[2:]
    assert shown("--since", "2 hours 40 min ago", "--until=-1 hour 40 minutes") == everything[2:5]
    assert shown("-n", "all") == everything
    assert shown("-n", "0") == []


def test_what_logs_cannot_read_is_a_usage_error_naming_it(tmp_path: Path):
    config = tmp_path / "services.toml"
    config.write_text('[supervisor]\nstate_dir = "state"\n')
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True)
    (logs / "web.log").write_text(stamped(time.time() - 60, "a line\n"))
    for args, says in [
        (("--since", "last tuesday"), "argument --since: 'last tuesday': not a time; expected"),
        (("--since", "-10 parsecs"), "argument --since: '-10 parsecs': unknown unit 'parsecs'"),
        (("--until=-1x",), "argument --until: '-1x': unknown unit 'x'"),
        (("web", "-n", "-1"), "argument -n/--lines: '-1': not a number of lines (0, 1, 2,"),
        (("-n", "ten"), "argument -n/--lines: 'ten': not a number of lines"),
        (("-n", "-5m"), "argument -n/--lines: '-5m': not a number of lines"),
        (("-f", "--until", "now"), "-f and --until do not go together"),
        (("--since", "-5m", "--until", "-1h"), "--since is after --until"),
    ]:
        result = cli(config, "logs", *args)
        assert (result.returncode, result.stdout) == (2, ""), (args, result.stderr)
        assert says in result.stderr, args


def _text(line: str) -> str:
    return line[STAMP_BYTES:] if stamp_time(line) is not None else line


def _rfc3339(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(moment))
