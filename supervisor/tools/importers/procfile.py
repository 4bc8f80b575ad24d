"""A Procfile (honcho, foreman) → a Translation: one service per `name: command` line.

As honcho and foreman run it: each command through `/bin/sh -c` in the Procfile's folder,
`PORT` 5000 for the first process type and 100 more for each next one (here `port` and
`PORT = "{port}"`), the `.env` beside the Procfile in every process's environment, no
restarts, and the whole set stopped when one process fails (here `critical`; honcho and foreman
stop it on any exit, even a clean one), with SIGTERM and SIGKILL after 5 seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

from supervisor.tools.importers.envfiles import env_file
from supervisor.tools.importers.model import (
    SourceError,
    Translation,
    escape,
    relative_path,
)

FORMAT = "Procfile"
BASE_PORT = 5000  # honcho's and foreman's default
PORT_STEP = 100  # per process type
STOP_TIMEOUT = 5.0  # honcho's and foreman's wait before SIGKILL
_LINE = re.compile(r"(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>.+)")


def read(path: Path, base: Path) -> Translation:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(path, None, "", f"cannot read: {error}") from None
    translation = Translation(path.resolve(), FORMAT)
    directory = relative_path(path.resolve().parent, base)
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = _LINE.fullmatch(line.strip())
        if found is None:
            raise SourceError(path, number, "", f"{line.strip()!r}: expected 'name: command'")
        name = found["name"]
        if name in seen:
            message = f"the process type {name} is defined twice (line {seen[name]} too)"
            raise SourceError(path, number, name, message)
        seen[name] = number
        port = BASE_PORT + PORT_STEP * (len(seen) - 1)
        service = translation.new_service(name)
        service.set("command", ["/bin/sh", "-c", escape(found["command"].strip())])
        service.set("directory", directory)
        service.set("port", port)
        service.set("env", {"PORT": "{port}"})
        service.set("stop_timeout", STOP_TIMEOUT)
        service.set("critical", True)
        service.set("restart", {"policy": "never"})
        translation.services.append(service)
    if not translation.services:
        raise SourceError(path, None, "", "no 'name: command' line: nothing to import")
    translation.notes += [
        f"Each command runs through /bin/sh -c in the Procfile's folder, with PORT = {BASE_PORT}"
        f" for the first process type and {PORT_STEP} more for each next one, as honcho and"
        f" foreman give it.",
        "honcho and foreman stop every process when one exits, even cleanly; here the stack"
        " is stopped when one fails (critical, restart policy never), and a clean exit leaves"
        " the others running.",
    ]
    dotenv = path.resolve().parent / ".env"
    if dotenv.is_file() and (kept := env_file(dotenv, base, translation, None, ".env")):
        translation.supervisor["env_file"] = kept
        translation.note(".env beside the Procfile is in every process's environment, as honcho's.")
    return translation
