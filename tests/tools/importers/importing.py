"""What the import tests share: the fixtures' folder, the real `supervisor import` command
line, and reading what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def supervisor_import(
    source: Path, *args: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`supervisor import SOURCE ARGS...` run in the source's folder, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "supervisor", "import", str(source), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=source.parent,
        env={**os.environ, **(environment or {})},
    )


def services_of(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())["services"]


def comments(text: str) -> str:
    """Every comment of a services.toml, joined into one line (the writer wraps them)."""
    lines = (line.strip() for line in text.splitlines())
    return " ".join(line.lstrip("#").strip() for line in lines if line.startswith("#"))


def assert_refused(source: Path, expected: str) -> None:
    """The import of `source` is refused as invalid input (exit 2), saying `expected`."""
    result = supervisor_import(source)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert expected in result.stderr
