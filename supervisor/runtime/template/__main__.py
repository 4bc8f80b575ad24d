"""`python -m supervisor.runtime.template`: a preload template, started by the supervisor.

It imports its runtime and managers (`preload`), freezes the garbage collector's generations so
that forks share the pages copy-on-write, says it is ready, then serves fork requests one at a
time on the socket it was given, until that socket reaches end of file.  Before each fork it
checks that no file it imported changed on disk; if one did, it forks nothing and says so, and
the supervisor replaces it.  Only `posix` and `_socket` calls are made here: after eventlet's
patching those are the unpatched ones, so no hub is ever made in the template.
"""

from __future__ import annotations

import _socket
import gc
import json
import os
import posix
import sys
import time
import traceback

from supervisor.shared import preloadwire
from supervisor.shared.servicespec import ENV_VAR as SPEC_ENV

started = time.monotonic()
config = json.loads(os.environ.pop(preloadwire.CONFIG_ENV))
sock = _socket.socket(fileno=int(os.environ.pop(preloadwire.SOCKET_FD_ENV)))

from setproctitle import setproctitle  # noqa: E402

setproctitle(f"supervisor: {config['name']}")

from supervisor.runtime.template.modulefiles import ModuleFiles  # noqa: E402
from supervisor.runtime.template.preload import (  # noqa: E402
    import_manager,
    last_lines,
    manager_path,
    prepare,
)

try:
    prepare(config["runtime"], config["binaries"])
except BaseException:
    error = last_lines(traceback.format_exc())
    print(f"preload {config['name']} failed: {traceback.format_exc()}", file=sys.stderr)
    preloadwire.send(sock, {"op": "broken", "error": error})
    raise SystemExit(1) from None

errors: dict[str, str | None] = {}
for path in config["managers"]:
    errors[path] = import_manager(path)
files = ModuleFiles()
files.refresh()
gc.collect()
gc.freeze()
preloadwire.send(
    sock,
    {
        "op": "ready",
        "modules": len(files),
        "seconds": round(time.monotonic() - started, 3),
        "errors": {path: error for path, error in errors.items() if error},
    },
)


def _threads() -> int:
    return len(posix.listdir("/proc/self/task"))


def _serve(request: dict, fds: list[int]) -> None:
    reply: dict = {"id": request["id"]}
    cause = files.changed()
    if cause is not None:
        preloadwire.send(sock, {**reply, "op": "stale", "cause": cause})
        return
    spec = json.loads(request["env"].get(SPEC_ENV, "{}"))
    path = manager_path(spec) if spec else None
    if path is not None and path not in errors:
        errors[path] = import_manager(path)
        files.refresh()
    if (threads := _threads()) > 1:
        # A fork copies only the calling thread: locks the others held stay held for good.
        error = f"the template runs {threads} threads; it forks only when it has one"
        preloadwire.send(sock, {**reply, "op": "failed", "error": error})
        return
    from supervisor.runtime.template.clone import clone3_used, fork_sibling

    cgroup_fd = fds[3] if request.get("cgroup") and len(fds) > 3 else None
    into = cgroup_fd if request.get("cgroup") == "into" else None
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    gc.freeze()
    try:
        pid, born = fork_sibling(into)
    except OSError as error:
        preloadwire.send(sock, {**reply, "op": "failed", "error": str(error)})
        return
    if pid == 0:
        sock.detach()
        from supervisor.runtime.template.child import become

        become(request, fds, cgroup_fd, born)
    how = "clone3" if clone3_used() else "clone"
    how += "-into-cgroup" if born else "-then-cgroup.procs" if cgroup_fd is not None else ""
    preloadwire.send(
        sock, {**reply, "op": "forked", "pid": pid, "clone": how, "error": errors.get(path)}
    )


while True:
    message, received = preloadwire.receive(sock)
    if message is None:
        break
    try:
        _serve(message, received)
    finally:
        for fd in received:
            posix.close(fd)
