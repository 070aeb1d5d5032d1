"""Provider-facing actions: what the flow engine asks a provider to do, before rendering.

The flow engine turns flow-language actions (SAY, COLLECT, …) into these; each adapter's
``render`` turns a list of them into its reply language. Units: seconds (``*_s``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Say(_Action):
    kind: Literal["say"] = "say"
    text: str
    voice: str | None = None
    play_beep: bool = False


class Play(_Action):
    kind: Literal["play"] = "play"
    url: str


Prompt = Annotated[Say | Play, Field(discriminator="kind")]


class GetDigits(_Action):
    """Collect DTMF. ``timeout_s``: seconds to wait; ``finish_on_key``: one of 0-9 * #."""

    kind: Literal["get_digits"] = "get_digits"
    prompt: Prompt | None = None
    num_digits: int | None = None
    timeout_s: int | None = None
    finish_on_key: str | None = None
    callback_url: str | None = None


class Record(_Action):
    """Record audio. ``terminal`` records until hang-up (AT bare ``<Record/>``)."""

    kind: Literal["record"] = "record"
    terminal: bool = False
    prompt: Prompt | None = None
    finish_on_key: str | None = None
    max_length_s: int | None = None
    timeout_s: int | None = None
    trim_silence: bool = False
    play_beep: bool = False
    callback_url: str | None = None


class Dial(_Action):
    kind: Literal["dial"] = "dial"
    numbers: list[str]
    record: bool = False
    sequential: bool = False
    caller_id: str | None = None
    ringback_url: str | None = None
    max_duration_s: int | None = None


class Enqueue(_Action):
    kind: Literal["enqueue"] = "enqueue"
    name: str | None = None
    hold_music_url: str | None = None


class Dequeue(_Action):
    kind: Literal["dequeue"] = "dequeue"
    phone_number: str
    name: str | None = None


class Redirect(_Action):
    kind: Literal["redirect"] = "redirect"
    url: str


class Reject(_Action):
    kind: Literal["reject"] = "reject"


class Hangup(_Action):
    kind: Literal["hangup"] = "hangup"


class Conference(_Action):
    """Join a conference room. ``event``: Voxology's ``params.event`` (``join``); ``events``: an
    event's name (``on_enter``, ``on_enter_error_max_participants``) → what the provider plays or
    does then, in place (voxology.md §4; providers that have none warn at validation)."""

    kind: Literal["conference"] = "conference"
    name: str
    max_participants: int | None = None
    end_on_exit: bool = False
    event: str | None = None
    events: dict[str, list[Say | Play | Hangup]] = Field(default_factory=dict)


class Pause(_Action):
    kind: Literal["pause"] = "pause"
    length_s: int


class Detect(_Action):
    """Answering-machine detection; ``on_machine``: ``hangup`` or ``continue``."""

    kind: Literal["detect"] = "detect"
    on_machine: str = "continue"


ProviderAction = Annotated[
    Say
    | Play
    | GetDigits
    | Record
    | Dial
    | Enqueue
    | Dequeue
    | Redirect
    | Reject
    | Hangup
    | Conference
    | Pause
    | Detect,
    Field(discriminator="kind"),
]
