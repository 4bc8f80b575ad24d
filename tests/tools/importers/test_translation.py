"""The small pieces every reader shares: literal text escaped for services.toml, durations, and
compose's variables written in services.toml's own syntax."""

from __future__ import annotations

import pytest

from supervisor.config.interpolate import Variables, parse, render
from supervisor.tools.importers import composevars
from supervisor.tools.importers.model import escape, seconds, service_name


@pytest.mark.parametrize(
    "text", ["plain", "$HOME", "${HOME}", "$$", "a $", "{x} {{y}}", "$${X}", "${1}", "cost: 5$"]
)
def test_escaped_text_reads_back_as_itself(text) -> None:
    template = parse(escape(text), placeholders=True)
    assert render(template, Variables(), {}).value == text


@pytest.mark.parametrize(
    ("given", "expected"),
    [("10", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), (2, 2.0), ("soon", None)],
)
def test_durations_as_compose_writes_them(given, expected) -> None:
    assert seconds(given) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("web", "web"), ("my app:1", "my-app-1"), ("_x", "x"), ("a.err", "a.err-")],
)
def test_service_names(name, expected) -> None:
    assert service_name(name) == expected


@pytest.mark.parametrize(
    ("given", "expected", "used"),
    [
        ("${A}", "${A:-}", {"unset empty"}),
        ("$A/bin", "${A:-}/bin", {"unset empty"}),
        ("${A:-x}", "${A:-x}", set()),
        ("${A-x}", "${A:-x}", {"dash default"}),
        ("${A:?need A}", "${A}", set()),
        ("${SET:+yes}", "yes", {"alternative"}),
        ("$$A {x}", "$A {{x}}", set()),
        ("a $${A}", "a $${{A}}", set()),
    ],
)
def test_compose_variables_in_services_toml_syntax(given, expected, used) -> None:
    seen: set[str] = set()
    assert composevars.translate(given, {"SET": "1"}, seen, braces=True) == expected
    assert seen == used


def test_compose_values_expanded_now() -> None:
    assert composevars.expand("${T:-10}s", {}) == "10s"
    assert composevars.expand("$T", {"T": "5s"}) == "5s"
    with pytest.raises(composevars.VariableError, match="variable T is not set"):
        composevars.expand("${T:?}", {})
