"""Every services.toml table and key, as the loader reads it, with what `config.keydocs` says
it means.

The loader reads specimen files (below) with a `ReadLog` watching: the keys each table allows
(`TableReader.allow`), and each key's kind, default, range and choices, as the loader passes
them to the reader.  A specimen holds one table of each shape (a command, a manager with
backends, one with workers, each kind of probe), because a key is only read where its table
exists.  A key the loader allows without an entry in `keydocs`, or an entry for a key it no
longer allows, is an error that names both files.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from supervisor.config.keydocs import KEYS, KeyDoc
from supervisor.config.loader import load
from supervisor.config.readlog import KeyRead, ReadLog

# Each specimen: its services.toml, and the files it names.  A service's name says its role.
SPECIMENS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        """
[supervisor]
env_file = "specimen.env"
[options]
volume_manager = "supervisor.managers.volume.VolumeManager"
[services.command-probed]
command = ["true"]
port = 8000
[services.command-probed.readiness]
http = "http://127.0.0.1:8000/"
[services.command-probed.liveness]
exec = ["true"]
[services.command-tcp]
command = "true"
readiness = { tcp = "127.0.0.1:8000" }
liveness = { http = "http://127.0.0.1:8000/" }
[services.command-log]
command = "true"
readiness = { log = "ready" }
liveness = { tcp = "127.0.0.1:8000" }
[services.command-exec]
command = "true"
readiness = { exec = "true" }
[services.manager-backends]
manager = "supervisor.managers.volume.VolumeManager"
backends = ["one"]
[services.manager-workers]
topic = "cinder-volume"
workers = 2
[groups.specimen]
services = ["command-probed", "command-tcp"]
""",
        {"specimen.env": "SPECIMEN=1\n"},
    ),
    (
        """
[services.command-placed]
command = "true"
[hosts.specimen]
address = "10.0.0.2"
services = ["command-placed"]
""",
        {},
    ),
    ('[openstack]\nconfig_files = ["cinder.conf"]\n', {"cinder.conf": "[DEFAULT]\n"}),
)
ROLES = ("command", "manager")  # of a service, by its name's first word in the specimens
PROBES = ("readiness", "liveness")
NAMED_TABLES = (
    "services",
    "groups",
    "hosts",
)  # tables whose keys are names the file chooses: `NAME`
KEYDOCS_FILE = "supervisor/config/keydocs.py"
SPECIMEN_FILE = "supervisor/tools/docgen/configkeys.py"


class UndocumentedKeys(Exception):
    """Keys the loader allows and keydocs does not explain, or the other way round."""


@dataclass(frozen=True)
class Key:
    name: str  # dotted: "services.NAME.restart.policy"
    doc: KeyDoc
    reads: dict[str, KeyRead]  # by variant: a service's role, a probe's, or ""
    roles: tuple[str, ...]  # the kinds of service whose table allows it (services.NAME only)

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]

    @property
    def is_table(self) -> bool:
        return any(read.kind == "table" for read in self.reads.values())


@dataclass(frozen=True)
class Section:
    name: str  # dotted: "services.NAME.PROBE"
    doc: KeyDoc
    keys: tuple[Key, ...]


def reference() -> list[Section]:
    """Every table of the file, in keydocs' order, each with its keys in keydocs' order."""
    log = _read_specimens()
    allowed = _allowed(log)
    reads = _reads(log)
    docs = {doc.key: doc for doc in KEYS}
    _check(docs, allowed, reads)
    sections = []
    for doc in KEYS:
        if doc.key not in allowed and doc.key != "options":
            continue  # a key, not a table
        keys = tuple(
            Key(
                key.key,
                key,
                reads.get(key.key, {}),
                allowed.get(doc.key, {}).get(key.key.rpartition(".")[2], ()),
            )
            for key in KEYS
            if key.key.rpartition(".")[0] == doc.key and _is_row(key, doc.key, allowed)
        )
        sections.append(Section(doc.key, doc, keys))
    return sections


def _is_row(key: KeyDoc, table: str, allowed: dict[str, dict[str, tuple[str, ...]]]) -> bool:
    """A key of the table, not the section of a table below it (`services.NAME.PROBE`); a
    free-form table (`[options]`) has every key keydocs gives it."""
    return table not in allowed or key.key.rpartition(".")[2] in allowed[table]


def _read_specimens() -> ReadLog:
    log = ReadLog()
    for text, files in SPECIMENS:
        with tempfile.TemporaryDirectory(prefix="specimen-") as directory:
            base = Path(directory)
            for name, content in files.items():
                (base / name).write_text(content)
            (base / "services.toml").write_text(text)
            load(base / "services.toml", programs=False, observer=log)
    return log


def _pattern(path: tuple[str, ...]) -> tuple[str, str]:
    """A path as keydocs names it, and its variant: ("services", "command-log", "readiness",
    "log") is "services.NAME.PROBE.log", variant "readiness"."""
    parts, variant = list(path), ""
    if len(parts) >= 2 and parts[0] in NAMED_TABLES:
        variant = next((role for role in ROLES if parts[1].startswith(role)), "")
        parts[1] = "NAME"
        if len(parts) >= 4 and parts[2] in PROBES:
            variant, parts[2] = parts[2], "PROBE"
    if len(parts) == 2 and parts[0] == "options" and parts[1].endswith("_manager"):
        parts[1] = "<subtopic>_manager"
    return ".".join(parts), variant


def _allowed(log: ReadLog) -> dict[str, dict[str, tuple[str, ...]]]:
    """Each table's allowed keys, with the service roles that allow each."""
    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for table, keys in log.allowed_keys.items():
        name, variant = _pattern(table)
        if len(table) == 3 and table[2] in PROBES:
            name = f"{name.rpartition('.')[0]}.PROBE"
        known = tables.setdefault(name, {})
        for key in keys:
            roles = known.get(key, ())
            if variant in ROLES and variant not in roles:
                roles = (*roles, variant)
            known[key] = roles
    return tables


def _reads(log: ReadLog) -> dict[str, dict[str, KeyRead]]:
    reads: dict[str, dict[str, KeyRead]] = {}
    for path, read in log.reads.items():
        name, variant = _pattern(path)
        reads.setdefault(name, {}).setdefault(variant, read)
    return reads


def _check(
    docs: dict[str, KeyDoc],
    allowed: dict[str, dict[str, tuple[str, ...]]],
    reads: dict[str, dict[str, KeyRead]],
) -> None:
    problems = []
    known = {f"{table}.{key}".lstrip(".") for table, keys in allowed.items() for key in keys}
    known |= {name for name in reads if name.startswith("options.")}
    known |= set(allowed) - {""}
    for name in sorted(known):
        if name not in docs and f"{name}.NAME" not in docs and not name.endswith(".PROBE"):
            problems.append(f"{name}: the loader allows it; {KEYDOCS_FILE} does not explain it")
        elif name in docs and name not in reads and docs[name].kind is None and name in allowed:
            pass  # a table whose keys are read, not the table itself (a probe's)
        elif name in docs and name not in reads and docs[name].kind is None:
            problems.append(
                f"{name}: no specimen reads it; give it a table in {SPECIMEN_FILE}"
                f" or its type as `kind` in {KEYDOCS_FILE}"
            )
    for name, doc in docs.items():
        if name not in known and not doc.read_by_managers:
            problems.append(
                f"{name}: explained in {KEYDOCS_FILE}, but the loader does not allow it"
            )
    if problems:
        raise UndocumentedKeys("\n".join(problems))
