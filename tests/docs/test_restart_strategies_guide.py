"""The restart strategies' five-minute walk-through says what the code does: its services.toml
is the example's, and its `supervisor simulate` output is what the simulator prints for it (the
lines shown, in order; `...` stands for lines left out)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.docblocks import REPO, blocks

PAGE = REPO / "docs" / "guides" / "testing-restart-policies.md"
EXAMPLE = REPO / "examples" / "restart-strategies"


def _walkthrough() -> list:
    text = PAGE.read_text()
    start = text.index("\n## Restart strategies in five minutes\n")
    first_line = text[:start].count("\n") + 2
    return [block for block in blocks(PAGE) if block.line > first_line]


def test_the_walkthroughs_file_is_the_examples():
    toml = next(block for block in _walkthrough() if block.info == "toml")
    example = [
        line
        for line in (EXAMPLE / "services.toml").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert list(toml.lines) == example[example.index("[services.db]") :]


def test_the_walkthroughs_simulation_is_what_the_simulator_prints():
    shown = next(
        block
        for block in _walkthrough()
        if any(line.startswith("$ supervisor simulate") for line in block.lines)
    )
    command = next(line for line in shown.lines if line.startswith("$ supervisor simulate"))
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "supervisor",
            "simulate",
            "--service",
            "api",
            "--crashes",
            "every 2s",
        ],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert command == '$ supervisor simulate --service api --crashes "every 2s"'
    expected = [line for line in shown.lines[shown.lines.index(command) + 1 :] if line != "   ..."]
    position = 0
    for line in expected:
        assert line in printed[position:], f"not printed (in this order): {line!r}"
        position = printed.index(line, position) + 1
