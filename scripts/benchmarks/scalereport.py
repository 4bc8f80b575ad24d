"""The report of `scripts/bench scale`: one table of every peer at every N, each figure with its
ratio against the bare loop at the same N, the targets ours is held to, and the same figures as
JSON. Only reads results; the measuring is `scale`'s."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from benchmarks.processes import CPU_METHOD
from benchmarks.report import (
    fmt_ms,
    host_facts,
    host_title,
    median,
    p90,
    peer_notes,
    ratio,
    verdict,
    with_ratio,
)
from benchmarks.settings import Settings

if TYPE_CHECKING:
    from benchmarks.scale import ScaleResult, ScaleRun

# The targets (reported, not asserted): ratios against the bare loop at the same N.
TARGET_BRINGUP_RATIO = 1.2  # at N=1,000
TARGET_STOP_RATIO = 1.5  # at N=100 and N=1,000
TARGET_RESTART_RATIO = 1.15  # p50 at N=1,000
TARGET_RSS_RATIO = 2.0  # at N=1,000
TARGET_STATUS_MS = 50.0  # a `supervisor status` subprocess at N=1,000
TARGET_N = 1000


def numbers(result: ScaleResult) -> dict[str, float | None]:
    """The figures of one peer at one N: medians of the rounds and of the status calls."""
    label = str(result.count)
    return {
        "bringup_ms": median(result.bringup_ms.get(label, [])),
        "stop_ms": median(result.stop_ms.get(label, [])),
        "rss_mib": result.rss_mib,
        "idle_cpu_pct": result.idle_cpu_pct,
        "restart_p50_ms": median(result.restart_ms),
        "restart_p90_ms": p90(result.restart_ms),
        "status_ms": median(result.status_ms),
        "status_json_ms": median(result.status_json_ms),
        "status_json_bytes": result.status_json_bytes,
    }


RATIOS = ("bringup_ms", "stop_ms", "rss_mib", "restart_p50_ms", "restart_p90_ms")


def ratios(result: ScaleResult, floor: ScaleResult | None) -> dict[str, float | None]:
    mine, base = numbers(result), numbers(floor) if floor else {}
    return {key: ratio(mine[key], base.get(key)) for key in RATIOS}


def floor_of(run: ScaleRun) -> ScaleResult | None:
    return next((result for result in run.results if result.name == "bare"), None)


def fmt_mib(value: float | None, floor: float | None) -> str:
    if value is None:
        return "-"
    factor = ratio(value, floor)
    return f"{value:.1f}" + (f" ({factor:.2f}x)" if factor is not None else "")


def fmt_cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def table_row(result: ScaleResult, floor: ScaleResult | None) -> str:
    mine, base = numbers(result), numbers(floor) if floor else {}
    if result.skipped:
        return f"| {result.count} | {result.title} | skipped: {result.skipped} |||||||| "
    size = mine["status_json_bytes"]
    return (
        f"| {result.count} | {result.title} "
        f"| {with_ratio(mine['bringup_ms'], base.get('bringup_ms'))} "
        f"| {with_ratio(mine['stop_ms'], base.get('stop_ms'))} "
        f"| {fmt_mib(mine['rss_mib'], base.get('rss_mib'))} "
        f"| {fmt_cpu(mine['idle_cpu_pct'])} "
        f"| {with_ratio(mine['restart_p50_ms'], base.get('restart_p50_ms'))} "
        f"| {fmt_ms(mine['status_ms'])} | {fmt_ms(mine['status_json_ms'])} "
        f"| {'-' if size is None else f'{size / 1024:.0f} KiB'} |"
    )


def target_cells(runs: list[ScaleRun], name: str) -> list[str]:
    """The verdicts of one of ours' shapes; `-` where its N was not run or failed."""
    at: dict[int, tuple[dict[str, float | None], dict[str, float | None]]] = {}
    for run in runs:
        for result in run.results:
            if result.name == name and not result.skipped:
                at[run.count] = (numbers(result), ratios(result, floor_of(run)))

    def against(count: int, key: str, limit: float) -> str:
        factor = at[count][1][key] if count in at else None
        return "-" if factor is None else verdict(factor <= limit, f"{factor:.2f}x")

    status = at[TARGET_N][0]["status_ms"] if TARGET_N in at else None
    idle = [mine["idle_cpu_pct"] for mine, _ in at.values() if mine["idle_cpu_pct"] is not None]
    return [
        against(TARGET_N, "bringup_ms", TARGET_BRINGUP_RATIO),
        against(100, "stop_ms", TARGET_STOP_RATIO),
        against(TARGET_N, "stop_ms", TARGET_STOP_RATIO),
        against(TARGET_N, "restart_p50_ms", TARGET_RESTART_RATIO),
        against(TARGET_N, "rss_mib", TARGET_RSS_RATIO),
        "-" if status is None else verdict(status <= TARGET_STATUS_MS, fmt_ms(status)),
        "-" if not idle else verdict(max(idle) == 0, f"max {max(idle):.4f} %"),
    ]


