"""The verbs' declarations are the protocol: what parse accepts, what the handlers dispatch to,
and what the reference page lists all come from `control.verbs.VERBS`."""

from __future__ import annotations

import json

import pytest

from supervisor.control.protocol import COMMANDS, BadRequest, parse
from supervisor.control.reference import markdown
from supervisor.control.verbs import BY_NAME, VERBS


def test_each_verb_is_declared_once_and_parse_knows_exactly_those():
    assert len(BY_NAME) == len(VERBS)
    assert tuple(verb.name for verb in VERBS) == COMMANDS


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: verb.name)
def test_a_field_the_verb_does_not_declare_is_refused_by_name(verb):
    line = json.dumps({"command": verb.name, "colour": "blue"}).encode()
    with pytest.raises(BadRequest) as refused:
        parse(line)
    takes = ", ".join(verb.keys) or "no fields"
    assert str(refused.value) == f"'colour': {verb.name!r} takes {takes}"


@pytest.mark.parametrize(
    "verb", [verb for verb in VERBS if verb.required], ids=lambda verb: verb.name
)
def test_a_missing_needed_field_is_said_in_the_verbs_own_words(verb):
    with pytest.raises(BadRequest, match=verb.missing):
        parse(json.dumps({"command": verb.name}).encode())


def test_a_parsed_request_names_the_verb_that_carries_it_out():
    samples = {
        "fault": {"name": "web", "kind": "exit"},
        "signal": {"names": ["web"], "signal": "TERM"},
        "scale": {"name": "web", "workers": 2},
        "attach": {"name": "web"},
        "attached": {"name": "web", "pid": 10},
        "detach": {"name": "web"},
    }
    for verb in VERBS:
        request = parse(json.dumps({"command": verb.name, **samples.get(verb.name, {})}).encode())
        assert request.command == verb.name


def test_the_reference_lists_every_verb_its_fields_and_its_reply():
    page = markdown()
    for verb in VERBS:
        section = page.split(f"### `{verb.name}`\n", 1)[1].split("\n### ", 1)[0]
        for field in (*verb.fields, *verb.replies):
            assert f"| `{field.key}` |" in section, (verb.name, field.key)
