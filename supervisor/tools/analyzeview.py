"""`supervisor analyze`: the bring-up of the last run (or a chosen one) as a table sorted by
blame, the critical chain, or JSON; and the same as a section of the HTML report."""

from __future__ import annotations

import argparse
import json
import sys
from html import escape
from pathlib import Path
from typing import Any

from supervisor import config
from supervisor.daemon.events import EVENTS_FILE
from supervisor.shared.exits import EXIT_FAILED, EXIT_OK
from supervisor.tools.analyze import Analysis, BringUp, analyze
from supervisor.tools.report.timeline import read_events, split_runs

EXIT_NO_LOG = EXIT_FAILED
_COLUMNS = ("PROCESS", "WAITING", "SPAWN", "READY", "@READY", "STARTS", "LAST STATE")


def add_log_arguments(sub: argparse.ArgumentParser) -> None:
    """--events and --run: which log and which of its runs (`analyze` and `report`)."""
    sub.add_argument(
        "--events", metavar="FILE", help=f"read this log instead of <state_dir>/{EVENTS_FILE}"
    )
    sub.add_argument(
        "--run", type=int, metavar="N", help="the Nth run the log holds (default: the last)"
    )


def add_analyze_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--json", action="store_true", help="print the documented JSON")
    add_log_arguments(sub)


def load_run(path: Path, run: int | None) -> tuple[list[dict[str, Any]], int, int]:
    """One run's events, which run it is and how many the log holds (the last by default).
    FileNotFoundError without a log; IndexError for a run it does not hold."""
    runs = split_runs(read_events(path))
    index = len(runs) if run is None else run
    if runs and not 1 <= index <= len(runs):
        raise IndexError(f"{path} holds {len(runs)} runs; there is no run {run}")
    return (runs[index - 1] if runs else []), index, len(runs)


def run_analyze(args: argparse.Namespace) -> int:
    try:
        path = Path(args.events) if args.events else config.state_dir_of(args.config) / EVENTS_FILE
        events, run, runs = load_run(path, args.run)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_NO_LOG
    except FileNotFoundError:
        print(f"supervisor analyze: no event log at {path}", file=sys.stderr)
        return EXIT_NO_LOG
    except IndexError as error:
        print(f"supervisor analyze: {error}", file=sys.stderr)
        return EXIT_NO_LOG
    analysis = analyze(events)
    if args.json:
        print(json.dumps(analysis_json(analysis, str(path), run, runs), indent=2))
    else:
        print(render_text(analysis, f"run {run} of {runs} in {path}"))
    return EXIT_OK


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _state(process: BringUp) -> str:
    if process.ready_at is None:
        return f"never ready ({process.state or 'no state'})"
    return "completed" if process.completed else process.state


def _row(process: BringUp) -> list[str]:
    return [
        process.name,
        _seconds(process.waiting),
        _seconds(process.spawn),
        _seconds(process.to_ready),
        _seconds(process.ready_at),
        str(process.starts),
        _state(process),
    ]


def chain_lines(analysis: Analysis) -> list[str]:
    """systemd-analyze's form: `NAME @ready +own start`, each line what the one above waited
    for."""
    lines = []
    for depth, process in enumerate(analysis.chain):
        prefix = "" if depth == 0 else "  " * (depth - 1) + "└─ "
        lines.append(
            f"{prefix}{process.name} @{_seconds(process.ready_at)} +{_seconds(process.own)}"
        )
    return lines


def render_text(analysis: Analysis, what: str) -> str:
    if not analysis.processes:
        return f"bring-up of {what}: no process started"
    rows = [list(_COLUMNS), *(_row(p) for p in analysis.blame)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    table = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    started = f", started {analysis.started:%Y-%m-%d %H:%M:%S} UTC" if analysis.started else ""
    return "\n".join(
        [
            f"bring-up of {what}{started}",
            "",
            *table,
            "",
            "critical chain (ready last, then what each waited for; @ ready, + its own start):",
            *(chain_lines(analysis) or ["(no process became ready)"]),
        ]
    )


def _process_json(process: BringUp) -> dict[str, Any]:
    return {
        "name": process.name,
        "service": process.service,
        "waiting": _rounded(process.waiting),
        "spawn": _rounded(process.spawn),
        "ready": _rounded(process.to_ready),
        "ready_at": _rounded(process.ready_at),
        "own": _rounded(process.own),
        "starts": process.starts,
        "completed": process.completed,
        "state": process.state,
        "waited_for": list(process.waited_for),
        "released_by": process.released_by,
    }


def analysis_json(analysis: Analysis, source: str, run: int, runs: int) -> dict[str, Any]:
    return {
        "source": source,
        "run": run,
        "runs": runs,
        "started": analysis.started.isoformat() if analysis.started else None,
        "processes": [_process_json(p) for p in analysis.blame],
        "critical_chain": [
            {"name": p.name, "ready_at": _rounded(p.ready_at), "own": _rounded(p.own)}
            for p in analysis.chain
        ],
    }


def html_section(analysis: Analysis) -> str:
    """The bring-up as a section of the report's HTML page (its table style)."""
    if not analysis.processes:
        return ""
    head = "".join(f"<th>{escape(c.lower())}</th>" for c in _COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in _row(p)) + "</tr>"
        for p in analysis.blame
    )
    chain = escape("\n".join(chain_lines(analysis)) or "(no process became ready)")
    return (
        '<h2 id="bring-up">Bring-up</h2><p class="meta">seconds since the run started; sorted'
        " by each process's own start (spawn and ready), as <code>supervisor analyze</code></p>"
        f'<table id="blame"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f'<h3>Critical chain</h3><pre id="critical-chain">{chain}</pre>'
    )
