"""Running one service as the whole process: title, logging, signals and the exit status.

The exit status is what the supervisor's restart policy reads:
  0  stopped cleanly on SIGTERM or SIGINT;
  1  start() raised (init_host failed, for one): worth a restart;
  2  any other unhandled exception;
  78 (exits.EXIT_CONFIG) the manager cannot be found, its constructor raised (Cinder skips
     such a backend and never retries it), or an option is invalid: no restart can heal that.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from setproctitle import setproctitle

from supervisor.db.settings import InvalidOption
from supervisor.runtime.faultlistener import (
    RAISE_SIGNAL,
    FaultListener,
    InjectedFault,
    apply_start_fault,
)
from supervisor.runtime.loader import ManagerLoadError
from supervisor.runtime.logs import configure_logging
from supervisor.runtime.sdnotify import Notifier
from supervisor.runtime.service import ManagerConstructionError, Service
from supervisor.runtime.signals import SignalQueue
from supervisor.shared.exits import EXIT_CONFIG, EXIT_OK, EXIT_START_FAILED, EXIT_UNHANDLED
from supervisor.shared.servicespec import ServiceSpec
from supervisor.shared.topic import MissingManagerOption

log = structlog.get_logger()


def run_service(spec: ServiceSpec, binary: str, manager_kwargs: Mapping[str, Any]) -> int:
    """Serve `spec` in this process until SIGTERM or SIGINT; return the exit status.

    `manager_kwargs` are what this binary adds to the manager's constructor arguments (Cinder:
    the volume backend as `service_name`, backup's `process_number`).
    """
    configure_logging(debug=bool(spec.options.get("debug")))
    setproctitle(spec.title(binary))
    notifier = Notifier.from_environ()
    try:
        return _serve(spec, binary, manager_kwargs, notifier)
    except Exception:
        log.exception("unhandled exception", binary=binary, host=spec.host)
        return EXIT_UNHANDLED
    finally:
        notifier.close()


def _serve(
    spec: ServiceSpec, binary: str, manager_kwargs: Mapping[str, Any], notifier: Notifier
) -> int:
    try:
        service = Service.create(
            binary=binary,
            host=spec.host,
            process=spec.process,
            options=spec.options,
            prefix=spec.prefix,
            topic=spec.topic,
            manager=spec.manager,
            cluster=spec.cluster,
            notifier=notifier,
            state_dir=spec.state_dir,
            **manager_kwargs,
        )
    except (MissingManagerOption, ManagerLoadError, InvalidOption) as error:
        print(f"{binary}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except ManagerConstructionError:
        log.exception("cannot build the manager; not retrying", binary=binary, host=spec.host)
        return EXIT_CONFIG
    apply_start_fault(service.manager, os.environ)
    FaultListener.from_environ(service.manager)
    # Installed before start() so that a stop requested during a long init_host is queued and
    # honoured as soon as start() returns.
    with SignalQueue(signal.SIGTERM, signal.SIGINT, signal.SIGHUP, RAISE_SIGNAL) as signals:
        try:
            service.start()
        except Exception:
            log.exception("Error starting service", binary=binary, host=spec.host)
            return EXIT_START_FAILED
        for signum in signals:
            log.info("signal received", signal=signal.Signals(signum).name)
            if signum == RAISE_SIGNAL:
                raise InjectedFault("injected fault: an exception in the service loop")
            if signum != signal.SIGHUP:
                break
            _reset(service)
        service.stop()
    return EXIT_OK


def _reset(service: Service) -> None:
    try:
        service.reset()
    except Exception:
        log.exception("reset failed; serving on with the previous state")
