"""The pace of a periodic probe on a virtual clock: initial delay, period from the end of a run,
a run aborted at its timeout counted as a failure, no overlap, nothing after a cancel."""

from __future__ import annotations

from supervisor.config.services import Probe
from supervisor.daemon.probes.runner import Done, ProbeRunner
from supervisor.tools.virtualhost import VirtualLoop

PROBE = Probe(tcp="127.0.0.1:1", period=1.0, timeout=0.5, initial_delay=3.0)


class ScriptedCheck:
    """Each run ends after `takes` seconds with `answer` (None: healthy); never, if `takes` is
    None.  Records when runs began and which were aborted."""

    def __init__(self, loop: VirtualLoop, takes: float | None, answer: str | None) -> None:
        self._loop = loop
        self.takes, self.answer = takes, answer
        self.began: list[float] = []
        self.aborted: list[float] = []
        self._pending = None

    def begin(self, done: Done) -> None:
        self.began.append(self._loop.clock())
        if self.takes is not None:
            self._pending = self._loop.call_later(self.takes, lambda: done(self.answer))

    def abort(self) -> None:
        self.aborted.append(self._loop.clock())
        if self._pending is not None:
            self._pending.cancel()


def runner_with(takes: float | None, answer: str | None) -> tuple[VirtualLoop, ScriptedCheck, list]:
    loop = VirtualLoop()
    check = ScriptedCheck(loop, takes, answer)
    results: list = []
    runner = ProbeRunner(
        loop, PROBE, check, lambda: results.append("pass"), lambda why: results.append(why)
    )
    runner.start()
    results.append(runner)
    return loop, check, results


def test_runs_begin_after_the_initial_delay_and_a_period_after_each_end():
    loop, check, results = runner_with(takes=0.25, answer="status 500")
    loop.advance(6.0)
    assert check.began == [3.0, 4.25, 5.5]
    assert results[1:] == ["status 500"] * 3 and check.aborted == []


def test_a_run_that_never_ends_is_aborted_at_its_timeout_and_counts_as_failed():
    loop, check, results = runner_with(takes=None, answer=None)
    loop.advance(4.9)
    assert check.began == [3.0, 4.5] and check.aborted == [3.5]
    assert results[1:] == ["timed out after 0.5s"]


def test_a_cancel_aborts_the_run_in_progress_and_stops_the_pace():
    loop, check, results = runner_with(takes=0.25, answer=None)
    loop.advance(3.1)
    runner = results.pop(0)
    runner.cancel()
    loop.advance(10.0)
    assert check.began == [3.0] and check.aborted == [3.1] and results == []


def test_no_result_comes_before_start_has_returned_even_without_a_delay():
    loop = VirtualLoop()
    check = ScriptedCheck(loop, takes=0.0, answer="connection refused")
    results: list[str] = []
    runner = ProbeRunner(loop, Probe(tcp="127.0.0.1:1"), check, lambda: None, results.append)
    runner.start()
    assert results == [] and check.began == []
    loop.advance(0.0)
    assert results == ["connection refused"]
