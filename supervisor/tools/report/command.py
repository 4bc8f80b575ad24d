"""`supervisor report`: the timeline of the last run (or a chosen one) of a stack's event log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from supervisor import config
from supervisor.daemon.events import EVENTS_FILE
from supervisor.shared.exits import EXIT_FAILED, EXIT_OK
from supervisor.tools.analyze import analyze
from supervisor.tools.analyzeview import add_log_arguments, html_section, load_run
from supervisor.tools.report.html import render_html
from supervisor.tools.report.text import DEFAULT_WIDTH, render_text
from supervisor.tools.report.timeline import load_timeline

EXIT_NO_LOG = EXIT_FAILED


def add_report_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page")
    add_log_arguments(sub)
    sub.add_argument(
        "--width", type=int, default=DEFAULT_WIDTH, metavar="COLUMNS", help="of the time axis"
    )


def run_report(args: argparse.Namespace) -> int:
    try:
        path = Path(args.events) if args.events else config.state_dir_of(args.config) / EVENTS_FILE
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_NO_LOG
    try:
        timeline = load_timeline(path, args.run)
    except FileNotFoundError:
        print(f"supervisor report: no event log at {path}", file=sys.stderr)
        return EXIT_NO_LOG
    except IndexError as error:
        print(f"supervisor report: {error}", file=sys.stderr)
        return EXIT_NO_LOG
    print(render_text(timeline, max(args.width, 10)))
    if args.html:
        bring_up = html_section(analyze(load_run(path, args.run)[0]))
        Path(args.html).write_text(render_html(timeline, bring_up), encoding="utf-8")
        print(f"\nwrote {args.html}")
    return EXIT_OK
