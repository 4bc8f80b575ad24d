"""The report: every peer's figures in tables, with ratios against the bare loop (for the flood,
against the quiet run), the targets ours is held to, and notes on how each peer ran."""

from __future__ import annotations

import math
import os
import platform
import statistics
from typing import Any

from benchmarks.measure import SMALL_STACK, FloodResult, PeerResult, Result
from benchmarks.processes import CPU_METHOD
from benchmarks.settings import MB, MIB, Settings
from benchmarks.workload import FLOOD_BLOCK, FLOOD_LINE, FLOOD_LOG_BACKUPS, FLOOD_LOG_MAX_BYTES

# The targets our supervisor is held to; ratios are against the bare loop.
TARGET_RESTART_RATIO = 1.2
TARGET_BRINGUP_RATIO = 1.2
TARGET_STOP_RATIO = 2.0
TARGET_IDLE_CPU_PCT = 0.02
TARGET_RSS_MIB = 20.0


def host_facts() -> dict[str, Any]:
    """The machine a run's figures come from, for its JSON."""
    return {
        "node": platform.node(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def host_title(what: str) -> str:
    """The report's first line: what was measured, and on what."""
    return (
        f"# {what} — {platform.node()}, {os.cpu_count()} cores, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:.0f} ms"


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return value / floor


def with_ratio(value: float | None, floor: float | None) -> str:
    factor = ratio(value, floor)
    text = fmt_ms(value)
    return f"{text} ({factor:.2f}x)" if factor is not None else text


def survivors_text(result: PeerResult) -> str:
    if result.survivor_children is None or result.survivor_grandchildren is None:
        return "-"
    total = result.survivor_children + result.survivor_grandchildren
    text = f"{total}"
    if total:
        text += f" ({result.survivor_children}+{result.survivor_grandchildren})"
    return text


def spread(samples: list[float]) -> str:
    return f"min/max {fmt_ms(min(samples))}/{fmt_ms(max(samples))} over {len(samples)} kills"


def peer_notes(result: Result, extra: list[str]) -> list[str]:
    """The report's notes on one peer: how it ran, `extra` facts, its own notes and errors."""
    prefix = f"- {result.title}"
    if result.skipped:
        return [f"{prefix}: skipped — {result.skipped}"]
    lines = [f"{prefix} ({result.version}): {result.configuration}."]
    if extra:
        lines.append("  " + "; ".join(extra) + ".")
    lines += [f"  {note}." for note in result.notes]
    lines += [f"  ERROR: {error}" for error in result.errors]
    return lines


def key_numbers(result: PeerResult, many: int) -> dict[str, float | None]:
    return {
        "restart_p50": median(result.restart_ms),
        "restart_p90": p90(result.restart_ms),
        "bringup_3": median(result.bringup_ms.get(str(SMALL_STACK), [])),
        "bringup_many": median(result.bringup_ms.get(str(many), [])),
        "stop_3": median(result.stop_ms.get(str(SMALL_STACK), [])),
        "stop_many": median(result.stop_ms.get(str(many), [])),
    }


def verdict(ok: bool | None, text: str) -> str:
    if ok is None:
        return "-"
    return f"{'pass' if ok else 'FAIL'} {text}"


def report(results: list[PeerResult], settings: Settings) -> str:
    many = settings.many
    by_name = {result.name: result for result in results}
    floor = key_numbers(by_name["bare"], many) if "bare" in by_name else {}
    lines = [
        "## Restart, bring-up, stop, idle cost and orphans",
        "",
        f"{settings.kills} kills (each child at least {settings.min_age:g} s old, then a random "
        f"pause of up to {settings.kill_jitter:g} s or the peer's poll period), "
        f"{settings.rounds} round(s) of bring-up/stop (medians), idle window "
        f"{settings.idle_seconds:g} s; ratios in parentheses are against the bare loop.",
        "",
        f"| peer | restart p50 | restart p90 | bring-up 3 | bring-up {many} | stop {many} "
        f"| idle CPU (% core) | RSS (MiB) | survivors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.skipped:
            lines.append(f"| {result.title} | skipped: {result.skipped} |||||||| ")
            continue
        numbers = key_numbers(result, many)
        cpu = f"{result.idle_cpu_pct:.4f}" if result.idle_cpu_pct is not None else "-"
        rss = f"{result.rss_mib:.1f}" if result.rss_mib is not None else "-"
        lines.append(
            f"| {result.title} "
            f"| {with_ratio(numbers['restart_p50'], floor.get('restart_p50'))} "
            f"| {with_ratio(numbers['restart_p90'], floor.get('restart_p90'))} "
            f"| {with_ratio(numbers['bringup_3'], floor.get('bringup_3'))} "
            f"| {with_ratio(numbers['bringup_many'], floor.get('bringup_many'))} "
            f"| {with_ratio(numbers['stop_many'], floor.get('stop_many'))} "
            f"| {cpu} | {rss} | {survivors_text(result)} |"
        )
    lines += [
        "",
        f"Targets: restart p50 <= {TARGET_RESTART_RATIO}x bare, bring-up {many} <= "
        f"{TARGET_BRINGUP_RATIO}x bare, stop {many} <= {TARGET_STOP_RATIO}x bare, idle CPU < "
        f"{TARGET_IDLE_CPU_PCT} % of a core, RSS < {TARGET_RSS_MIB:g} MiB, zero survivors.",
        "",
        f"| peer | restart p50 | bring-up {many} | stop {many} | idle CPU | RSS | survivors |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.skipped or result.name == "bare":
            continue
        numbers = key_numbers(result, many)
        cells = []
        for key, limit in (
            ("restart_p50", TARGET_RESTART_RATIO),
            ("bringup_many", TARGET_BRINGUP_RATIO),
            ("stop_many", TARGET_STOP_RATIO),
        ):
            factor = ratio(numbers[key], floor.get(key))
            cells.append(verdict(factor <= limit, f"{factor:.2f}x") if factor is not None else "-")
        cpu, rss = result.idle_cpu_pct, result.rss_mib
        cells.append(verdict(cpu < TARGET_IDLE_CPU_PCT, f"{cpu:.4f} %") if cpu is not None else "-")
        cells.append(verdict(rss < TARGET_RSS_MIB, f"{rss:.1f} MiB") if rss is not None else "-")
        if result.survivor_children is None or result.survivor_grandchildren is None:
            cells.append("-")
        else:
            total = result.survivor_children + result.survivor_grandchildren
            cells.append(verdict(total == 0, str(total)))
        lines.append(f"| {result.title} | " + " | ".join(cells) + " |")
    lines += ["", "Notes:", f"- idle CPU is measured with {CPU_METHOD}."]
    for result in results:
        numbers = key_numbers(result, many)
        extra = [f"stop of {SMALL_STACK}: {fmt_ms(numbers['stop_3'])}"]
        if result.restart_ms:
            extra.append(f"restart {spread(result.restart_ms)}")
        if result.helper_count:
            extra.append(
                f"{result.helper_count} helper process(es) beside the daemon "
                f"({', '.join(result.helper_names)}): "
                f"RSS {result.helpers_rss_mib:.1f} MiB in total "
                f"(PSS {result.helpers_pss_mib:.1f} MiB), "
                f"{result.idle_helpers_cpu_pct or 0:.4f} % idle CPU"
            )
        if result.survivor_helpers:
            extra.append(f"{result.survivor_helpers} helper(s) also survived the daemon's SIGKILL")
        lines += peer_notes(result, extra)
    return "\n".join(lines)


def flood_numbers(result: FloodResult) -> dict[str, float | None]:
    numbers = {
        "quiet_p50": median(result.quiet_ms),
        "flood_p50": median(result.flood_ms),
        "quiet_p90": p90(result.quiet_ms),
        "flood_p90": p90(result.flood_ms),
    }
    seconds = result.flood_seconds
    return {
        **numbers,
        "p50_ratio": ratio(numbers["flood_p50"], numbers["quiet_p50"]),
        "p90_ratio": ratio(numbers["flood_p90"], numbers["quiet_p90"]),
        "flood_mb_per_s": sum(result.flood_bytes) / seconds / MB if seconds else None,
    }


def report_flood(results: list[FloodResult], settings: Settings) -> str:
    lines = [
        "## Restart latency beside an output flood",
        "",
        f"Each peer supervises {SMALL_STACK} cheap children set up as for the restart test, "
        f"first alone (quiet), then beside {settings.floods} flood process(es), each writing "
        f"{FLOOD_BLOCK // 1024} KiB blocks of {FLOOD_LINE}-byte lines to stdout as fast as the "
        f"peer reads them into its log files (rotated at {FLOOD_LOG_MAX_BYTES // MIB} MiB, "
        f"{FLOOD_LOG_BACKUPS} backups). Up to {settings.kills} kills per run, within "
        f"{settings.flood_budget:g} s, each child at least {settings.min_age:g} s old, then a "
        f"random pause of up to {settings.kill_jitter:g} s or the peer's poll period. Every "
        "daemon's own stdout and stderr go to /dev/null: for ours that is the console, which "
        "repeats every line of output with a prefix. Ratios in parentheses are flood against "
        "quiet. The flood's rate counts the bytes that reached the log files while the kills "
        "ran (block markers read back from the files), in MB/s (10^6 bytes); daemon CPU is in "
        "% of one core over that window, all its threads.",
        "",
        "| peer | restart p50 quiet | restart p50 flood | restart p90 quiet "
        "| restart p90 flood | flood into logs | daemon CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.skipped:
            lines.append(f"| {result.title} | skipped: {result.skipped} |||||| ")
            continue
        numbers = flood_numbers(result)
        rate, cpu = numbers["flood_mb_per_s"], result.flood_daemon_cpu_pct
        lines.append(
            f"| {result.title} | {fmt_ms(numbers['quiet_p50'])} "
            f"| {with_ratio(numbers['flood_p50'], numbers['quiet_p50'])} "
            f"| {fmt_ms(numbers['quiet_p90'])} "
            f"| {with_ratio(numbers['flood_p90'], numbers['quiet_p90'])} "
            f"| {f'{rate:.0f} MB/s' if rate is not None else '-'} "
            f"| {f'{cpu:.0f} %' if cpu is not None else '-'} |"
        )
    lines += ["", "Notes:"]
    for result in results:
        extra = [
            f"{what} restart {spread(samples)}"
            for what, samples in (("quiet", result.quiet_ms), ("flood", result.flood_ms))
            if samples
        ]
        if result.flood_seconds:
            rates = ", ".join(
                f"{size / result.flood_seconds / MB:.0f}" for size in result.flood_bytes
            )
            extra.append(f"MB/s per flood process: {rates} over {result.flood_seconds:.1f} s")
        lines += peer_notes(result, extra)
    return "\n".join(lines)