def report(runs: list[ScaleRun], settings: Settings, limits: dict[str, int]) -> str:
    raised = (
        f"raised from {limits['soft_before']} to {limits['soft']}"
        if limits["soft_before"] != limits["soft"]
        else f"{limits['soft']}, already the hard limit"
    )
    lines = [
        host_title("Supervisor at scale"),
        "",
        f"Open-file limit (soft RLIMIT_NOFILE, inherited by every daemon): {raised}. "
        f"{settings.rounds} round(s) of bring-up/stop (medians); idle window "
        f"{settings.idle_seconds:g} s; restart p50 over up to {settings.kills} kills of one "
        "child while the others run; status: median wall time of a `supervisor status` "
        "subprocess (client start-up included). Ratios in parentheses are against the bare loop "
        "at the same N.",
        "",
        "| N | peer | bring-up | stop | RSS (MiB) | idle CPU (% core) | restart p50 "
        "| status | status --json | JSON size |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        floor = floor_of(run)
        lines += [table_row(result, floor) for result in run.results]
    ours = sorted({r.name for run in runs for r in run.results if r.name != "bare"})
    lines += [
        "",
        f"Targets (reported, not asserted): bring-up {TARGET_N} <= {TARGET_BRINGUP_RATIO}x, stop "
        f"100 and {TARGET_N} <= {TARGET_STOP_RATIO}x, restart p50 at {TARGET_N} <= "
        f"{TARGET_RESTART_RATIO}x, RSS at {TARGET_N} <= {TARGET_RSS_RATIO:g}x the bare loop's, "
        f"status at {TARGET_N} <= {TARGET_STATUS_MS:g} ms, idle CPU 0 at every N.",
        "",
        f"| peer | bring-up {TARGET_N} | stop 100 | stop {TARGET_N} | restart p50 {TARGET_N} "
        f"| RSS {TARGET_N} | status {TARGET_N} | idle CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    titles = {r.name: r.title for run in runs for r in run.results}
    for name in ours:
        lines.append(f"| {titles[name]} | " + " | ".join(target_cells(runs, name)) + " |")
    lines += ["", "Notes:", f"- idle CPU is measured with {CPU_METHOD}."]
    for run in runs:
        lines.append(
            f"- N={run.count}: load average {run.load_before} before, {run.load_after} after."
        )
        for result in run.results:
            extra = [f"containment: {result.containment}"] if result.containment else []
            if result.restart_ms:
                extra.append(f"restart p90 {fmt_ms(p90(result.restart_ms))}")
            if result.helper_count:
                extra.append(
                    f"{result.helper_count} helper process(es) ({', '.join(result.helper_names)}):"
                    f" RSS {result.helpers_rss_mib:.1f} MiB"
                )
            if result.leftovers_after_stop:
                extra.append(f"{result.leftovers_after_stop} processes outlived a stop by 1 s")
            lines += ["  " + line for line in peer_notes(result, extra)]
    return "\n".join(lines)


def payload(
    runs: list[ScaleRun], settings: Settings, limits: dict[str, int], seconds: float
) -> dict[str, Any]:
    return {
        "host": host_facts(),
        "settings": {**asdict(settings), "cache_dir": str(settings.cache_dir)},
        "open_files": limits,
        "cpu_method": CPU_METHOD,
        "seconds": seconds,
        "runs": [
            {
                "count": run.count,
                "load_before": run.load_before,
                "load_after": run.load_after,
                "peers": [
                    {
                        **asdict(result),
                        "summary": numbers(result),
                        "ratios": ratios(result, floor_of(run)),
                    }
                    for result in run.results
                ],
            }
            for run in runs
        ],
    }
