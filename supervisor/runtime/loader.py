"""Importing a manager class from its dotted path, with errors fit for one line on stderr."""

from __future__ import annotations

import importlib


class ManagerLoadError(Exception):
    """The manager class cannot be loaded: a configuration error no restart can heal."""


def import_manager_class(path: str) -> type:
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise ManagerLoadError(
            f"manager class path {path!r} is not of the form 'package.module.Class'"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise ManagerLoadError(
            f"cannot import manager class {path!r}: {_one_line(error)}"
        ) from None
    try:
        manager_class = getattr(module, class_name)
    except AttributeError as error:
        raise ManagerLoadError(f"cannot import manager class {path!r}: {error}") from None
    if not isinstance(manager_class, type):
        kind = type(manager_class).__name__
        raise ManagerLoadError(f"manager {path!r} is not a class (it is a {kind})")
    return manager_class


def _one_line(error: Exception) -> str:
    # An ImportError's message says it all; any other error raised while importing the module
    # (a bug in it) needs its type to make sense.
    text = str(error) if isinstance(error, ImportError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())
