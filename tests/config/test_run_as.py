"""`user` and `group`: refused with file, line, key and why by `check` (and so by `run`)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.config.identity import permission_problem, resolve
from supervisor.testing.harness import WriteConfig
from tests.support.configtext import OPTIONS, at
from tests.support.stackcli import cli

NOBODY = pwd.getpwnam("nobody")
LONE_GROUP = 'group = "nogroup"'


def check_errors(path: Path) -> list[str]:
    result = cli(path, "check")
    assert result.returncode == 2, result.stdout
    return result.stderr.splitlines()


def test_an_unknown_user_or_group_is_refused_where_it_is_written(write_config: WriteConfig):
    path = write_config(
        """
        [services.web]
        command = ["sleep", "100"]
        user = "no-such-user"
        [services.api]
        command = ["sleep", "100"]
        user = "nobody"
        group = "no-such-group"
        [services.lone]
        command = ["sleep", "100"]
        group = "nogroup"
        """
    )
    assert check_errors(path) == [
        f"{at(path, 'no-such-user')}: services.web.user = 'no-such-user': no such user on this"
        " machine",
        f"{at(path, 'no-such-group')}: services.api.group = 'no-such-group': no such group on"
        " this machine",
        f"{at(path, LONE_GROUP)}: services.lone.group = 'nogroup': needs user: group"
        " only picks the primary group of the user the process runs as",
    ]
    assert cli(path, "run").returncode == 2  # run reads the file as check does


def test_a_manager_service_keeps_the_supervisors_user(write_config: WriteConfig):
    path = write_config(OPTIONS + '[services.cinder-scheduler]\nuser = "nobody"\n')
    (line,) = check_errors(path)
    assert line.startswith(f"{at(path, 'nobody')}: services.cinder-scheduler.user = 'nobody':")
    assert "only a plain command may run as another user" in line


def test_users_and_groups_by_name_or_number_resolve_as_initgroups_would():
    by_name, _, _ = resolve("nobody", None)
    by_number, _, _ = resolve(str(NOBODY.pw_uid), None)
    assert by_name is not None and by_number is not None
    assert (by_name.uid, by_name.gid, by_name.name) == (NOBODY.pw_uid, NOBODY.pw_gid, "nobody")
    assert (by_number.uid, by_number.gid, by_number.name) == (by_name.uid, by_name.gid, "nobody")
    assert set(by_name.groups) == set(os.getgrouplist("nobody", NOBODY.pw_gid))
    in_root, _, _ = resolve("nobody", "0")
    assert in_root is not None and in_root.gid == 0 and 0 in in_root.groups
    env = by_name.environment({"HOME": "/root", "PATH": "/bin"}, own={"SHELL"})
    assert env == {"HOME": NOBODY.pw_dir, "USER": "nobody", "LOGNAME": "nobody", "PATH": "/bin"}


def test_only_root_may_run_a_process_as_another_identity():
    nobody, _, _ = resolve("nobody", None)
    in_root, _, _ = resolve("nobody", "0")
    assert nobody is not None and in_root is not None
    assert permission_problem(nobody, 0, 0) is None
    assert permission_problem(nobody, NOBODY.pw_uid, NOBODY.pw_gid) is None  # its own identity
    refused = permission_problem(nobody, 1000, 1000)
    assert refused is not None and refused.startswith("the supervisor runs as uid 1000 (")
    assert refused.endswith("not root: it can run processes only as itself")
    assert permission_problem(in_root, NOBODY.pw_uid, NOBODY.pw_gid) == (
        f"the supervisor runs as gid {NOBODY.pw_gid}, not root: it can run processes only in its"
        " own group"
    )


@pytest.fixture
def nobodys_directory() -> Iterator[Path]:
    """A directory outside root's private tmp, owned by nobody, so nobody can read the file."""
    directory = Path(tempfile.mkdtemp(prefix="run-as-"))
    os.chmod(directory, 0o755)
    os.chown(directory, NOBODY.pw_uid, NOBODY.pw_gid)
    yield directory
    shutil.rmtree(directory)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_check_run_by_another_user_refuses_a_user_not_its_own(nobodys_directory: Path):
    path = nobodys_directory / "services.toml"
    path.write_text(
        '[supervisor]\nstate_dir = "state"\n\n'
        '[services.web]\ncommand = ["sleep", "100"]\nuser = "root"\n'
        '[services.self]\ncommand = ["sleep", "100"]\nuser = "nobody"\n'
    )
    os.chmod(path, 0o644)
    as_nobody = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}"]
    result = subprocess.run(
        [
            *as_nobody,
            "--clear-groups",
            sys.executable,
            "-m",
            "supervisor",
            "check",
            "-c",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=nobodys_directory,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{at(path, 'root')}: services.web.user = 'root': the supervisor runs as uid"
        f" {NOBODY.pw_uid} (nobody), not root: it can run processes only as itself"
    ]
