"""The package's boundaries, held by tests.

The folder tree is the architecture: `shared/` is what both sides of the process boundary use;
the child side (`runtime/`, `cmd/`, `managers/`) is what runs inside a service process; the
parent side (`config/`, `policy/`, `daemon/`, `control/`, `cli/`, `tools/`, `testing/`) is the
supervisor and its commands; `db/` is a library either side may use.  The static tests read
every module with `ast` (nothing is imported), so an import hidden in a function or under
TYPE_CHECKING counts as much as one at the top.  The dynamic tests run a real `supervisor run`
and a real `status`, and look at what they imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from supervisor.testing.harness import RunningStack, WriteConfig

PACKAGE = Path(__file__).resolve().parents[1] / "supervisor"
CHILD_SIDE = ("runtime", "cmd", "managers")
PARENT_SIDE = ("config", "policy", "daemon", "control", "cli", "tools", "testing")
SHARED = "shared"
LIBRARY = "db"  # used by either side, imports neither

# Breaks of the rules that are known, each with what keeps it.  A listed break that no longer
# exists fails its test too, so the lists shrink as the breaks are fixed and never grow quietly.
KNOWN_CYCLES: dict[frozenset[str], str] = {}
# Folders (`daemon`, `control`, ...) that import each other through any of their modules.
KNOWN_FOLDER_CYCLES: dict[frozenset[str], str] = {
    frozenset({"cmd", "runtime"}): "a preload template's fork runs cmd.dispatch, which is "
    "cmd's own entry into the runtimes",
    # Ends when the views the tools and the UI reuse (cli.planview, cli.statusview,
    # cli.logfollow, cli.remote's asks_the_supervisor) move below cli, and docgen is handed the
    # parser instead of importing cli.commands.
    frozenset({"cli", "tools", "ui"}): "the command table (cli.commands) dispatches to the tools' "
    "commands and to `ui`, which reuse cli's views",
}
KNOWN_CLIENT_IMPORTS: dict[str, str] = {}


# -- the static graph ----------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every absolute name the module imports, with its line: `from a import b` yields `a.b`
    when b is a submodule, `a` when it is a name `a` defines."""
    modules = _modules()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in modules else base), node.lineno


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """module -> {module of the package it imports: the line}; a package import of a
    submodule (`from supervisor.x import y`) is an edge to the submodule."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for name, line in _imported_names(module, path):
            if name in modules and name != module:
                edges.setdefault(name, line)
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _area(module: str) -> str:
    """`supervisor.daemon.unit` -> `daemon`; the top-level modules are their own area."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _forbidden(area: str) -> tuple[str, ...]:
    if area in CHILD_SIDE:
        return PARENT_SIDE
    if area in PARENT_SIDE:
        return CHILD_SIDE
    if area == LIBRARY:
        return CHILD_SIDE + PARENT_SIDE
    return ()


def test_the_package_has_no_import_cycle():
    cycles = {frozenset(cycle): cycle for cycle in _cycles(import_graph())}
    new = [" <-> ".join(cycle) for key, cycle in cycles.items() if key not in KNOWN_CYCLES]
    assert not new, "modules that import each other, directly or through others:\n" + "\n".join(new)
    fixed = [" <-> ".join(sorted(key)) for key in KNOWN_CYCLES if key not in cycles]
    assert not fixed, f"no longer a cycle: remove it from KNOWN_CYCLES: {fixed}"


def folder_graph() -> dict[str, dict[str, str]]:
    """folder -> {folder it imports: one import that makes the edge, as `module:line -> module`};
    a folder is a package directly under `supervisor/` (`daemon`, `control`, ...), with all its
    subpackages, and the top-level modules are left out."""
    graph: dict[str, dict[str, str]] = {}
    modules = _modules()
    for module, edges in import_graph().items():
        if modules[module].parent == PACKAGE:
            continue
        folder = _area(module)
        targets = graph.setdefault(folder, {})
        for target, line in edges.items():
            other = _area(target)
            if modules[target].parent != PACKAGE and other != folder:
                targets.setdefault(other, f"{module}:{line} -> {target}")
    return graph


def test_the_folders_depend_one_way():
    """A folder is a layer: what it imports is below it, never what imports it, however far
    round.  The file-level test cannot see a circle of folders whose files form no cycle."""
    graph = folder_graph()
    cycles = {frozenset(cycle): cycle for cycle in _cycles(graph)}
    new = [
        " <-> ".join(cycle)
        + "".join(f"\n    {graph[a][b]}" for a in cycle for b in cycle if b in graph.get(a, {}))
        for key, cycle in cycles.items()
        if key not in KNOWN_FOLDER_CYCLES
    ]
    assert not new, "folders that import each other, directly or through others:\n" + "\n".join(new)
    fixed = [" <-> ".join(sorted(key)) for key in KNOWN_FOLDER_CYCLES if key not in cycles]
    assert not fixed, f"no longer a cycle: remove it from KNOWN_FOLDER_CYCLES: {fixed}"


