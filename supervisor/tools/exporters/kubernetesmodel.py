"""A plan as Kubernetes objects: a ConfigMap of the options, a Deployment per service (per
backend of a volume service: each backend is its own host), a Job per one-shot service.

What a container gets is what the supervisor would give the process (`processes`): the same
command and environment, with what depends on the pod put in by Kubernetes itself:

- `SUPERVISOR_SERVICE`, the document a manager resolves its manager from, takes its `options`
  from the ConfigMap through Kubernetes' `$(VAR)` expansion of a variable defined before it,
  so the options are written once and read as the runtime reads them; its `state_dir` (and
  `SUPERVISOR_STATE_DIR`) is the pod's state volume;
- a service of several workers is one Deployment of that many replicas: a replica cannot know
  its worker number, so its process name (`SUPERVISOR_PROCESS`, and the row the spec keys by)
  is its pod's name, and every replica runs worker 1's command and spec (noted);
- every literal `$` is written `$$`, so Kubernetes' expansion gives back exactly the text.

Everything the supervisor does that Kubernetes does another way, or not at all, is said in the
object's comments (notes) and, when it changes what runs, on stderr too (warnings).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from supervisor.cli.planview import restart_summary
from supervisor.config import Plan
from supervisor.config.spawnenv import PROCESS_ENV, STATE_DIR_ENV
from supervisor.db.settings import InvalidOption, report_interval
from supervisor.shared.servicespec import ENV_VAR as SERVICE_ENV
from supervisor.shared.servicespec import OPENSTACK_RUNTIME
from supervisor.tools.exporters.kubernetesoptions import DEFAULT_IMAGE
from supervisor.tools.exporters.kubernetesprobes import container_probes, whole_seconds
from supervisor.tools.exporters.kubernetessecurity import security_context
from supervisor.tools.exporters.kubernetesworkloads import Workload, kubernetes_name
from supervisor.tools.exporters.processes import ExportedProcess

IMAGE_NOTE = (
    "a host stack has no image: {image} is a placeholder for one that holds this package, "
    "the services' programs and Python as python3 (--image names yours)"
)
POD_PYTHON = "python3"  # what runs `-m supervisor.cmd` in the image, for argv[0] on the host
STATE_DIR = "/var/lib/supervisor"  # the pod's state volume: SUPERVISOR_STATE_DIR, state_dir
STATE_VOLUME = "state"
OPTIONS_KEY = "options.json"
OPTIONS_ENV = "SUPERVISOR_OPTIONS"  # the ConfigMap's options, spliced into SUPERVISOR_SERVICE
POD_NAME_ENV = "POD_NAME"
ANNOTATION_PROCESSES = "supervisor/processes"
ANNOTATION_RESTART = "supervisor/restart"
ANNOTATION_IMAGE = "supervisor/image"

# Stand-ins for what Kubernetes fills in, as JSON strings; a NUL cannot come from the file.
_POD_NAME_MARK = "\0pod-name\0"
_OPTIONS_MARK = "\0options\0"


@dataclass
class Manifest:
    """One object, with what the comments above it say."""

    kind: str
    name: str
    body: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def escape(text: str) -> str:
    """Text Kubernetes' `$(VAR)` expansion (command, args, env values) leaves as it is."""
    return text.replace("$", "$$")


@dataclass(frozen=True)
class Stack:
    """What every object of one export shares."""

    plan: Plan
    name: str
    image: str

    @property
    def options_map(self) -> str:
        return f"{self.name}-options"

    def labels(self, workload: Workload) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": kubernetes_name(workload.first.service),
            "app.kubernetes.io/instance": workload.name,
            "app.kubernetes.io/part-of": self.name,
        }


def options_config_map(stack: Stack) -> Manifest:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": stack.options_map,
            "labels": {"app.kubernetes.io/part-of": stack.name},
        },
        "data": {OPTIONS_KEY: json.dumps(stack.plan.options, ensure_ascii=False)},
    }
    notes = [
        "[options] of the services file, as JSON: every manager container reads them inside "
        f"{SERVICE_ENV} (through ${OPTIONS_ENV}); restart the Deployments after a change "
        "(kubectl rollout restart), as the supervisor needs a reload",
        "it holds database_url and any other URL as written: a password in one is in this file",
    ]
    return Manifest("ConfigMap", stack.options_map, body, notes)


def workload_manifest(stack: Stack, workload: Workload) -> Manifest:
    process = workload.first
    settings = process.settings
    manifest = Manifest("Job" if settings.oneshot else "Deployment", workload.name, {})
    pod = _pod(stack, workload, manifest)
    template = {"metadata": {"labels": stack.labels(workload)}, "spec": pod}
    spec = (
        _job(workload, manifest, template)
        if settings.oneshot
        else _deployment(stack, workload, manifest, template)
    )
    annotations = {
        ANNOTATION_PROCESSES: ", ".join(p.name for p in workload.processes),
        ANNOTATION_RESTART: restart_summary(settings.restart),
    }
    if stack.image == DEFAULT_IMAGE:
        annotations[ANNOTATION_IMAGE] = IMAGE_NOTE.format(image=stack.image)
    manifest.body = {
        "apiVersion": "batch/v1" if settings.oneshot else "apps/v1",
        "kind": manifest.kind,
        "metadata": {
            "name": workload.name,
            "labels": stack.labels(workload),
            "annotations": annotations,
        },
        "spec": spec,
    }
    _note_what_has_no_equivalent(workload, manifest)
    return manifest


