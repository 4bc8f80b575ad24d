"""`supervisor export kubernetes -o DIR`: the stack as Kubernetes manifests, one file per object.

`configmap-<stack>-options.yaml` holds `[options]`; `deployment-<name>.yaml` runs a service (a
backend of a volume service), `job-<name>.yaml` a one-shot service (`kubernetesmodel` says how
each is built).  Files are written in that order of names, so `kubectl apply -f DIR` creates the
ConfigMap first.  Each file starts with comments saying what the supervisor does that the
object does another way or not at all; what changes what runs is also printed on stderr, one
line each, as is the image when it is the placeholder.

The objects are written to `directory` as given (the caller decides whether it may be written
to: `processes.export_directory`).  Writing is deterministic: the same plan and arguments give
the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from supervisor.config import Plan
from supervisor.tools.exporters.kubernetesmodel import (
    IMAGE_NOTE,
    STATE_DIR,
    Manifest,
    Stack,
    options_config_map,
    workload_manifest,
)
from supervisor.tools.exporters.kubernetesoptions import DEFAULT_IMAGE
from supervisor.tools.exporters.kubernetesworkloads import kubernetes_name, workloads
from supervisor.tools.exporters.kubernetesyaml import document
from supervisor.tools.exporters.processes import exported_processes


def write_kubernetes(
    plan: Plan,
    directory: Path,
    *,
    image: str = DEFAULT_IMAGE,
    stack: str | None = None,
    stderr: TextIO | None = None,
) -> list[Path]:
    """Write the manifests of `plan` into `directory`; return the files written, in order."""
    stack_name = kubernetes_name(stack or plan.name or plan.path.parent.name)
    shared = Stack(plan, stack_name, image)
    processes = exported_processes(plan)
    manifests = [options_config_map(shared)]
    host = "" if plan.host is None else f"{plan.host}-"
    manifests += [workload_manifest(shared, w) for w in workloads(processes, host)]
    warnings = _stack_warnings(shared, any(process.is_manager for process in processes))
    written = []
    for manifest in sorted(manifests, key=_file_name):
        path = directory / _file_name(manifest)
        path.write_text(document(manifest.body, _comments(manifest, warnings)))
        written.append(path)
    out = sys.stderr if stderr is None else stderr
    for warning in warnings:
        print(f"export kubernetes: {warning}", file=out)
    for manifest in manifests:
        for warning in manifest.warnings:
            print(f"export kubernetes: {manifest.kind} {manifest.name}: {warning}", file=out)
    return written


def _file_name(manifest: Manifest) -> str:
    return f"{manifest.kind.lower()}-{manifest.name}.yaml"


def _stack_warnings(stack: Stack, has_managers: bool) -> list[str]:
    """What holds for every object: said once on stderr, and atop every file."""
    warnings = []
    if stack.image == DEFAULT_IMAGE:
        warnings.append(IMAGE_NOTE.format(image=stack.image))
    if "database_url" not in stack.plan.options:
        warnings.append(
            "[options] database_url is not set: each pod would keep its own SQLite file in its "
            "state volume; set it to a database every pod reaches"
        )
    if has_managers:
        warnings.append(
            f"the state directory is an emptyDir per pod at {STATE_DIR}: volumes, backups and "
            "capabilities the services share through it need a shared volume in its place"
        )
    if stack.plan.openstack is not None:
        warnings.append("[openstack] config_files are host paths: the image must hold them there")
    return warnings


def _comments(manifest: Manifest, stack_warnings: list[str]) -> list[str]:
    lines = [f"{manifest.kind} {manifest.name}, written by `supervisor export kubernetes`."]
    lines += [f"Warning: {warning}" for warning in (*stack_warnings, *manifest.warnings)]
    lines += [f"Note: {note}" for note in manifest.notes]
    return lines
