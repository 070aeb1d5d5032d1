"""PLAY: play an audio file. ``url``: http(s), ``.mp3`` or ``.wav`` (a template); ``loop``.

Example: ``{"type": "PLAY", "params": {"url": "https://media.example.test/hold.mp3"}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Play


def check_media_url(value: str | None) -> str | None:
    """A literal media URL must be http(s) and name an .mp3 or .wav file; templates pass."""
    if value is None or "${" in value or "{{" in value:
        return value
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    if not value.split("?")[0].lower().endswith((".mp3", ".wav")):
        raise ValueError("must point to an .mp3 or .wav file")
    return value


class PlayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    loop: int = Field(default=1, ge=1, le=10)

    _url = field_validator("url")(check_media_url)


def play_of(ctx: Context, params: PlayParams) -> Play:
    return Play(url=ctx.render(params.url))


class PlayAction(Action[PlayParams]):
    type = "PLAY"
    Params = PlayParams
    provider_facing = True

    def step(self, ctx: Context, node: Node[PlayParams]) -> Outcome:
        ctx.out.extend([play_of(ctx, node.params)] * node.params.loop)
        return NEXT
