"""The child side: what runs inside each service process.

A service author needs `Manager`, `periodic_task` and, to run a service in-process, `Service`.
"""

from supervisor.runtime.manager import Manager
from supervisor.runtime.periodic import periodic_task
from supervisor.runtime.service import Service

__all__ = ["Manager", "Service", "periodic_task"]
