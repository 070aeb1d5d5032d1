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
from switchboard.flow.actions.base import END, WAIT, Action, Context, Outcome, params_of
from switchboard.flow.actions.collect import wait_name
from switchboard.flow.actions.prompt import check_finish_key, finish_key, prompt_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import Record


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


class RecordAction(Action):
    type = "RECORD"
    Params = RecordParams
    keys = frozenset({"actions"})
    prompts = ("actions",)
    provider_facing = True
    waits = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        if params.get("terminal"):
            ctx.out.append(Record(terminal=True))
            return END
        ctx.out.append(
            Record(
                prompt=prompt_of(ctx, action),
                finish_on_key=finish_key(params.get("finish_on_key")),
                max_length_s=params.get("max_length"),
                timeout_s=params.get("timeout"),
                trim_silence=bool(params.get("trim_silence")),
                play_beep=bool(params.get("play_beep")),
                callback_url=ctx.step_url(),
            )
        )
        ctx.state.waiting = {"action": self.type, "name": wait_name(ctx, action, "record", ctx.state.recordings)}
        return WAIT

    def resume(self, ctx: Context, waiting: dict[str, Any], event: CallEvent) -> None:
        url = event.recording_url or ""
        ctx.state.recording_url = url
        ctx.state.recordings[waiting["name"]] = url
