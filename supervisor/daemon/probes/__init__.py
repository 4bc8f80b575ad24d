"""Health probes: the checks a unit's readiness and liveness tables ask for, run on the loop.

Every kind runs without blocking the supervisor's loop, so a probe never delays a restart or a
control answer: an `exec` probe is a child watched through its pidfd (`execcheck`), `http` and
`tcp` probes are non-blocking sockets registered on the loop (`netcheck`), and a `log` probe is
a regular expression the output pump's thread matches against a run's output, which wakes the
loop through a pipe once it matches (`logmatch`).  `runner.ProbeRunner` paces the periodic kinds
(initial delay, period, timeout); the unit and its start gate count the failures and decide.
"""
