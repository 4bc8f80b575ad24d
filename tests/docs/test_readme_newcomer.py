"""A newcomer's first minutes, from the README alone: a fresh clone of the repository, then every
command of the README's ```console blocks (parsed from the clone's README.md, never copied
here), in order, in one shell. The tour must hold what it promises: the stack comes up, a
process killed is seen restarted in `status`, the timeline page is written (and loads in
Chromium), the stack stops with exit status 0. Then the tutorial's commands, the same way.

The one shortcut: the clone's .venv is made beside this suite's own (its packages, seen through a
.pth line, and the clone's source first on sys.path), with the install stamp _bootstrap.sh looks
for, so the README's scripts/run does not reinstall every dependency from the network. Everything
the README runs (scripts/run, the activate script, each `supervisor` command) is the clone's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.docblocks import REPO, Command, console_commands
from tests.tools.test_report_layout import CHROMIUM_FLAGS

COMMAND_TIMEOUT = 300.0  # a deadline for one command (scripts/run bootstraps first): generous


def fresh_clone(tmp_path: Path) -> Path:
    clone = tmp_path / "cinder-stack-supervisor"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    return clone


def venv_beside_ours(clone: Path) -> None:
    """.venv for the clone, holding this interpreter's packages but the clone's own code."""
    venv = clone / ".venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = venv / "lib" / version / "site-packages"
    # Plain path lines, not this venv's .pth files: its editable finder would import this
    # checkout's `supervisor` instead of the clone's.
    (site_packages / "_clone.pth").write_text(f"{clone}\n{sysconfig.get_paths()['purelib']}\n")
    entry = venv / "bin" / "supervisor"
    entry.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom supervisor.cli.main import main\n"
        "sys.exit(main())\n"
    )
    entry.chmod(0o755)
    stamp = hashlib.sha256((clone / "pyproject.toml").read_bytes()).hexdigest()
    (venv / ".installed").write_text(stamp + "\n")


class Shell:
    """One shell session run a command at a time: what a command exports (the activate script's
    PATH) is there for the next, as in a terminal."""

    def __init__(self, directory: Path, state: Path) -> None:
        self.directory = directory
        self.state = state
        state.write_text("")
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("SUPERVISOR_CONFIG", "VIRTUAL_ENV", "NO_COLOR")
        }

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        script = (
            f'. "{self.state}"\n{command}\nstatus=$?\nexport -p > "{self.state}"\nexit $status\n'
        )
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )


def run_as_shown(shell: Shell, command: Command) -> str:
    result = shell.run(command.text)
    assert result.returncode == command.exit_status, (
        f"{command.where}: `{command.text}` exited {result.returncode}, the page shows"
        f" {command.exit_status}\nstdout:\n{result.stdout[-3000:]}"
        f"\nstderr:\n{result.stderr[-3000:]}"
    )
    return result.stdout


def stop_what_is_left(clone: Path) -> None:
    """A failed step must not leave the stack running: shut it down, or kill its supervisor."""
    supervisor = clone / ".venv" / "bin" / "supervisor"
    lock = clone / ".supervisor" / "supervisor.lock"
    if not lock.exists():
        return
    subprocess.run(
        [str(supervisor), "shutdown", "--timeout", "60"],
        cwd=clone,
        capture_output=True,
        timeout=120,
    )
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)  # its sentinel then kills every service


def row(output: str, name: str) -> dict[str, str]:
    """One process's row of a `supervisor status` table, by column."""
    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("NAME "))
    columns = header.split()
    for line in lines:
        if line.split()[:1] == [name]:
            starts = [header.index(column) for column in columns]
            ends = [*starts[1:], None]
            return {c: line[s:e].strip() for c, s, e in zip(columns, starts, ends, strict=True)}
    raise AssertionError(f"no row for {name} in:\n{output}")


def chromium_loads(page: Path, profile: Path) -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium is missing, though .ci/run installs it (Debian package 'chromium')"
            )
        return ""
    return subprocess.run(
        [found, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def test_a_newcomer_follows_the_readme_then_the_tutorial(tmp_path: Path):
    clone = fresh_clone(tmp_path)
    venv_beside_ours(clone)
    shell = Shell(clone, tmp_path / "shell-state")
    readme = console_commands(clone / "README.md")
    texts = [command.text for command in readme]
    assert any(text.startswith("scripts/run") for text in texts), texts
    outputs: dict[str, str] = {}
    try:
        for command in readme:
            outputs[command.text] = run_as_shown(shell, command)
        tutorial = console_commands(clone / "docs" / "tutorial" / "index.md")
        for command in tutorial:
            run_as_shown(shell, command)
    finally:
        stop_what_is_left(clone)

    # The stack came up: the first `status` shows every process running.
    first_status = next(outputs[text] for text in texts if text == "supervisor status")
    assert "cinder-volume@lvm-1" in first_status and "running" in first_status, first_status
    # A process killed, then seen restarted in `status`: its row counts the restart.
    killed = next(
        text for text in texts if " KILL" in text and text.startswith("supervisor signal")
    )
    name = killed.split()[2]
    after = next(
        outputs[text]
        for text in texts[texts.index(killed) :]
        if text.startswith("supervisor status")
    )
    seen = row(after, name)
    assert seen["STATE"] == "running" and seen["RESTARTS"] == "1", after
    assert "SIGKILL" in seen["LAST"] + " " + after, after
    events = [
        json.loads(line)
        for line in (clone / ".supervisor" / "events.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert any(
        event.get("unit") == name
        and event.get("to") == "backoff"
        and event.get("exit_status") == 137
        for event in events
    )
    # The timeline page was written, and a browser can open it.
    report = next(text for text in texts if text.startswith("supervisor report"))
    page = clone / report.split("--html", 1)[1].split()[0]
    assert page.is_file() and name in page.read_text()
    dom = chromium_loads(page, tmp_path / "chromium-profile")
    if dom:
        assert name in dom
    # The stack stopped cleanly.
    assert "exit status 0" in outputs["supervisor shutdown"]
