"""docs/reference/states.md: every state, every transition and their diagram, from
`policy.states` (the table the state-machine tests hold every `state` event to)."""

from __future__ import annotations

from supervisor.policy.states import FINAL_STATES, MEANINGS, TRANSITIONS, State
from supervisor.tools.docgen.markdown import anchor, code, page, table

PATH = "docs/reference/states.md"


def render() -> str:
    return page(
        "States reference",
        "Every state a supervised process can be in, as `supervisor status` shows it, and every"
        " transition between them: the supervisor makes these and no others (its"
        " state-machine tests hold every `state` event to this table). A process starts"
        " `stopped`.",
        "## Diagram",
        _diagram(),
        "## States",
        "A *settled* state lasts until somebody acts (an operator, a reload, the group's stop):"
        " nothing in the supervisor moves a process out of it by itself.",
        table(
            ("state", "settled", "meaning"),
            (
                (
                    anchor(f"state-{state}") + code(str(state)),
                    "yes" if state in FINAL_STATES else "",
                    MEANINGS[state],
                )
                for state in State
            ),
        ),
        "## Transitions",
        table(
            ("from", "to", "when"),
            (
                (f"[{code(str(before))}](#state-{before})", code(str(after)), why)
                for before, edges in TRANSITIONS.items()
                for after, why in edges.items()
            ),
        ),
    )


def _diagram() -> str:
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {State.STOPPED}"]
    lines.extend(
        f"    {before} --> {after}" for before, edges in TRANSITIONS.items() for after in edges
    )
    lines.append("```")
    return "\n".join(lines)
