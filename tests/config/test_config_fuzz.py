"""Generated services files: `check` either refuses one with problems that name a line, or
accepts one that every runtime object can be built from.  Nothing but ConfigError escapes.

The values lean on the edges: empty and odd names, nan and inf, integers far past any range,
wrong types, missing and misplaced directories, and raw bytes spliced into a valid file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from supervisor import config
from supervisor.cli.planview import describe_plan, plan_json
from supervisor.policy.restart import ExitStatus, History, backoff_delay, decide
from supervisor.shared.servicespec import ServiceSpec

FUZZ = settings(
    max_examples=300,
    deadline=None,  # a loaded machine must not turn a slow example into a failure
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

odd_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
names = st.one_of(
    st.sampled_from(["web", "db", "cinder-volume", "cinder-backup", "a.b", "9x", "w#1", "a/b"]),
    st.sampled_from(["", ".", "..", "../x", ".x", "-x", "x" * 64, "x" * 65, "a@b", "a b"]),
    odd_text,
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 2, 1000, 1001, 10**9, 86400, 86401, 0.5, -1]),
)
anything = st.one_of(numbers, st.booleans(), odd_text, st.lists(st.integers(), max_size=3))
maybe_numbers = st.one_of(numbers, anything)
directories = st.one_of(st.sampled_from(["", ".", "sub", "missing", "plain", "/"]), odd_text)
commands = st.one_of(
    st.lists(odd_text, max_size=3),
    st.sampled_from([["sleep", "1"], "sleep 1", "echo 'a", "", [""], ["a\0b"]]),
    anything,
)
restart = st.fixed_dictionaries(
    {},
    optional={
        "policy": st.one_of(st.sampled_from(["always", "on-failure", "never"]), anything),
        "success_exit_codes": st.lists(st.integers(-1, 300), max_size=3),
        "backoff": st.fixed_dictionaries(
            {},
            optional={
                key: maybe_numbers for key in ("initial", "max", "factor", "jitter", "reset_after")
            },
        ),
        "start_limit": st.fixed_dictionaries(
            {}, optional={"burst": maybe_numbers, "interval": maybe_numbers}
        ),
    },
)
service = st.fixed_dictionaries(
    {},
    optional={
        "command": commands,
        "workers": maybe_numbers,
        "backends": st.lists(names, max_size=4),
        "manager": st.sampled_from(
            ["a.B", "not a path", "supervisor.managers.volume.VolumeManager"]
        ),
        "host": st.one_of(odd_text, anything),
        "topic": st.one_of(odd_text, anything),
        "env": st.dictionaries(odd_text, st.one_of(odd_text, anything), max_size=3),
        "directory": st.one_of(directories, anything),
        "depends_on": st.lists(names, max_size=3),
        "stop_signal": st.one_of(st.sampled_from(["TERM", "KILL", "BOOM"]), anything),
        "notify": st.one_of(st.booleans(), anything),
        "critical": st.booleans(),
        **{
            key: maybe_numbers
            for key in (
                "start_seconds",
                "start_timeout",
                "stop_timeout",
                "watchdog",
                "log_max_bytes",
                "log_backups",
            )
        },
        "restart": restart,
    },
)
documents = st.fixed_dictionaries(
    {
        "supervisor": st.fixed_dictionaries(
            {"state_dir": st.sampled_from(["state", "plain/state", "plain", "sub/state"])},
            optional={
                "topic_prefix": st.one_of(st.sampled_from(["cinder-", ""]), odd_text),
                "log_max_bytes": maybe_numbers,
                "log_backups": maybe_numbers,
            },
        ),
        "services": st.dictionaries(names, service, max_size=4),
    },
    optional={
        "options": st.fixed_dictionaries(
            {"volume_manager": st.just("supervisor.managers.volume.VolumeManager")},
            optional={
                "backup_manager": st.sampled_from(["x.Y", "nope"]),
                "host": st.one_of(odd_text, anything),
                "cluster": st.one_of(odd_text, anything),
                "extra": st.one_of(anything, st.dictionaries(odd_text, anything, max_size=2)),
            },
        )
    },
)


def prepare(directory: Path) -> Path:
    (directory / "sub").mkdir(exist_ok=True)
    (directory / "plain").write_text("a file, not a directory\n")
    return directory / "services.toml"


def load_or_problems(path: Path) -> config.Plan | None:
    """The plan, or None after checking every problem names its line; any other exception
    is the failure this file hunts for."""
    try:
        return config.load(path)
    except config.ConfigError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.line is not None, problem.render(str(path))
            assert problem.render(str(path)).startswith(f"{path}:{problem.line}: ")
        return None


def assert_runnable(plan: config.Plan, logs: Path) -> None:
    """Build what `run` builds from each process, without starting any."""
    names = [process.name for process in plan.processes]
    assert len(names) == len(set(names)), names
    json.loads(plan_json(plan))
    describe_plan(plan)
    logs.mkdir(exist_ok=True)
    for process in plan.processes:
        # The log writer's file, created for real.
        assert process.name not in ("", ".", "..") and "/" not in process.name
        (logs / f"{process.name}.log").touch()
        settings = process.settings
        assert process.argv and process.argv[0]
        for word in process.argv:
            assert "\0" not in word
        for key, value in settings.env:
            assert key and "=" not in key and "\0" not in key + value
        if settings.directory is not None:
            assert os.path.isdir(settings.directory)
        for seconds in (settings.start_seconds, settings.stop_timeout, settings.watchdog):
            assert math.isfinite(seconds) and 0 <= seconds <= 86_400
        policy = settings.restart
        for failures in (1, 50, 5000):
            assert math.isfinite(backoff_delay(policy.backoff, failures, lambda a, b: b))
        decide(policy, History(), ExitStatus(code=1), ran_for=0.0, now=0.0, uniform=lambda a, b: a)
        if process.spec is not None:
            assert ServiceSpec.from_env({"SUPERVISOR_SERVICE": process.spec.to_env()})


@FUZZ
@given(document=documents)
@example(document={"supervisor": {"state_dir": "state"}, "services": {"w": {"command": "x"}}})
def test_a_generated_file_is_refused_with_lines_or_runnable(document: dict[str, Any], tmp_path):
    path = prepare(tmp_path)
    path.write_text(tomlkit.dumps(document))
    plan = load_or_problems(path)
    if plan is not None:
        assert_runnable(plan, tmp_path / "logs")


VALID = """[supervisor]
state_dir = "state"

