"""Every table of transitions in the documentation (README.md and docs/: the guide's copy and the
generated reference alike) is `policy.states.TRANSITIONS`, edge for edge and word for word, and
every state has its row, so the documentation cannot drift from what the state-machine tests hold
the code to."""

from __future__ import annotations

import re
from pathlib import Path

from supervisor.policy.states import TRANSITIONS, State
from tests.support.docblocks import markdown_files

# A state in a table cell: `running`, [`running`](#state-running) or <a id=...></a>`running`.
_STATE = r"(?:<a id=\"[^\"]*\"></a>)?\[?`(\w+)`(?:\]\([^)]*\))?"
_TRANSITION = re.compile(rf"^\| {_STATE} \| {_STATE} \| (.+) \|$")
_STATE_ROW = re.compile(rf"^\| {_STATE} \|")
_NAMES = {str(state) for state in State}


def documented_transitions(page: Path) -> dict[tuple[str, str], str]:
    return {
        (match[1], match[2]): match[3]
        for line in page.read_text().splitlines()
        if (match := _TRANSITION.match(line)) and {match[1], match[2]} <= _NAMES
    }


def test_every_table_of_transitions_lists_each_and_no_other():
    in_code = {
        (str(before), str(after)): why
        for before, edges in TRANSITIONS.items()
        for after, why in edges.items()
    }
    copies = {page: found for page in markdown_files() if (found := documented_transitions(page))}
    assert copies, "the documentation has a table of transitions"
    for page, found in copies.items():
        assert found == in_code, page


def test_every_state_has_its_row_and_leads_somewhere():
    rows = {
        match[1]
        for page in markdown_files()
        for line in page.read_text().splitlines()
        if (match := _STATE_ROW.match(line))
    }
    for state in State:
        assert str(state) in rows, f"no row documents the state {state}"
        assert TRANSITIONS[state], f"{state} is a dead end"
