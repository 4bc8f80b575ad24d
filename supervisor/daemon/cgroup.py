"""Containment in cgroup v2: the stack gets its own cgroup, each unit a child cgroup.

A process that leaves its process group (setsid) and clears its environment escapes both the
group kill and the sentinel's marker sweep, but it cannot leave its cgroup without write access
to a cgroup.procs file: one write of "1" to `cgroup.kill` ends it with everything else in the
unit's cgroup.  The tree, under the cgroup the supervisor was started in:

    <own cgroup>/supervisor-<marker>/          the stack: no process of its own
    <own cgroup>/supervisor-<marker>/<unit>/   one per unit, a leaf

The supervisor itself stays in its own cgroup.  A child must be in its unit's cgroup before it
can fork, and with no preexec_fn nothing runs between fork and exec; so the supervisor steps
into the unit's cgroup, spawns (the child is born there), and steps back out.  That costs two
small writes (about 50 us per spawn) and leaves no instant in which a child could escape.

Used only where cgroup v2 is mounted and writable for real (the check makes a cgroup and moves
this process into it and back); elsewhere `create` returns None and process groups plus the
sentinel's marker remain the containment.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Iterator
from pathlib import Path

CGROUP = "cgroup"
PROCESS_GROUP = "process-group"
# Controllers the stack hands its units when its parent offers them: memory, for memory.current.
# cpu.stat's usage_usec needs no controller, and cpu would change how units share the CPU.
_CONTROLLERS = ("memory",)
_PROCS = "cgroup.procs"


def find_mount(mountinfo: str) -> Path | None:
    """The mount point of the cgroup2 hierarchy in /proc/self/mountinfo text, if any."""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] == "cgroup2":
            return Path(_unescape(left.split(" ")[4]))
    return None


def own_cgroup(proc_cgroup: str) -> str | None:
    """This process's cgroup v2 path from /proc/self/cgroup text (the `0::` line)."""
    for line in proc_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code in ("040", "011", "012", "134"):
        field = field.replace(f"\\{code}", chr(int(code, 8)))
    return field


def dir_name(unit: str) -> str:
    """A cgroup directory name for a unit: letters, digits and @#_- as they are, the rest
    (a dot could collide with a control file such as memory.stat; a slash is a path) escaped."""
    return "".join(
        c if c.isascii() and (c.isalnum() or c in "@#_-") else f"%{ord(c):02X}" for c in unit
    )


