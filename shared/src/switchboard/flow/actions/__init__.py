"""The action registry: flow-language type → the module implementing it (one module per action).

Adding an action = one module with an :class:`~switchboard.flow.actions.base.Action` subclass,
listed here.
"""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import Action
from switchboard.flow.actions.collect import CollectAction
from switchboard.flow.actions.conference import ConferenceAction
from switchboard.flow.actions.dequeue import DequeueAction
from switchboard.flow.actions.detect import DetectAction
from switchboard.flow.actions.dial import DialAction
from switchboard.flow.actions.foreach import ForeachAction
from switchboard.flow.actions.goto import GotoAction
from switchboard.flow.actions.hangup import HangupAction
from switchboard.flow.actions.if_ import IfAction
from switchboard.flow.actions.label import LabelAction
from switchboard.flow.actions.pause import PauseAction
from switchboard.flow.actions.play import PlayAction
from switchboard.flow.actions.queue import QueueAction
from switchboard.flow.actions.record import RecordAction
from switchboard.flow.actions.redirect import RedirectAction
from switchboard.flow.actions.reject import RejectAction
from switchboard.flow.actions.say import SayAction
from switchboard.flow.actions.sessiondata import SessionDataAction
from switchboard.flow.actions.set_ import SetAction
from switchboard.flow.actions.stop import StopAction
from switchboard.flow.actions.transfer import TransferAction
from switchboard.flow.actions.webhook import WebhookAction

REGISTRY: dict[str, Action[Any]] = {
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
