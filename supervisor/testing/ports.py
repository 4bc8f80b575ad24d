"""Before a copy of a stack starts beside the original: the ports the copy would take twice
(the stack driver `chaos` uses too)."""

from supervisor.tools.stackdriver.ports import PortsHeld, held_ports, refuse_held_ports

__all__ = ["PortsHeld", "held_ports", "refuse_held_ports"]
