"""How one service's settings read as systemd directives: the mapping
docs/guides/moving-in-and-out.md documents.

`service_directives` is a function of the settings and the names of the units the service
depends on (and of where `kill` is, for a manager's ExecReload=): it returns the [Unit] and
[Service] lines, the comments that say what was approximated or left out, and the notes
`export` prints on stderr for what changes behaviour.  What maps exactly: the stop signal and
timeout, the watchdog, the restart decision (which exits restart: `Restart=`,
`SuccessExitStatus=`, `RestartForceExitStatus=`, `RestartPreventExitStatus=`), notify
readiness, one-shot jobs, a manager's SIGHUP, `user`/`group` (`User=`/`Group=`), and the start
order of `depends_on` on notify and one-shot services.  Whatever is approximated is said in the
unit itself, next to the directive.
"""

from __future__ import annotations

import math
import shutil
import signal
from dataclasses import dataclass, field

from supervisor.config.services import ServiceSettings
from supervisor.policy.restart import Backoff, RestartPolicy
from supervisor.tools.exporters.systemdsyntax import exec_word, plain_value, time_span

# Deaths by these signals are a clean exit to systemd's Restart=on-failure; to the supervisor's
# on-failure, a signal it did not send is a failure: RestartForceExitStatus= restores that.
_CLEAN_SIGNALS = ("SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE")
_RESTART = {"always": "always", "on-failure": "on-failure", "never": "no"}


@dataclass
class Directives:
    unit: list[str] = field(default_factory=list)  # "Key=value" lines and "# ..." comments
    service: list[str] = field(default_factory=list)
    program: list[str] = field(default_factory=list)  # "# ..." comments above ExecStart=
    notes: list[str] = field(default_factory=list)  # one line each, for stderr


def service_directives(
    settings: ServiceSettings, requires: list[str], *, has_dependants: bool, is_manager: bool
) -> Directives:
    out = Directives()
    if requires:
        # Ready (READY=1, or a one-shot job's success) is what After= waits for, as
        # depends_on does; a plain command counts as started once it is executed.
        out.unit.append(f"Requires={' '.join(requires)}")
        out.unit.append(f"After={' '.join(requires)}")
        why = (
            "depends_on: systemd restarts this unit whenever a dependency restarts (after a"
            " crash too), and never starts it if a dependency's start fails once; the"
            " supervisor leaves it running, and waits through the dependency's restarts"
        )
        out.unit.append(f"# Approximated: {why}")
        out.notes.append(why)
    _start_type(settings, out, has_dependants=has_dependants)
    if is_manager:
        # What the supervisor's SIGHUP (or a reload that leaves the process be) does: the
        # manager's reset(), bracketed by RELOADING=1 and READY=1.
        kill = shutil.which("kill") or "/bin/kill"
        out.service.append(f"ExecReload={exec_word(kill)} -HUP $MAINPID")
    _restart(settings.restart, settings.oneshot, out)
    # stop_timeout = 0 is SIGKILL at once; TimeoutStopSec=0 would wait forever.
    out.service.append(f"TimeoutStopSec={_at_least_1us(settings.stop_timeout)}")
    out.service.append(f"KillSignal={signal.Signals(settings.stop_signal).name}")
    out.service.append("KillMode=control-group")
    if settings.run_as is not None:
        # systemd sets the same supplementary groups (initgroups) and HOME, USER, LOGNAME and
        # SHELL from the user's entry, as the supervisor does.
        out.service.append(f"User={plain_value(settings.run_as.user)}")
        if settings.run_as.group is not None:
            out.service.append(f"Group={plain_value(settings.run_as.group)}")
    if settings.watchdog:
        # SIGABRT on a missed keep-alive, SIGKILL after TimeoutAbortSec= (TimeoutStopSec=),
        # result "watchdog": a failure to Restart=, as under the supervisor.
        out.service.append(f"WatchdogSec={_at_least_1us(settings.watchdog)}")
    _unmapped(settings, out)
    return out


def _start_type(settings: ServiceSettings, out: Directives, *, has_dependants: bool) -> None:
    if settings.oneshot:
        # Started (so its dependants go on) once it has ended in success; then stays active.
        out.service += ["Type=oneshot", "RemainAfterExit=yes"]
        out.service.append(f"TimeoutStartSec={_timeout(settings.start_timeout)}")
    elif settings.notify:
        out.service.append("Type=notify")
        out.service.append(f"TimeoutStartSec={_timeout(settings.start_timeout)}")
    else:
        out.service.append("Type=exec")
        if settings.readiness is None and settings.start_seconds > 0:
            why = (
                f"start_seconds = {settings.start_seconds:g}: systemd counts the process"
                " started once it is executed (Type=exec), so dependants do not wait"
                f" {settings.start_seconds:g}s and an early exit is a crash, not a failed start"
            )
            _approximated(out, why, note=has_dependants)
    # The supervisor gives every process NOTIFY_SOCKET, and takes STATUS= and WATCHDOG=1 from
    # the process it started: the same as NotifyAccess=main, written out for Type=exec.
    out.service.append("NotifyAccess=main")


