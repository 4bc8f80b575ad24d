"""The healer in-process, on a loop with an injected clock: told by inotify, or looking every
second where inotify cannot be had."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.control.server import ControlServer
from supervisor.daemon import statedir
from supervisor.daemon.events import EventLog
from supervisor.daemon.loop import Loop
from supervisor.daemon.statedir import CHECK_INTERVAL, SETTLE_DELAY, StateDirHealer
from supervisor.daemon.statelock import StateLock


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def one_round():
    """An `until` for `Loop.run` that lets it serve one round."""
    answers = iter((False, True))
    return lambda: next(answers)


class Healing:
    def __init__(self, state_dir: Path) -> None:
        self.clock = Clock()
        self.loop = Loop(self.clock)
        self.lock = StateLock(state_dir)
        self.lock.acquire()
        self.events = EventLog(state_dir, io.StringIO())
        self.control = ControlServer(
            state_dir, lambda connection, request: None, self.loop, self.events.emit
        )
        self.lost: list[str] = []
        self.healer = StateDirHealer(
            state_dir, self.loop, self.lock, self.control, self.events, self.lost.append
        )

    def run_until(self, condition, rounds: int = 50) -> None:
        """Serve the loop round by round, the clock moved past every timer: no real waiting."""
        for _ in range(rounds):
            if condition():
                return
            self.clock.now += max(CHECK_INTERVAL, SETTLE_DELAY)
            self.loop.run(one_round())
        assert condition()

    def close(self) -> None:
        self.healer.stop()
        self.control.close()
        self.events.close()
        self.lock.release()
        self.loop.close()


@pytest.fixture
def healing(tmp_path: Path) -> Iterator[Healing]:
    healing = Healing(tmp_path / "state")
    yield healing
    healing.close()


def test_a_removed_socket_is_put_back_when_the_kernel_reports_it(healing: Healing):
    healing.healer.start()
    healing.control.path.unlink()
    healing.run_until(healing.control.path.exists)
    assert not healing.lost


def test_without_inotify_the_directory_is_looked_at_every_second(
    healing: Healing, monkeypatch: pytest.MonkeyPatch
):
    def refuse(path: Path) -> None:
        raise OSError("inotify is not available")

    monkeypatch.setattr(statedir.DirectoryWatch, "open", refuse)
    healing.healer.start()
    healing.control.path.unlink()
    healing.run_until(healing.control.path.exists)
    healing.control.path.unlink()
    healing.run_until(healing.control.path.exists)  # and it keeps looking