def test_no_module_imports_the_other_side_of_the_process_boundary():
    crossings = [
        f"{_modules()[module].relative_to(PACKAGE.parent)}:{line}: {module} imports {target}"
        for module, edges in import_graph().items()
        for target, line in edges.items()
        if _area(target) in _forbidden(_area(module))
    ]
    assert not crossings, "\n".join(crossings)


def test_shared_imports_only_the_standard_library_and_itself():
    outside = []
    for module, path in _modules().items():
        if _area(module) != SHARED:
            continue
        for name, line in _imported_names(module, path):
            top = name.partition(".")[0]
            is_shared = name == "supervisor" or name.startswith(f"supervisor.{SHARED}")
            if not is_shared and top not in sys.stdlib_module_names and top != "__future__":
                outside.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {name}")
    assert not outside, "shared/ is for both sides, stdlib only:\n" + "\n".join(outside)


def test_the_graph_sees_package_imports_of_submodules():
    """`from supervisor.daemon.events import EVENTS_FILE` and `from supervisor import config`
    are both edges, so the tests above cannot miss an import by its spelling."""
    graph = import_graph()
    assert "supervisor.config" in graph["supervisor.cli.planview"]
    assert "supervisor.shared.servicespec" in graph["supervisor.runtime.launch"]
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {}}) == [["a", "b", "c"]]
    assert "control" in folder_graph()["daemon"]  # the daemon serves the control socket


# -- what a running command imports --------------------------------------------------------------

# Writes the names of every imported module to a file as the command ends.  `supervisor run`
# ends with os._exit (it skips the interpreter's teardown), which runs no atexit hook: the
# list is written there too.
_RECORDER = textwrap.dedent(
    """
    import atexit, os, sys
    out, me, real_exit = sys.argv[1], os.getpid(), os._exit
    def record():
        if os.getpid() == me:
            with open(out, "w") as file:
                file.write("\\n".join(sorted(sys.modules)))
    def exit_recorded(status):
        record()
        real_exit(status)
    os._exit = exit_recorded
    atexit.register(record)
    from supervisor.cli.main import main
    sys.exit(main(sys.argv[2:]))
    """
)
_NEVER_IN_A_DAEMON = (
    "supervisor.tools",
    "supervisor.db",
    "supervisor.testing",
    "tomlkit",  # only for a file tomllib refused
    "sqlalchemy",
    "psutil",
    "structlog",  # the service processes' logger, not the daemon's
    "asyncio",  # the daemon's loop is its own; only a library would bring asyncio in
    "rich",
)
_NEVER_IN_A_CLIENT = (
    "supervisor.daemon",
    "supervisor.tools",
    "supervisor.db",
    "supervisor.testing",
    "supervisor.config.schema",
    "supervisor.config.plan",  # a client reads only where the supervisor lives
    "supervisor.control.protocol",  # the requests are built by the server
    "dataclasses",  # with inspect, a tenth of a client's start-up
    "tomlkit",
    "sqlalchemy",
    "psutil",
    "structlog",
    "asyncio",
    "rich",
)


def _recorded(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _under(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == root or m.startswith(f"{root}.") for root in roots)]


def _record(record: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RECORDER, str(record), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_running_supervisor_and_a_client_command_import_only_what_they_use(
    write_config: WriteConfig, tmp_path: Path
):
    config = write_config('[services.web]\ncommand = ["sleep", "1000"]\n')
    daemon_record = tmp_path / "run-modules.txt"
    stack = RunningStack(
        config, tmp_path / "state", interpreter=("-c", _RECORDER, str(daemon_record))
    )
    try:
        stack.wait_event(30, event="state", unit="web", to="running")
        status = _record(tmp_path / "status-modules.txt", "status", "-c", str(config))
        assert status.returncode == 0, status.stderr
        shutdown = _record(tmp_path / "shutdown-modules.txt", "shutdown", "-c", str(config))
        assert shutdown.returncode == 0, shutdown.stderr
        assert stack.wait_exit(30) == 0
    finally:
        stack.close()
    daemon = _recorded(daemon_record)
    assert "supervisor.daemon.arbiter" in daemon  # the list is the daemon's
    assert _under(daemon, _NEVER_IN_A_DAEMON) == []
    client = _recorded(tmp_path / "status-modules.txt")
    assert "supervisor.control.client" in client  # the list is a client's
    assert sorted(_under(client, _NEVER_IN_A_CLIENT)) == sorted(KNOWN_CLIENT_IMPORTS)
