"""`[hosts.NAME]` in services.toml: one file for a deployment over several machines.

Each host names the services (or single processes, `cinder-volume@fast`) it runs, and
`supervisor run --host NAME` runs that part alone, with its own state directory.  The file's
other keys are shared by every host; under `[openstack]` each host's Cinder services register
as the host's name (or its `cinder_host`), so two hosts never claim one `host@backend`.

What only the whole deployment can tell is judged here, for every host at once whichever one is
asked for: a name a host lists that no service has, a service that no host runs, two hosts that
would register the same row in Cinder's services table, and a database or message bus address
that is loopback while another host than the one serving it uses it (it would reach its own
loopback, where nothing listens).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from supervisor.config import rules
from supervisor.config.hostspec import HostSpec, service_of

if TYPE_CHECKING:
    from supervisor.config.openstack import OpenStack
    from supervisor.config.plan import ProcessPlan
    from supervisor.config.schema import TableReader

HOST_KEYS = ("address", "services", "cinder_host", "state_dir")


def read_hosts(reader: TableReader, base: Path, state_dir: Path) -> dict[str, HostSpec]:
    """Every `[hosts.NAME]` table, in the file's order; each problem recorded with its line."""
    hosts: dict[str, HostSpec] = {}
    addresses: dict[str, str] = {}
    for name in reader.data:
        if not rules.check_name(reader, (name,), name, "host"):
            continue
        table = reader.table(name)
        table.allow(*HOST_KEYS)
        address = table.string("address", None)
        if address is None:
            table.problem((), None, "expected address = the IP address other hosts reach it at")
            address = ""
        elif (problem := _address_problem(address)) is not None:
            table.problem(("address",), address, problem)
        elif address in addresses:
            table.problem(("address",), address, f"host {addresses[address]!r} has it too")
        else:
            addresses[address] = name
        runs = table.string_list("services")
        if not runs:
            table.problem(("services",), None, "expected the services or processes it runs")
        relative = table.string("state_dir", None)
        hosts[name] = HostSpec(
            name,
            address,
            tuple(runs),
            table.name("cinder_host", name),
            state_dir / name if relative is None else base / relative,
        )
    return hosts


def _address_problem(address: str) -> str | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "expected an IP address such as 10.0.0.2"
    if parsed.is_loopback or parsed.is_unspecified:
        return "expected an address other hosts can reach, not loopback or unspecified"
    return None


def place(
    root: TableReader,
    hosts: Mapping[str, HostSpec],
    order: Iterable[str],
    by_service: Mapping[str, list[ProcessPlan]],
    plan_on: Callable[[str, HostSpec], list[ProcessPlan]],
    openstack: OpenStack | None,
) -> dict[str, tuple[ProcessPlan, ...]]:
    """Each host's processes in start order, each service planned on that host by
    `plan_on(service, host)`; then the checks of the whole deployment."""
    placed: dict[str, list[ProcessPlan]] = {}
    for host in hosts.values():
        placed[host.name] = [
            _on_host(process, host)
            for service in order
            if service in host.services
            for process in plan_on(service, host)
            if host.runs_process(process.service, process.name)
        ]
    reader = root.table("hosts")
    processes = {
        service: [process.name for process in found] for service, found in by_service.items()
    }
    check_placement(reader, hosts, processes)
    check_registrations(reader, hosts, placed)
    if openstack is not None:
        check_addresses(root.table("openstack"), hosts, placed, shared_urls(openstack))
    return {name: tuple(found) for name, found in placed.items()}


def _on_host(process: ProcessPlan, host: HostSpec) -> ProcessPlan:
    """A process as one host runs it: it waits only for the services on the same host (the
    others are another supervisor's; a Cinder service that finds no database or bus yet exits
    1, and its restart policy starts it again)."""
    local = tuple(d for d in process.settings.depends_on if d in host.services)
    if local == process.settings.depends_on:
        return process
    return replace(process, settings=replace(process.settings, depends_on=local))


def check_placement(
    reader: TableReader, hosts: Mapping[str, HostSpec], processes: Mapping[str, list[str]]
) -> None:
    """Every name a host lists is a service or one of its processes (`processes`: each
    service's process names), and every service runs on some host."""
    placed: set[str] = set()
    for host in hosts.values():
        for entry in host.runs:
            service = service_of(entry)
            placed.add(service)
            if service not in processes:
                known = ", ".join(processes) or "none"
                reader.problem((host.name, "services"), entry, f"no such service; known: {known}")
            elif entry != service and entry not in processes[service]:
                known = ", ".join(processes[service]) or "none"
                message = f"no such process of {service}; its processes: {known}"
                reader.problem((host.name, "services"), entry, message)
    for service in processes:
        if service not in placed:
            message = f"service {service!r} runs on no host: list it in a host's services"
            reader.problem((), None, message)


def check_registrations(
    reader: TableReader, hosts: Mapping[str, HostSpec], placed: Mapping[str, list[ProcessPlan]]
) -> None:
    """No two hosts register the same row of Cinder's services table (binary and host):
    Cinder would take both for one service, and each heartbeat would overwrite the other's."""
    owners: dict[tuple[str, str], str] = {}
    for name, processes in placed.items():
        for process in processes:
            if process.resolution is None or process.host is None:
                continue
            row = (process.resolution.binary, process.host)
            owner = owners.setdefault(row, name)
            if owner != name:
                reader.problem(
                    (name,),
                    None,
                    f"{process.name} would register as {process.host!r}, as host {owner!r}'s"
                    " does: Cinder would take both for one service; give each host its own"
                    " cinder_host (by default the host's name) and set no fixed `host` or"
                    " `backend_host` for services that run on several hosts",
                )


def check_addresses(
    reader: TableReader,
    hosts: Mapping[str, HostSpec],
    placed: Mapping[str, list[ProcessPlan]],
    urls: Iterable[tuple[str, str, str]],
) -> None:
    """A loopback database or bus address works for one host only: `urls` are (what, where,
    url), e.g. ("[database] connection", "cinder.conf:41", "postgresql://...")."""
    users = [name for name, processes in placed.items() if any(p.spec for p in processes)]
    if len(users) < 2:
        return
    serving = ", ".join(f"{host.name} {host.address}" for host in hosts.values())
    for what, where, url in urls:
        loopback = [address for address in _addresses(url) if _is_loopback(address)]
        if loopback:
            reader.problem(
                (),
                None,
                f"{what} = {url!r} ({where}) is loopback ({loopback[0]}) but hosts"
                f" {', '.join(users)} use it: each would reach its own; use the address of"
                f" the host that serves it ({serving})",
            )


def _addresses(url: str) -> list[str]:
    """The host parts of a URL, several for oslo.messaging's `rabbit://a:1,b:2/`."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return []
    found = []
    for part in netloc.split(","):
        host = part.rpartition("@")[2]
        host = host[1 : host.find("]")] if host.startswith("[") else host.partition(":")[0]
        if host:
            found.append(host)
    return found


def _is_loopback(address: str) -> bool:
    if address.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def shared_urls(openstack: OpenStack) -> list[tuple[str, str, str]]:
    """The addresses every Cinder service of the deployment reaches: its database, its bus
    and its coordination backend, with where each is set."""
    conf = openstack.conf
    found = []
    for section, key in (
        ("database", "connection"),
        ("DEFAULT", "transport_url"),
        ("coordination", "backend_url"),
    ):
        if key in openstack.given:
            found.append((key, "services.toml [options]", str(openstack.given[key])))
            continue
        value = conf.option(section, key)
        if value:
            found.append((f"[{section}] {key}", conf.where(section, key), conf.substitute(value)))
    return found
