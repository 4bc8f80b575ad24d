"""The supervisor's group under every sequence of operator actions, crashes, probe answers,
reloads and stops (tests/support/stackmachine.py says what is checked after each step).

Bounded here (a few thousand steps, no clock: the host is virtual); `scripts/fuzz` runs the
same machine for as long as it is asked to.  What it found is kept below as regular tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.support.stackmachine import StackMachine

EXAMPLES = int(os.environ.get("SUPERVISOR_FUZZ_EXAMPLES", "60"))
STEPS = int(os.environ.get("SUPERVISOR_FUZZ_STEPS", "50"))

TestStackMachine = StackMachine.TestCase
TestStackMachine.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