def _deployment(
    stack: Stack, workload: Workload, manifest: Manifest, template: dict[str, Any]
) -> dict[str, Any]:
    settings = workload.first.settings
    spec: dict[str, Any] = {
        "replicas": workload.replicas,
        "selector": {"matchLabels": stack.labels(workload)},
    }
    if workload.first.is_manager and workload.replicas == 1:
        # One host (and row) per process: two pods of it must never serve at once, as a
        # rolling update would have them.
        spec["strategy"] = {"type": "Recreate"}
    container = template["spec"]["containers"][0]
    if "readinessProbe" not in container and settings.start_seconds:
        # Running once up `start_seconds`: available once ready (started) that long.
        spec["minReadySeconds"] = whole_seconds(settings.start_seconds)
    spec["template"] = template
    restart = settings.restart
    manifest.notes.append(
        f"restart policy {restart.policy}: a Deployment restarts every exit, with the kubelet's "
        "backoff (10s doubling to 5 minutes) in place of backoff and start_limit; no fatal state"
    )
    if restart.policy == "never":
        manifest.warnings.append(
            'restart policy "never": a Deployment restarts it anyway (a one-shot service '
            "would be a Job)"
        )
    return spec


def _job(workload: Workload, manifest: Manifest, template: dict[str, Any]) -> dict[str, Any]:
    settings = workload.first.settings
    restart = settings.restart
    template["spec"]["restartPolicy"] = "Never"  # each retry a new pod, as podFailurePolicy needs
    spec: dict[str, Any] = {
        "completions": workload.replicas,
        "parallelism": workload.replicas,
        "backoffLimit": 0 if restart.policy == "never" else restart.start_limit.burst,
    }
    if settings.start_timeout:
        spec["activeDeadlineSeconds"] = whole_seconds(settings.start_timeout, 1)
    # An exit no restart can heal fails the Job at once, as it makes the unit fatal.
    fatal = sorted(restart.prevent_exit_codes - restart.success_exit_codes - {0})
    if fatal:
        spec["podFailurePolicy"] = {
            "rules": [
                {
                    "action": "FailJob",
                    "onExitCodes": {
                        "containerName": workload.name,
                        "operator": "In",
                        "values": fatal,
                    },
                }
            ]
        }
    spec["template"] = template
    manifest.notes.append(
        f"one-shot: a Job; backoffLimit is start_limit.burst ({restart.start_limit.burst}) over "
        "the whole Job, not within start_limit.interval; start_timeout is activeDeadlineSeconds"
    )
    if restart.success_exit_codes != {0}:
        manifest.warnings.append(
            f"success_exit_codes {sorted(restart.success_exit_codes)}: a Job succeeds on exit "
            "code 0 only"
        )
    return spec


def _pod(stack: Stack, workload: Workload, manifest: Manifest) -> dict[str, Any]:
    process = workload.first
    settings = process.settings
    container: dict[str, Any] = {
        "name": workload.name,
        "image": stack.image,
        "command": [escape(argument) for argument in _argv(process)],
    }
    if process.cwd:
        container["workingDir"] = process.cwd
        manifest.notes.append(f"workingDir is the host's {process.cwd}: the image must have it")
    container["env"] = _environment(stack, workload, manifest)
    container["volumeMounts"] = [{"name": STATE_VOLUME, "mountPath": STATE_DIR}]
    security = security_context(settings.run_as)
    if security.fields:
        container["securityContext"] = security.fields
    manifest.notes.extend(security.notes)
    manifest.warnings.extend(security.warnings)
    probes = container_probes(settings, _heartbeat(stack, process), _report_interval(stack))
    container.update(probes.fields())
    manifest.notes.extend(probes.notes)
    manifest.warnings.extend(probes.warnings)
    pod: dict[str, Any] = {
        "terminationGracePeriodSeconds": whole_seconds(settings.stop_timeout),
        "containers": [container],
        "volumes": [{"name": STATE_VOLUME, "emptyDir": {}}],
    }
    if stack.plan.host is not None:
        # A host of a deployment file is a node: its pods run there, as its units would.
        pod["nodeSelector"] = {"kubernetes.io/hostname": stack.plan.host}
    return pod


def _argv(process: ExportedProcess) -> list[str]:
    """A manager runs as `python -m supervisor.cmd` with the supervisor's own interpreter, a
    host path: in the image it is the image's Python."""
    if process.is_manager:
        return [POD_PYTHON, *process.argv[1:]]
    return list(process.argv)


