"""The backup inbox: how a backup is asked for, and how exactly one worker takes each request.

A request is the file `<state_dir>/backup-requests/<backup_id>.json`, holding
`{"volume": "<backend>/<volume>"}`: the volume's path under `<state_dir>/volumes/`.  A backup id
is letters, digits, `_` and `-`, starting with a letter or digit.  Write the file under a name
starting with a dot and rename it into place, so that no worker reads half a request;
`submit_backup_request` does just that, and so does this shell line:

    cd .supervisor/backup-requests
    echo '{"volume": "lvm-1/vol-1"}' > .bk-1 && mv .bk-1 bk-1.json

Every worker scans the same directory.  A worker takes a request by holding an exclusive flock
on its file for the whole backup, and deletes the file when the backup is over, so the inbox
holds exactly the requests not yet done.  If the worker dies, the kernel drops its lock and the
request is taken again by the next worker that scans: a crash loses no request.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from supervisor.managers.jsonfile import write_json_atomically

REQUESTS_DIR = "backup-requests"
BACKUP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class InvalidBackupRequest(ValueError):
    pass


def submit_backup_request(state_dir: Path, backup_id: str, volume: str) -> Path:
    """Ask the backup workers for a backup of `volume` ("<backend>/<volume>") as `backup_id`."""
    if not BACKUP_ID.fullmatch(backup_id):
        raise InvalidBackupRequest(
            f"backup id {backup_id!r} is not of the form {BACKUP_ID.pattern}"
        )
    path = BackupInbox(state_dir / REQUESTS_DIR).path_of(backup_id)
    write_json_atomically(path, {"volume": volume})
    return path


@dataclass
class BackupRequest:
    """A request this process has taken: it holds the lock until `finish` or `close`."""

    backup_id: str
    path: Path
    _fd: int

    def read_volume(self) -> str:
        """The volume to back up, as "<backend>/<volume>"; raises InvalidBackupRequest."""
        try:
            document = json.loads(os.pread(self._fd, 1 << 16, 0))
            volume = document["volume"]
        except (ValueError, TypeError, KeyError) as error:
            raise InvalidBackupRequest(f"cannot read request {self.path}: {error!r}") from error
        if not isinstance(volume, str):
            raise InvalidBackupRequest(f"request {self.path}: volume must be a string")
        return volume

    def finish(self) -> None:
        """The backup is over (done or failed for good): the request leaves the inbox."""
        # Deleted while still locked, so no other worker can take it in between.
        self.path.unlink(missing_ok=True)
        self.close()

    def close(self) -> None:
        """Let go of the request without finishing it; it waits for the next worker."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class BackupInbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_of(self, backup_id: str) -> Path:
        return self.directory / f"{backup_id}.json"

    def count(self) -> int:
        """Requests not yet done, whether waiting or being backed up."""
        return len(self._request_paths())

    def take_next(self) -> BackupRequest | None:
        """The oldest request no other worker holds, now held by this process; None if none."""
        for path in sorted(self._request_paths(), key=_submitted_at):
            request = self.take(path)
            if request is not None:
                return request
        return None

    def take(self, path: Path) -> BackupRequest | None:
        """The request at `path`, unless it is gone or another worker holds it."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        # A worker that held the lock until now may have finished the request: then the file
        # we opened is deleted, and there is nothing left to take.
        if os.fstat(fd).st_nlink == 0:
            os.close(fd)
            return None
        return BackupRequest(path.stem, path, fd)

    def _request_paths(self) -> list[Path]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return [
            self.directory / name
            for name in names
            if name.endswith(".json") and BACKUP_ID.fullmatch(name.removesuffix(".json"))
        ]


def _submitted_at(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0  # finished meanwhile; `take` will pass it by
