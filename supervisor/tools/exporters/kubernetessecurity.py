"""A service's `user`/`group` as a container's securityContext: written only where exact.

A number means the same uid or gid in the image as here, so `user = "1000"` is
`runAsUser: 1000`.  A name is this machine's: the image may give its number to someone else,
or have no such user, so nothing is written for it and the export warns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from supervisor.config.identity import RunAs


@dataclass
class SecurityContext:
    fields: dict[str, int] = field(default_factory=dict)  # runAsUser, runAsGroup
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what runs differently: said on stderr


def security_context(run_as: RunAs | None) -> SecurityContext:
    out = SecurityContext()
    if run_as is None:
        return out
    if run_as.user.isdigit():
        out.fields["runAsUser"] = run_as.uid
    else:
        out.warnings.append(
            f"user = {run_as.user!r} is a name: no runAsUser written (its uid here, {run_as.uid},"
            " may be another user in the image, or none); give user as a number, or set it by hand"
        )
    if run_as.group is not None and run_as.group.isdigit():
        out.fields["runAsGroup"] = run_as.gid
    elif run_as.group is not None:
        out.warnings.append(
            f"group = {run_as.group!r} is a name: no runAsGroup written (its gid here,"
            f" {run_as.gid}, may be another group in the image, or none)"
        )
    elif out.fields:
        out.notes.append(
            "no group: the container's primary and supplementary groups are the image's for"
            " that uid, not this machine's"
        )
    return out