def _heartbeat(stack: Stack, process: ExportedProcess) -> list[str] | None:
    """`supervisor probe` for a manager whose row has heartbeats; it reads the container's
    SUPERVISOR_SERVICE, so it needs no name (a replica's is its pod's)."""
    if not process.is_manager or not _report_interval(stack):
        return None
    spec = json.loads(process.env[SERVICE_ENV])
    if spec.get("runtime") == OPENSTACK_RUNTIME:
        return None  # Cinder's rows are one per host and binary: no process's own
    return [POD_PYTHON, "-m", "supervisor", "probe"]


def _report_interval(stack: Stack) -> float:
    try:
        return report_interval(stack.plan.options)
    except InvalidOption:
        return 0.0  # `check` refuses such a file; the process would exit 78 at once


def _environment(stack: Stack, workload: Workload, manifest: Manifest) -> list[dict[str, Any]]:
    process = workload.first
    replicated = workload.replicas > 1
    env: list[dict[str, Any]] = []
    # Variables another value refers to come first: $(VAR) sees only those defined before it.
    if replicated:
        env.append(
            {"name": POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
        )
    spec = json.loads(process.env[SERVICE_ENV]) if SERVICE_ENV in process.env else None
    options_by_reference = spec is not None and spec.get("options") == stack.plan.options
    if options_by_reference:
        reference = {"name": stack.options_map, "key": OPTIONS_KEY}
        env.append({"name": OPTIONS_ENV, "valueFrom": {"configMapKeyRef": reference}})
    elif spec is not None:
        manifest.notes.append(f"its options differ from [options]: written in {SERVICE_ENV}")
    for name, value in process.env.items():
        if name == PROCESS_ENV:
            text = f"$({POD_NAME_ENV})" if replicated else escape(process.name)
        elif name == STATE_DIR_ENV:
            text = STATE_DIR
        elif name == SERVICE_ENV and spec is not None:
            text = _service_document(spec, replicated, options_by_reference)
        else:
            text = escape(value)
        env.append({"name": name, "value": text})
    if replicated:
        _note_replicas(workload, manifest)
    return env


def _service_document(spec: dict[str, Any], replicated: bool, options_by_reference: bool) -> str:
    document = {**spec, "state_dir": STATE_DIR}
    if replicated:
        document["process"] = _POD_NAME_MARK
    if options_by_reference:
        document["options"] = _OPTIONS_MARK
    text = escape(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
    text = text.replace(json.dumps(_POD_NAME_MARK), f'"$({POD_NAME_ENV})"')
    return text.replace(json.dumps(_OPTIONS_MARK), f"$({OPTIONS_ENV})")


def _note_replicas(workload: Workload, manifest: Manifest) -> None:
    first = workload.first
    manifest.notes.append(
        f"{workload.replicas} workers are {workload.replicas} replicas: each is named (and "
        f"keyed in the services table) by its pod's name, not {first.name}, ..."
    )
    if first.is_manager:
        manifest.warnings.append(
            f"every replica is worker 1 to its manager (process_number 1 of {workload.replicas})"
            ": a replica cannot know its number"
        )
    differing = [
        p.name
        for p in workload.processes[1:]
        if p.argv != first.argv or _own_env(p) != _own_env(first) or p.settings != first.settings
    ]
    if differing:
        manifest.warnings.append(
            f"placeholders ({{name}}, {{port}}, {{process_number}}) give {', '.join(differing)} "
            f"a command, environment or probes of its own: every replica runs {first.name}'s"
        )


def _own_env(process: ExportedProcess) -> Mapping[str, str]:
    return {k: v for k, v in process.env.items() if k not in (PROCESS_ENV, SERVICE_ENV)}


def _note_what_has_no_equivalent(workload: Workload, manifest: Manifest) -> None:
    settings = workload.first.settings
    if settings.stop_signal != signal.SIGTERM:
        name = signal.Signals(settings.stop_signal).name.removeprefix("SIG")  # as the file says
        manifest.warnings.append(
            f"stop_signal {name}: Kubernetes stops a container with SIGTERM (the image's "
            "STOPSIGNAL can say otherwise)"
        )
    manifest.notes.append(
        f"stop_timeout {settings.stop_timeout:g}s is terminationGracePeriodSeconds, rounded up"
    )
    if settings.depends_on:
        manifest.warnings.append(
            f"depends_on {', '.join(settings.depends_on)}: Kubernetes starts it at once; it "
            "restarts until what it needs is there"
        )
    if settings.critical:
        manifest.notes.append("critical: no equivalent (the rest of the stack runs on)")
    if settings.watchdog and not workload.first.is_manager:
        manifest.warnings.append(
            "watchdog: no equivalent for a program's own WATCHDOG=1 keep-alives; give it a "
            "liveness probe"
        )
    if workload.first.notify and not workload.first.is_manager:
        manifest.notes.append("notify: READY=1 has no equivalent; it is ready once started")
