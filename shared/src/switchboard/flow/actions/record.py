"""RECORD: record the caller.

Partial (default): ``max_length`` (s), ``timeout`` (s of silence), ``finish_on_key``,
``trim_silence``, ``play_beep`` and a nested SAY/PLAY prompt; the recording's URL lands in
``$recordingUrl`` and ``$recordings.<name>`` (unnamed: ``record_<n>``) and the flow goes on.
``terminal: true`` records until the call ends; the URL arrives with the call's end, in the CDR.

Example: ``{"type": "RECORD", "name": "voicemail", "params": {"max_length": 60, "play_beep": true},
"actions": [{"type": "SAY", "params": {"text": "Leave a message after the beep."}}]}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.events import CallEvent
from switchboard.flow.actions.base import END, WAIT, Action, Context, Outcome
from switchboard.flow.actions.collect import wait_name
from switchboard.flow.actions.prompt import check_finish_key, finish_key, prompt_of
from switchboard.flow.document import Node
from switchboard.providers.actions import Record
from switchboard.state import Waiting, WaitingForRecording


class RecordParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_length: int | None = Field(default=None, ge=1, le=3600, description="s")
    timeout: int | None = Field(default=None, ge=1, le=3600, description="s of silence")
    finish_on_key: str | None = None
    trim_silence: bool = False
    play_beep: bool = False
    terminal: bool = False
    actions: list[dict[str, Any]] | None = None

    _key = field_validator("finish_on_key")(check_finish_key)


class RecordAction(Action[RecordParams]):
    type = "RECORD"
    Params = RecordParams
    keys = frozenset({"actions"})
    prompts = ("actions",)
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[RecordParams]) -> Outcome:
        params = node.params
        if params.terminal:
            ctx.out.append(Record(terminal=True))
            return END
        ctx.out.append(
            Record(
                prompt=prompt_of(ctx, node),
                finish_on_key=finish_key(params.finish_on_key),
                max_length_s=params.max_length,
                timeout_s=params.timeout,
                trim_silence=params.trim_silence,
                play_beep=params.play_beep,
                callback_url=ctx.callback_url(),
            )
        )
        ctx.state.waiting = WaitingForRecording(name=wait_name(node, "record", ctx.state.recordings))
        return WAIT

    def resume(self, ctx: Context, waiting: Waiting, event: CallEvent) -> None:
        assert isinstance(waiting, WaitingForRecording)
        url = event.recording_url or ""
        ctx.state.recording_url = url
        ctx.state.recordings[waiting.name] = url
