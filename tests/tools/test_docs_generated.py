"""The generated reference pages and the man page are current, and cover everything.

`scripts/generate-docs` writes docs/reference/{cli,services-toml,states,exit-statuses}.md and
man/supervisor.1 from the code.  The first test regenerates them into a temporary directory and
compares them with the committed ones; the others count what the source holds (every command
and option of the parser, every key of the example files, every state, transition and exit
status) and look for each in the pages, so a page that silently drops something fails too.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from supervisor.cli.commands import parser_for
from supervisor.config.keydocs import KEYS
from supervisor.policy.states import TRANSITIONS, State
from supervisor.shared import exits
from supervisor.tools.docgen import configkeys
from supervisor.tools.docgen.generate import COMMAND, PAGES, REPOSITORY, generate, write
from supervisor.tools.docgen.markdown import plain, slug

_REGENERATE = f"the generated documentation is out of date: run {COMMAND} and commit the result"


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return generate()


def test_generated_docs_are_current(pages: dict[str, str], tmp_path: Path):
    write(tmp_path, pages)
    stale = [
        path
        for path in PAGES
        if not (REPOSITORY / path).is_file()
        or not filecmp.cmp(tmp_path / path, REPOSITORY / path, shallow=False)
    ]
    assert not stale, f"{_REGENERATE}: {', '.join(stale)}"


def test_the_pages_are_the_same_from_anywhere_and_at_any_width(pages: dict[str, str], tmp_path):
    """No page depends on the current directory, the terminal or the environment's defaults."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "services.toml").write_text('[services.x]\ncommand = "true"\n')
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "supervisor.tools.docgen", "--root", str(out)],
        cwd=elsewhere,
        env={
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "37",
            "SUPERVISOR_HOST": "h1",
            **{name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ},
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for path, text in pages.items():
        assert (out / path).read_text() == text, path


def test_check_names_each_stale_file_and_exits_1(tmp_path: Path, pages: dict[str, str]):
    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supervisor.tools.docgen", "--check", "--root", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    write(tmp_path, pages)
    assert check().returncode == 0
    edited = tmp_path / "docs/reference/states.md"
    edited.write_text(edited.read_text() + "an edit by hand\n")
    (tmp_path / "man/supervisor.1").unlink()
    result = check()
    assert result.returncode == 1
    assert "docs/reference/states.md is out of date" in result.stderr
    assert "man/supervisor.1 is out of date" in result.stderr
    assert "cli.md" not in result.stderr
    assert f"run {COMMAND}" in result.stderr
    assert edited.read_text().endswith("an edit by hand\n")  # --check writes nothing


# -- the command line -------------------------------------------------------------------------


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> list[Any]:
    """Every (words, parser) of the command line, read from argparse directly."""
    found = [(words, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if len(words) == 1:  # a command's own arguments come with its name
                    sub = _subparsers(parser_for([name])).choices[name]
                found.extend(_commands(sub, (*words, name)))
    return found


def _subparsers(parser: argparse.ArgumentParser) -> Any:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_every_command_and_option_is_in_the_cli_page_and_the_man_page(pages: dict[str, str]):
    cli, man = pages["docs/reference/cli.md"], pages["man/supervisor.1"]
    commands = _commands(parser_for([]), ("supervisor",))
    top_options = {option for action in commands[0][1]._actions for option in action.option_strings}
    assert len(commands) > 20
    for words, parser in commands:
        name = " ".join(words)
        assert f"\n## {name}\n" in cli, name
        assert f"(#{slug(name)})" in cli or len(words) == 1, name
        if len(words) > 1:
            assert f'.SS "{name.replace("-", chr(92) + "-")}"' in man, name
        section = cli.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert option in section, f"{name} {option}"
                assert option.replace("-", "\\-") in man, f"{name} {option}"
            global_option = (
                len(words) > 1
                and bool(action.option_strings)
                and (set(action.option_strings) <= top_options)
            )  # its help is at the top, the command's section names it
            if action.help and not global_option:
                assert plain(" ".join(action.help.split()))[:30] in section, (
                    f"{name}: {action.dest}"
                )


# -- services.toml ----------------------------------------------------------------------------


def _keys(table: dict[str, Any], path: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every key path of a parsed file, with a service's, group's or host's name as NAME and
    a probe table as PROBE, as the reference names them."""
    found = []
    for key, value in table.items():
        if len(path) == 1 and path[0] in configkeys.NAMED_TABLES:
            key = "NAME"
        elif len(path) == 2 and path[0] == "services" and key in configkeys.PROBES:
            found.append((*path, key))
            key = "PROBE"
        elif path == ("options",) and key.endswith("_manager"):
            key = "<subtopic>_manager"
        found.append((*path, key))
        if isinstance(value, dict) and path != ("options",) and key != "env":  # free-form
            found.extend(_keys(value, (*path, key)))
    return found


def test_every_key_of_the_example_files_has_its_row(pages: dict[str, str]):
    page = pages["docs/reference/services-toml.md"]
    files = [REPOSITORY / "services.toml", *sorted((REPOSITORY / "examples").glob("*/*.toml"))]
    keys = {key for file in files for key in _keys(tomllib.loads(file.read_text()), ())}
    keys = {key for key in keys if not (key[0] == "options" and len(key) == 2)} | {
        key for key in keys if key in {("options", "host"), ("options", "<subtopic>_manager")}
    }
    assert len(keys) > 30
    for key in sorted(keys):
        dotted = ".".join(key)
        if key[0] in configkeys.NAMED_TABLES and len(key) == 1:
            continue  # documented as [services.NAME]
        if key[-1] in ("NAME", "PROBE") or len(key) == 1:
            assert f"{{#{slug(dotted)}}}" in page, f"no section for [{dotted}]"
        elif key[-1] in ("restart", "backoff", "start_limit", "readiness", "liveness"):
            assert f"`{key[-1]}`" in page, dotted
        else:
            assert f'<a id="{slug(dotted)}"></a>' in page, f"no row for {dotted}"


def test_every_key_the_loader_allows_is_explained_and_every_explanation_is_a_key():
    sections = configkeys.reference()  # raises UndocumentedKeys otherwise
    rows = {key.name for section in sections for key in section.keys}
    documented = {doc.key for doc in KEYS} - {section.name for section in sections}
    assert documented <= rows


def test_an_undocumented_key_is_refused_with_both_files_named(monkeypatch):
    monkeypatch.setattr(
        configkeys, "KEYS", tuple(doc for doc in KEYS if doc.key != "services.NAME.stop_timeout")
    )
    with pytest.raises(configkeys.UndocumentedKeys) as refused:
        configkeys.reference()
    message = str(refused.value)
    assert "services.NAME.stop_timeout" in message
    assert configkeys.KEYDOCS_FILE in message


def test_the_defaults_shown_are_the_loaders(pages: dict[str, str]):
    page = pages["docs/reference/services-toml.md"]

    def row(anchor: str) -> str:
        return next(line for line in page.splitlines() if f'<a id="{anchor}"></a>' in line)

    assert "`10.0`" in row("services-name-stop_timeout")
    assert "`false` for a command, `true` for a manager" in row("services-name-notify")
    assert "`0` for readiness, `3` for liveness" in row("services-name-probe-failure_threshold")
    assert "`[]` for a command, `[78]` for a manager" in row(
        "services-name-restart-prevent_exit_codes"
    )
    assert "0 to 86400" in row("services-name-start_seconds")
    assert '`"TERM"`, `"INT"`' in row("services-name-stop_signal")


# -- states and exit statuses -----------------------------------------------------------------


def test_every_state_and_transition_is_in_the_table_and_the_diagram(pages: dict[str, str]):
    page = pages["docs/reference/states.md"]
    diagram = page.split("```mermaid\nstateDiagram-v2\n", 1)[1].split("```", 1)[0]
    assert len(State) == 9
    for state in State:
        assert f'<a id="state-{state}"></a>`{state}`' in page, state
    edges = [
        (before, after, why) for before, tos in TRANSITIONS.items() for after, why in tos.items()
    ]
    for before, after, why in edges:
        assert f"| [`{before}`](#state-{before}) | `{after}` | {why} |" in page
        assert f"    {before} --> {after}\n" in diagram
    assert diagram.count("-->") == len(edges) + 1  # and the initial [*] --> stopped


def test_every_exit_status_is_on_its_page_and_in_the_man_page(pages: dict[str, str]):
    page, man = pages["docs/reference/exit-statuses.md"], pages["man/supervisor.1"]
    values = {value for name, value in vars(exits).items() if re.fullmatch(r"EXIT_\w+", name)}
    assert {0, 1, 2, 3, 70, 78, 124, 130, 141} <= values
    for value in values:
        assert f"| `{value}` |" in page, value
    for value in (exits.EXIT_OK, exits.EXIT_NOT_RUNNING, exits.EXIT_TIMEOUT):
        assert f".B {value}\n" in man


def test_the_man_page_renders_without_warnings():
    groff = shutil.which("groff")
    if groff is None:
        assert not os.environ.get("CI"), ".ci/run installs groff-base: a skip would hide a failure"
        pytest.skip("groff is not installed")
    result = subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", "-z", str(REPOSITORY / "man/supervisor.1")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr


def test_the_defaults_of_the_options_the_managers_read_are_theirs():
    """keydocs writes these defaults in words (the loader never reads the keys): each is the
    constant the manager processes fall back on."""
    from supervisor.db import settings
    from supervisor.managers import backup, scheduler
    from supervisor.runtime import manager, service

    expected = {
        "options.report_interval": settings.DEFAULT_REPORT_INTERVAL,
        "options.service_down_time": scheduler.DEFAULT_SERVICE_DOWN_TIME,
        "options.periodic_interval": service.DEFAULT_PERIODIC_INTERVAL,
        "options.periodic_fuzzy_delay": service.DEFAULT_PERIODIC_FUZZY_DELAY,
        "options.storage_availability_zone": manager.DEFAULT_AVAILABILITY_ZONE,
        "options.backup_max_operations": backup.DEFAULT_MAX_OPERATIONS,
    }
    assert settings.DEFAULT_SERVICE_DOWN_TIME == scheduler.DEFAULT_SERVICE_DOWN_TIME
    documented = {doc.key: doc for doc in KEYS if doc.read_by_managers}
    for key, value in expected.items():
        shown = documented[key].default.strip("`")
        assert shown == (f'"{value}"' if isinstance(value, str) else f"{value:g}"), key
    assert settings.DATABASE_FILE in documented["options.database_url"].default
