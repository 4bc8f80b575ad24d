"""A volume manager whose construction fails for the backends named in an option."""

from __future__ import annotations

from typing import Any

from supervisor.managers.volume import VolumeManager


class PickyVolumeManager(VolumeManager):
    def __init__(self, host: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(host, *args, **kwargs)
        if self.service_name in self.options.get("broken_backends", []):
            raise ValueError(f"backend {self.service_name} has a bad driver configuration")
