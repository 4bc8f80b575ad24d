"""The README's table of transitions is `policy.states.TRANSITIONS`, edge for edge and word for
word, so the documentation cannot drift from what the state-machine tests hold the code to."""

from __future__ import annotations

import re
from pathlib import Path

from supervisor.policy.states import TRANSITIONS, State

README = Path(__file__).resolve().parents[2] / "README.md"
_ROW = re.compile(r"^\| `(\w+)` \| `(\w+)` \| (.+) \|$")


def documented_transitions() -> dict[tuple[str, str], str]:
    section = README.read_text().split("\n## States\n", 1)[1].split("\n## ", 1)[0]
    return {
        (match[1], match[2]): match[3]
        for line in section.splitlines()
        if (match := _ROW.match(line))
    }


def test_the_readme_lists_every_transition_and_no_other():
    in_code = {
        (str(before), str(after)): why
        for before, edges in TRANSITIONS.items()
        for after, why in edges.items()
    }
    assert documented_transitions() == in_code


def test_every_state_has_its_row_and_leads_somewhere():
    section = README.read_text().split("\n## States\n", 1)[1].split("\n## ", 1)[0]
    for state in State:
        assert f"| `{state}` |" in section, state
        assert TRANSITIONS[state], f"{state} is a dead end"
