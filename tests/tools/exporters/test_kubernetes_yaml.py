"""The manifests' YAML writer: whatever it is given, a YAML reader gives the same objects back."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from supervisor.tools.exporters.kubernetesyaml import document, scalar

# Strings the OS and Kubernetes can carry: no NUL, no surrogates.
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))
scalars = st.none() | st.booleans() | st.integers() | texts
values = st.recursive(
    st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(texts, values, max_size=6), st.lists(texts, max_size=3))
def test_read_back_it_is_what_was_written(value: dict, comments: list[str]):
    assert yaml.safe_load(document(value, comments)) == (value or None)


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "null",
        "~",
        "true",
        "0x1F",
        "1e3",
        "12:30",
        ".inf",
        "-",
        "- a",
        "a: b",
        "a #b",
        "",
        " lead",
        "trail ",
        "*alias",
        "&anchor",
        "!tag",
        "%dir",
        "@at",
        "`tick",
        "'q'",
        '"q"',
        "{}",
        "[]",
        "multi\nline",
        "tab\there",
        "é",
    ],
)
def test_a_string_yaml_would_read_otherwise_is_quoted(text: str):
    assert yaml.safe_load(f"key: {scalar(text)}") == {"key": text}


def test_plain_where_it_can_be():
    written = document(
        {"apiVersion": "apps/v1", "metadata": {"name": "cinder-volume-lvm-1", "labels": {}}}
    )
    assert written == (
        "apiVersion: apps/v1\nmetadata:\n  name: cinder-volume-lvm-1\n  labels: {}\n"
    )


def test_sequences_of_mappings_and_comments():
    written = document(
        {"containers": [{"name": "a", "command": ["x", "-m"]}, {"name": "b"}]},
        ["first line", "a comment long enough to be wrapped " * 4],
    )
    assert written.splitlines() == [
        "# first line",
        "# a comment long enough to be wrapped a comment long enough to be wrapped a comment long "
        "enough to",
        "#   be wrapped a comment long enough to be wrapped",
        "containers:",
        "  - name: a",
        "    command:",
        "      - x",
        '      - "-m"',
        "  - name: b",
    ]


def test_a_float_is_refused():
    with pytest.raises(TypeError, match=r"cannot write float 1\.5"):
        document({"periodSeconds": 1.5})
