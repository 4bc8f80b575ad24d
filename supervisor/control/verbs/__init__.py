"""Every verb of the control protocol, each declared once in the module of its kind.

`VERBS` is the protocol in the order the reference lists it; `BY_NAME` is what the server
parses against and the handlers dispatch from.  A verb added to a module and listed here is
accepted, dispatched and documented: nothing else spells its name.
"""

from __future__ import annotations

from supervisor.control.verbs.acting import FaultVerb, RestartVerb, SignalVerb, StartVerb, StopVerb
from supervisor.control.verbs.base import Verb
from supervisor.control.verbs.changing import ReloadVerb, ScaleVerb
from supervisor.control.verbs.lending import AttachedVerb, AttachVerb, DetachVerb
from supervisor.control.verbs.reading import LogsVerb, StatusVerb, SubscribeVerb
from supervisor.control.verbs.waiting import ShutdownVerb, WaitVerb

VERBS: tuple[Verb, ...] = (
    StatusVerb(),
    StartVerb(),
    StopVerb(),
    RestartVerb(),
    ReloadVerb(),
    WaitVerb(),
    LogsVerb(),
    ShutdownVerb(),
    FaultVerb(),
    SignalVerb(),
    SubscribeVerb(),
    ScaleVerb(),
    AttachVerb(),
    AttachedVerb(),
    DetachVerb(),
)
BY_NAME: dict[str, Verb] = {verb.name: verb for verb in VERBS}
