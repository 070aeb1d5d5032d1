"""The action registry: flow-language type → the module implementing it.

Adding an action = one module with an :class:`~switchboard.flow.actions.base.Action` subclass,
listed here.
"""

from __future__ import annotations

from switchboard.flow.actions.base import Action
from switchboard.flow.actions.collect import CollectAction
from switchboard.flow.actions.control import GotoAction, IfAction, LabelAction
from switchboard.flow.actions.hangup import HangupAction
from switchboard.flow.actions.play import PlayAction
from switchboard.flow.actions.say import SayAction
from switchboard.flow.actions.sessiondata import SessionDataAction

REGISTRY: dict[str, Action] = {
    cls.type: cls()
    for cls in (
        SayAction,
        PlayAction,
        CollectAction,
        IfAction,
        GotoAction,
        LabelAction,
        SessionDataAction,
        HangupAction,
    )
}
