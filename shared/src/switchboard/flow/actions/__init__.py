"""The action registry: flow-language type → the module implementing it.

Adding an action = one module with an :class:`~switchboard.flow.actions.base.Action` subclass,
listed here.
"""

from __future__ import annotations

from switchboard.flow.actions.base import Action
from switchboard.flow.actions.collect import CollectAction
from switchboard.flow.actions.conference import ConferenceAction
from switchboard.flow.actions.control import GotoAction, IfAction, LabelAction
from switchboard.flow.actions.dial import DialAction, TransferAction
from switchboard.flow.actions.foreach import ForeachAction
from switchboard.flow.actions.media import DetectAction, PauseAction, SmsAction
from switchboard.flow.actions.play import PlayAction
from switchboard.flow.actions.queue import DequeueAction, QueueAction
from switchboard.flow.actions.record import RecordAction
from switchboard.flow.actions.remote import RedirectAction, WebhookAction
from switchboard.flow.actions.say import SayAction
from switchboard.flow.actions.sessiondata import SessionDataAction, SetAction
from switchboard.flow.actions.terminal import HangupAction, RejectAction, StopAction

REGISTRY: dict[str, Action] = {
    cls.type: cls()
    for cls in (
        SayAction,
        PlayAction,
        CollectAction,
        RecordAction,
        DialAction,
        TransferAction,
        QueueAction,
        DequeueAction,
        ConferenceAction,
        RejectAction,
        HangupAction,
        PauseAction,
        DetectAction,
        SmsAction,
        IfAction,
        LabelAction,
        GotoAction,
        ForeachAction,
        SessionDataAction,
        SetAction,
        WebhookAction,
        RedirectAction,
        StopAction,
    )
}
