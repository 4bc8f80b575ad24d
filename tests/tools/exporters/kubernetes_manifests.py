"""Reading what `export kubernetes` wrote, as Kubernetes would: the files parsed as YAML,
checked against the Kubernetes schemas offline (kubernetes-validate, in the `test` extra, never
skipped), and a container's environment expanded as the kubelet expands `$(VAR)`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

# The oldest Kubernetes still supported upstream when this was written, and the newest the
# installed kubernetes-validate knows: the manifests must hold for both.
VERSIONS = ("1.32.0", kubernetes_validate.utils.latest_version())


def read_manifests(directory: Path) -> dict[str, dict[str, Any]]:
    """Every file's object by file name, each validated strictly (no unknown field)."""
    found = {}
    for path in sorted(directory.iterdir()):
        body = yaml.safe_load(path.read_text())
        for version in VERSIONS:
            kubernetes_validate.validate(body, version, strict=True)
        found[path.name] = body
    return found


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    (only,) = manifest["spec"]["template"]["spec"]["containers"]
    return only


_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(text: str, defined: dict[str, str]) -> str:
    """Kubernetes' expansion of a command or env value: `$$` is `$`, `$(VAR)` a variable
    defined before (left as it is when undefined), any other `$` itself."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return defined.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, text)


def environment(
    manifest: dict[str, Any], pod_name: str, config_maps: dict[str, dict[str, str]]
) -> dict[str, str]:
    """A container's environment as a pod named `pod_name` gets it."""
    defined: dict[str, str] = {}
    for variable in container(manifest)["env"]:
        source = variable.get("valueFrom")
        if source is None:
            defined[variable["name"]] = expand(variable["value"], defined)
        elif "fieldRef" in source:
            assert source["fieldRef"] == {"fieldPath": "metadata.name"}
            defined[variable["name"]] = pod_name
        else:
            reference = source["configMapKeyRef"]
            defined[variable["name"]] = config_maps[reference["name"]][reference["key"]]
    return defined
