"""`user` and `group` of a service: who its processes (and their exec probes) run as.

As supervisord's `user=` and systemd's `User=`/`Group=`: the user's uid, the group's gid (the
user's primary group unless `group` is given) and the supplementary groups the user's entry
lists, as initgroups() would set them.  Everything is resolved when the file is loaded, so
`check` and `run` refuse the same files: a user or group that does not exist, and, when the
supervisor is not root, any identity but its own (only root can change it).  A manager service
may not run as another user: it writes the services table and its state in state_dir, which
stays the supervisor's.
"""

from __future__ import annotations

import grp
import os
import pwd
from collections.abc import Collection
from dataclasses import dataclass

from supervisor.config.schema import TableReader


@dataclass(frozen=True)
class RunAs:
    user: str  # as the file gives it: a name or a number
    group: str | None  # as given; None: the user's primary group
    uid: int
    gid: int
    groups: tuple[int, ...]  # supplementary groups: the user's memberships, and gid
    name: str  # the user's name in its entry (the file may give a number)
    home: str
    shell: str

    def environment(self, env: dict[str, str], own: Collection[str]) -> dict[str, str]:
        """`env` with the user's HOME, USER, LOGNAME and SHELL, as systemd's User= sets them,
        except those the service's own `env` (the keys `own`) sets."""
        env = dict(env)
        for key, value in (
            ("HOME", self.home),
            ("USER", self.name),
            ("LOGNAME", self.name),
            ("SHELL", self.shell),
        ):
            if key not in own:
                env[key] = value
        return env


def read_run_as(reader: TableReader, *, is_manager: bool) -> RunAs | None:
    """The table's `user`/`group`, each problem reported against its key; None when unset or
    refused."""
    user = reader.string("user", None)
    group = reader.string("group", None)
    if user is None:
        if group is not None:
            why = "needs user: group only picks the primary group of the user the process runs as"
            reader.problem(("group",), group, why)
        return None
    run_as, key, problem = resolve(user, group)
    if run_as is not None:
        problem = permission_problem(run_as, os.geteuid(), os.getegid())
        # The group is at fault only when the user is the supervisor's own and a group is given.
        key = "group" if group is not None and run_as.uid == os.geteuid() else "user"
        if problem is None and is_manager and _differs(run_as, os.geteuid()):
            key, problem = "user", _MANAGER
    if problem is not None:
        reader.problem((key,), group if key == "group" else user, problem)
        return None
    return run_as


_MANAGER = (
    "only a plain command may run as another user: a manager writes the services table and its"
    " state in state_dir, which stays the supervisor's (run the supervisor as that user instead)"
)


def resolve(user: str, group: str | None) -> tuple[RunAs | None, str, str | None]:
    """The identity, or the key at fault and why: (RunAs, "", None) or (None, key, problem)."""
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, OverflowError):
        return None, "user", "no such user on this machine"
    gid = entry.pw_gid
    if group is not None:
        try:
            gid = grp.getgrgid(int(group)).gr_gid if group.isdigit() else grp.getgrnam(group).gr_gid
        except (KeyError, OverflowError):
            return None, "group", "no such group on this machine"
    groups = tuple(os.getgrouplist(entry.pw_name, gid))
    run_as = RunAs(
        user=user,
        group=group,
        uid=entry.pw_uid,
        gid=gid,
        groups=groups,
        name=entry.pw_name,
        home=entry.pw_dir,
        shell=entry.pw_shell,
    )
    return run_as, "", None


def permission_problem(run_as: RunAs, euid: int, egid: int) -> str | None:
    """Why a supervisor running as `euid`/`egid` cannot start a process as `run_as`."""
    if euid == 0:
        return None
    if run_as.uid != euid:
        return (
            f"the supervisor runs as uid {euid} ({_user_name(euid)}), not root: it can run"
            " processes only as itself"
        )
    if run_as.gid != egid:
        return (
            f"the supervisor runs as gid {egid}, not root: it can run processes only in its own"
            " group"
        )
    return None


def switches(run_as: RunAs | None) -> bool:
    """Whether a spawn must change identity: only root can, and only root needs to (an
    identity the supervisor already has, the only one allowed to another user, is left as is)."""
    return run_as is not None and os.geteuid() == 0 and _differs(run_as, 0)


def _differs(run_as: RunAs, euid: int) -> bool:
    return run_as.uid != euid or run_as.gid != os.getegid()


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "no name"