[options]
volume_manager = "supervisor.managers.volume.VolumeManager"

[services.cinder-volume]
backends = ["lvm-1", "lvm-2"]
restart = { backoff = { initial = 0.1 }, start_limit = { burst = 5 } }

[services.web]
command = ["sleep", "1"]
env = { A = "1" }
"""


@FUZZ
@given(
    position=st.integers(min_value=0, max_value=len(VALID.encode())),
    splice=st.one_of(
        st.binary(max_size=8),
        st.sampled_from([b'"""', b"\n[x]\n", b"nan", b"\xff", b"#", b"=", b"[", b"\\", b"\n"]),
    ),
)
def test_bytes_spliced_into_a_valid_file_never_escape_as_anything_but_problems(
    position: int, splice: bytes, tmp_path
):
    path = prepare(tmp_path)
    raw = VALID.encode()
    path.write_bytes(raw[:position] + splice + raw[position:])
    plan = load_or_problems(path)
    if plan is not None:
        assert_runnable(plan, tmp_path / "logs")


header_like = st.sampled_from(
    ["[services.web]", "workers = 0", "[[x]]", "a = [", "]", "x = {", "}", "# c", 'k = "v"', ""]
)
text_lines = st.lists(st.one_of(header_like, odd_text), max_size=8)


@FUZZ
@given(lines=text_lines, wrapper=st.sampled_from(["basic", "literal", "array"]))
def test_an_error_after_any_multiline_value_names_its_own_line(
    lines: list[str], wrapper: str, tmp_path
):
    """Whatever a multi-line string or array holds, it never shifts or steals a later line."""
    if wrapper == "array":
        items = [json.dumps(line, ensure_ascii=False).replace("\x7f", "\\u007f") for line in lines]
        value = "[\n" + "".join(f"  {item},\n" for item in items) + "]"
    else:
        quotes = '"""' if wrapper == "basic" else "'''"
        # Text a string of this kind can hold as it is: no closing quotes, no escapes.
        body = [line for line in lines if "'" not in line and '"' not in line and "\\" not in line]
        if any("\r" in line or "\x7f" in line or any(ord(c) < 32 for c in line) for line in body):
            body = []
        value = quotes + "\n" + "\n".join(body) + "\n" + quotes
    text = (
        f'[supervisor]\nstate_dir = "state"\n\n[options]\nmotd = {value}\n\n'
        '[services.web]\ncommand = ["true"]\nworkers = 0\n'
    )
    path = prepare(tmp_path)
    path.write_text(text)
    try:
        config.load(path)
    except config.ConfigError as error:
        # The value itself may be refused too (a NUL in options): judge the later line.
        (problem,) = [p for p in error.problems if p.key == "services.web.workers"]
        assert problem.line == text.count("\n"), error
    else:
        raise AssertionError("workers = 0 was accepted")