def _timeout(seconds: float) -> str:
    return "infinity" if seconds == 0 else _at_least_1us(seconds)


def _at_least_1us(seconds: float) -> str:
    """A span systemd must not read as 0, which to it means "no timeout" or "off"."""
    return time_span(max(seconds, 1e-6))


def _restart(policy: RestartPolicy, oneshot: bool, out: Directives) -> None:
    out.service.append(f"Restart={_RESTART[policy.policy]}")
    extra_success = sorted(code for code in policy.success_exit_codes if code != 0)
    if extra_success:
        out.service.append(f"SuccessExitStatus={' '.join(map(str, extra_success))}")
    force = [] if 0 in policy.success_exit_codes else ["0"]
    if policy.policy == "on-failure":
        force += _CLEAN_SIGNALS
    if force and oneshot:
        # systemd refuses RestartForceExitStatus= on Type=oneshot.
        why = f"restart after {' '.join(force)}: systemd takes them for success in a one-shot job"
        _approximated(out, why, note=True)
    elif force:
        out.service.append(f"RestartForceExitStatus={' '.join(force)}")
    if policy.prevent_exit_codes:
        codes = " ".join(map(str, sorted(policy.prevent_exit_codes)))
        out.service.append(f"RestartPreventExitStatus={codes}")
    if policy.policy != "never":
        _backoff(policy.backoff, out)
    _start_limit(policy, out)


def _backoff(backoff: Backoff, out: Directives) -> None:
    out.service.append(f"RestartSec={time_span(backoff.initial)}")
    steps = _steps(backoff)
    if steps:
        # systemd 254 and later: the delay grows geometrically from RestartSec= to
        # RestartMaxDelaySec= over RestartSteps= restarts; older ones ignore both keys.
        factor = (backoff.max / backoff.initial) ** (1 / steps)
        out.service.append(
            "# RestartSteps= and RestartMaxDelaySec= need systemd 254 or later: an older one"
            " ignores them and restarts after RestartSec= every time"
        )
        out.service.append(f"RestartSteps={steps}")
        out.service.append(f"RestartMaxDelaySec={time_span(backoff.max)}")
        if not math.isclose(factor, backoff.factor, rel_tol=1e-9):
            out.service.append(
                f"# backoff.factor = {backoff.factor:g}: here x{factor:.4g} per restart,"
                f" to reach backoff.max in whole steps"
            )
    left_out = []
    if backoff.jitter:
        left_out.append(f"backoff.jitter = {backoff.jitter:g}: systemd waits exactly")
    left_out.append(
        f"backoff.reset_after = {backoff.reset_after:g}: systemd starts the delays afresh only"
        " when the unit is started by hand"
    )
    for why in left_out:
        out.service.append(f"# Approximated: {why}")


def _steps(backoff: Backoff) -> int:
    if backoff.factor <= 1 or backoff.max <= backoff.initial or backoff.initial <= 0:
        return 0
    return max(1, round(math.log(backoff.max / backoff.initial, backoff.factor)))


def _start_limit(policy: RestartPolicy, out: Directives) -> None:
    limit = policy.start_limit
    if policy.policy == "never" or limit.interval == 0:
        # No automatic restarts, or no window: the supervisor never limits them.
        out.unit.append("StartLimitIntervalSec=0")
        return
    # systemd counts starts, the first one too; the supervisor counts restarts.
    out.unit.append(f"StartLimitIntervalSec={time_span(limit.interval)}")
    out.unit.append(f"StartLimitBurst={limit.burst + 1}")
    out.unit.append(
        f"# Approximated: start_limit = {limit.burst} restarts in {limit.interval:g}s"
        " (a sliding window); systemd's window is fixed and counts starts by hand too"
    )


def _unmapped(settings: ServiceSettings, out: Directives) -> None:
    for role, probe in (("readiness", settings.readiness), ("liveness", settings.liveness)):
        if probe is not None:
            _approximated(out, _probe_note(role, probe.kind, settings), note=True)
    if settings.critical:
        why = "critical = true: systemd does not stop the rest of the stack when it fails for good"
        _approximated(out, why, note=True)
    if settings.stderr == "separate":
        _approximated(out, 'stderr = "separate": both streams go to the journal', note=True)
    if settings.log_max_bytes is not None or settings.log_backups is not None:
        _approximated(out, "log_max_bytes/log_backups: the journal rotates output", note=True)


def _probe_note(role: str, kind: str, settings: ServiceSettings) -> str:
    # The kind only: a template unit stands for processes probed at different {port}s.
    what = f"{role} probe ({kind}): systemd runs no probes"
    if role == "liveness":
        return f"{what}; only WatchdogSec= fails a process that hangs"
    if settings.notify:
        return f"{what}; the process is started at READY=1"
    return f"{what}; the process counts as started once it is executed"


def _approximated(out: Directives, why: str, *, note: bool) -> None:
    out.service.append(f"# Approximated: {why}")
    if note:
        out.notes.append(why)