class UnitCgroup:
    """One unit's cgroup: created at its first spawn, removed when the unit ends."""

    def __init__(self, stack: CgroupStack, unit: str) -> None:
        self._stack = stack
        self.path = stack.path / dir_name(unit)
        self._exists = False
        # Written cgroup.kill once: some kernels (6.18 here) then SIGKILL every process cloned
        # into it with CLONE_INTO_CGROUP (the kill sequence is compared with the creator's
        # cgroup's), so a fork into such a cgroup moves itself in instead.
        self.killed = False
        # cpu.stat and memory.current, opened at the first `status` and read with pread: an
        # open of a cgroup file costs five times the read (1,000 processes' status: 180 ms of
        # opening and closing); closed before the cgroup is removed.
        self._files: dict[str, int] = {}

    @contextlib.contextmanager
    def hosting(self) -> Iterator[None]:
        """Inside the block this process (every thread) is in the unit's cgroup, so whatever it
        forks is born there; afterwards it is back in its own."""
        try:
            if not self._exists:
                with contextlib.suppress(FileExistsError):
                    self.path.mkdir()
                self._exists = True
            _write(self.path / _PROCS, "0")
        except OSError:
            # Someone removed or locked the cgroup under us: the child still starts, held by
            # its process group and the sentinel's marker as where there is no cgroup v2.
            yield
            return
        try:
            yield
        finally:
            _write(self._stack.home / _PROCS, "0")

    def directory_fd(self) -> int | None:
        """The cgroup's directory, opened for clone3's CLONE_INTO_CGROUP (a process born there
        needs no migration of the supervisor in and out); None if it cannot be made."""
        try:
            if not self._exists:
                with contextlib.suppress(FileExistsError):
                    self.path.mkdir()
                self._exists = True
            return os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None

    def kill(self) -> None:
        """SIGKILL every process in the unit's cgroup, however it left its process group."""
        if self._exists:
            self.killed = True
            _kill(self.path)

    def kill_if_populated(self) -> None:
        """`kill`, only where a process is left: a cgroup never killed can still take
        processes born into it (see `killed`)."""
        if not self._exists:
            return
        try:
            empty = b"populated 0" in self._read("cgroup.events")
        except OSError:
            empty = False
        if not empty:
            self.kill()

    def remove(self) -> None:
        """Remove the cgroup if it is empty; one whose killed processes are still exiting stays
        and is reused by the unit's next start, or removed with the stack."""
        self.close_files()
        if self._exists:
            self._exists = not _remove_dirs(self.path)

    def close_files(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()

    def _read(self, name: str) -> bytes:
        """The file's text now; OSError if it cannot be read (the cgroup is gone, or no file
        descriptor is left, in which case the next request tries again)."""
        fd = self._files.get(name)
        if fd is None:
            fd = self._files[name] = os.open(self.path / name, os.O_RDONLY | os.O_CLOEXEC)
        return os.pread(fd, 4096, 0)

    def memory(self) -> int | None:
        """Bytes charged to the unit (memory.current), where the memory controller is on."""
        if not (self._exists and self._stack.memory):
            return None
        try:
            return int(self._read("memory.current"))
        except (OSError, ValueError):
            return None

    def cpu(self) -> float | None:
        """CPU seconds used by the unit's processes since its cgroup was made (cpu.stat)."""
        if not self._exists:
            return None
        try:
            for line in self._read("cpu.stat").splitlines():
                key, _, value = line.partition(b" ")
                if key == b"usage_usec":
                    return int(value) / 1_000_000
        except (OSError, ValueError):
            return None
        return None


class CgroupStack:
    """The stack's cgroup: its units' parent, killed and removed as one."""

    def __init__(self, path: Path, home: Path, memory: bool) -> None:
        self.path = path
        self.home = home  # the supervisor's own cgroup, where it returns after each spawn
        self.memory = memory
        self._units: list[UnitCgroup] = []

    @classmethod
    def create(
        cls, name: str, *, mountinfo: str | None = None, proc_cgroup: str | None = None
    ) -> CgroupStack | None:
        """Make `<own cgroup>/<name>` and check, by moving this process into it and back, that
        processes can be placed in it; None where cgroup v2 is absent or not writable.  The
        two /proc files can be given, for a test."""
        try:
            if mountinfo is None:
                mountinfo = Path("/proc/self/mountinfo").read_text()
            if proc_cgroup is None:
                proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
        mount, own = find_mount(mountinfo), own_cgroup(proc_cgroup)
        if mount is None or own is None:
            return None
        home = mount / own.lstrip("/")
        path = home / name
        try:
            path.mkdir()
        except OSError:
            return None
        try:
            _write(path / _PROCS, "0")
            _write(home / _PROCS, "0")
            memory = _enable_controllers(path)
        except OSError:
            with contextlib.suppress(OSError):
                _write(home / _PROCS, "0")
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path, home, memory)

    def unit(self, name: str) -> UnitCgroup:
        unit = UnitCgroup(self, name)
        self._units.append(unit)
        return unit

    def close(self, timeout: float = 5.0) -> None:
        """Kill whatever is left in any unit, wait (up to `timeout`) until it is gone, and
        remove every unit's cgroup and the stack's."""
        for unit in self._units:
            unit.close_files()
        remove_tree(self.path, timeout)


def _enable_controllers(path: Path) -> bool:
    """Hand the units what the stack is offered of `_CONTROLLERS`; whether memory is on."""
    offered = set((path / "cgroup.controllers").read_text().split())
    wanted = [c for c in _CONTROLLERS if c in offered]
    if wanted:
        _write(path / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    return "memory" in wanted


def remove_tree(path: Path, timeout: float) -> None:
    """Kill every process under `path`, wait until none is left, then remove the cgroups.
    Shared by the supervisor's orderly exit and the sentinel after the supervisor died; a tree
    already gone is not an error."""
    if not path.is_dir():
        return
    with contextlib.suppress(OSError):
        _kill(path)
    wait_empty(path, time.monotonic() + timeout)
    _remove_dirs(path)


def _remove_dirs(path: Path) -> bool:
    """Remove the cgroup `path` and any below it; whether it is gone.  Its interface files do
    not keep a cgroup from being removed, only cgroups of its own (a supervisor run as a
    service) do: so rmdir is tried first, and the directory read (without a stat per entry:
    a cgroup has dozens of files) only when that fails."""
    try:
        path.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        pass
    with contextlib.suppress(OSError):
        with os.scandir(path) as entries:
            below = [Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)]
        for child in below:
            _remove_dirs(child)
        path.rmdir()
        return True
    return not path.exists()


def wait_empty(path: Path, deadline: float) -> bool:
    """Block until no process is left in the cgroup `path` or below, or the deadline passes.
    The kernel signals every change of cgroup.events to poll() as POLLPRI, so this sleeps
    until it changes rather than polling."""
    try:
        fd = os.open(path / "cgroup.events", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLPRI)
        while True:
            if b"populated 0" in os.pread(fd, 4096, 0):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            poller.poll(remaining * 1000)
    finally:
        os.close(fd)


def _kill(path: Path) -> None:
    _write(path / "cgroup.kill", "1")


def _write(path: Path, text: str) -> None:
    """One write(2), as the cgroup files want it: an error comes back from the write itself."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
