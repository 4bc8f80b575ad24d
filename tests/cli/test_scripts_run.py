"""`scripts/run` says, in its first line, how another shell reaches the stack it starts: the
`supervisor` it runs is on its own PATH only.  Run against a stand-in bootstrap and a stand-in
`supervisor`, so nothing is installed and nothing started."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"

_BOOTSTRAP = """\
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
export PATH="$venv/bin:$PATH"
"""
_SUPERVISOR = '#!/bin/sh\necho "supervisor $*"\n'


@pytest.mark.parametrize(
    ("stack", "config"),
    [((), "services.toml"), (("--stack", "openstack"), "examples/openstack/services.toml")],
)
def test_the_first_line_says_how_another_shell_reaches_the_stack(
    tmp_path: Path, stack: tuple[str, ...], config: str
):
    (tmp_path / "scripts").mkdir()
    for script in ("run", "_client-setup.sh"):  # run sources the client lines it prints
        shutil.copy(SCRIPTS / script, tmp_path / "scripts" / script)
    (tmp_path / "scripts" / "_bootstrap.sh").write_text(_BOOTSTRAP)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "supervisor").write_text(_SUPERVISOR)
    (bin_dir / "supervisor").chmod(0o755)
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "run"), *stack, "--only", "web"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    here = (tmp_path / config).parent
    # The first line; under --stack openstack the client lines follow once the (stand-in)
    # stack says it is ready (tests/openstack/test_openstack.py runs them against a real one).
    assert result.stderr.splitlines()[0] == (
        f"scripts/run: from another shell: cd {here} && {bin_dir}/supervisor status"
        f" (or . {bin_dir}/activate, then supervisor status)"
    )
    assert result.stdout == f"supervisor run -c {tmp_path / config} --only web\n"
