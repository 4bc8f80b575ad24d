"""Unit-file quoting and templates, fuzzed: whatever a services file can hold reads back, through
a reader of systemd's syntax written apart from the writer, as the same text; a template's `%i`
gives back each instance's own value or no template is made."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervisor.tools.exporters.systemdsyntax import (
    environment_word,
    exec_line,
    expand_instance,
    templated,
    time_span,
)
from tests.tools.exporters.systemd_unitfile import UnitFile, specifiers, split_words

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What exec can carry: any text without NUL (TOML strings are valid Unicode).
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\0"))
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True)


def _read_exec(line: str) -> list[str]:
    return UnitFile(Path("fuzz.service"), {"Service": [("ExecStart", line)]}).exec_start()


@FUZZ
@given(st.lists(text, min_size=1, max_size=5))
def test_an_argv_reads_back_from_exec_start(argv: list[str]) -> None:
    assert _read_exec(exec_line(argv)) == argv


@FUZZ
@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), text)
def test_an_assignment_reads_back_from_environment(name: str, value: str) -> None:
    assert split_words(specifiers(environment_word(name, value), "")) == [f"{name}={value}"]


@FUZZ
@given(st.lists(names, min_size=1, max_size=4, unique=True), st.lists(text, max_size=4))
def test_a_template_gives_back_every_instance_or_is_not_made(
    instances: list[str], pieces: list[str]
) -> None:
    # Values built from one template, with text that may hold the instances too.
    values = [" ".join([*pieces, instance]) for instance in instances]
    template = templated(values, instances)
    if template is not None:
        assert [expand_instance(template, i) for i in instances] == values


def test_the_instance_is_told_from_the_same_text_elsewhere() -> None:
    # cinder-backup#1 of 2 workers: "workers":2 stays, "process_number" is the instance.
    def spec(n: int) -> str:
        return json.dumps({"process": f"b#{n}", "host": "node1", "process_number": n, "workers": 2})

    template = templated([spec(1), spec(2)], ["1", "2"])
    assert template is not None
    assert expand_instance(template, "7") == json.dumps(
        {"process": "b#7", "host": "node1", "process_number": 7, "workers": 2}
    )
    # A port per worker is not the instance: no template.
    assert templated(["--port 8776", "--port 8777"], ["1", "2"]) is None
    # The same text in every process is text, even where it reads like the instance.
    assert expand_instance(templated(["lvm-1", "lvm-1"], ["lvm-1", "lvm-2"]) or "", "x") == "lvm-1"


def test_time_spans_are_exact() -> None:
    assert [time_span(s) for s in (0, 30, 0.25, 2.5, 0.0001, 86400)] == [
        "0s",
        "30s",
        "250ms",
        "2500ms",
        "100us",
        "86400s",
    ]
