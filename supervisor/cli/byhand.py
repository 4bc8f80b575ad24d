"""`python -m supervisor.cli.byhand BINARY FILE [--picked=ATTRIBUTE=VALUE]`: the part of a
binary started by hand that reads services.toml (see docs/guides/processes.md).

`python -m supervisor.cmd --binary NAME` without a spec in its environment execs this module:
the child side never reads the services file (that is the supervisor's side, and would load the
whole configuration package into every service process).  Here the file is read and the
process picked; then the same process becomes the service, exec'd with its spec as the
supervisor would start it, or, when the file has several processes of the binary and none was
picked, becomes `supervisor run --only BINARY`, as Cinder forks one child per backend.
Every refusal is one line on stderr, prefixed with the binary's name, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from supervisor import config
from supervisor.shared.exits import EXIT_USAGE
from supervisor.shared.servicespec import ENV_VAR


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m supervisor.cli.byhand")
    parser.add_argument("binary")
    parser.add_argument("config")
    parser.add_argument(
        "--picked",
        type=lambda text: text.partition("="),
        metavar="ATTRIBUTE=VALUE",
        help="the ServiceSpec attribute the binary's flag picked, e.g. process_number=2",
    )
    args = parser.parse_args(argv)
    binary, path = args.binary, args.config
    try:
        plan = config.load(path)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    processes = [p for p in plan.processes if p.service == binary and p.spec is not None]
    if not processes:
        print(f"{binary}: {path} defines no manager service [services.{binary}]", file=sys.stderr)
        return EXIT_USAGE
    if args.picked is not None:
        attribute, _, wanted = args.picked
        flag = "--" + attribute.replace("_", "-")  # --backend, --process-number
        known = [str(getattr(p.spec, attribute)) for p in processes]
        processes = [p for p, value in zip(processes, known, strict=True) if value == wanted]
        if not processes:
            print(
                f"{binary}: no {flag} {wanted} in {path}; known: {', '.join(known)}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    if len(processes) == 1:
        _become(processes[0])
    # Cinder forks a child per backend or worker here; that is the supervisor's job.
    from supervisor.cli.main import main as supervisor_main

    return supervisor_main(["run", "-c", path, "--only", binary])


def _become(process: config.ProcessPlan) -> NoReturn:
    """Exec the process as the supervisor would start it: its argv, its spec."""
    assert process.spec is not None
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(process.argv[0], process.argv, {**os.environ, ENV_VAR: process.spec.to_env()})


if __name__ == "__main__":
    raise SystemExit(main())
