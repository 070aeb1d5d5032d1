"""WEBHOOK: call the customer's application. ``url`` (template), ``method`` (default POST), ``body``
(an object whose strings are templates; default: the normalized call JSON), ``timeout_ms``,
``save_as``. The JSON answer goes to ``$webhook.<save_as>``; an answer with ``actions`` replaces the
rest of the flow (a dynamic flow). A timeout, a non-2xx answer or an invalid action list ends the
call politely.

Example: ``{"type": "WEBHOOK", "params": {"url": "https://crm.example.test/lookup", "save_as": "crm"}}``
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.errors import FlowError
from switchboard.flow.actions.base import (
    NEXT,
    Action,
    Context,
    Fetch,
    FetchAnswer,
    FetchRequest,
    Outcome,
)
from switchboard.flow.calljson import application_request, dialect_of, dynamic_flow
from switchboard.flow.document import Node
from switchboard.state import Waiting, WaitingForWebhook

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def check_url(value: str | None) -> str | None:
    if value is not None and "${" not in value and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


class WebhookParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    method: Method = "POST"
    body: dict[str, Any] | None = None
    timeout_ms: int = Field(default=3000, ge=1, le=60_000)
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    _url = field_validator("url")(check_url)


def _render_body(ctx: Context, value: Any) -> Any:
    if isinstance(value, str):
        return ctx.render(value)
    if isinstance(value, dict):
        return {k: _render_body(ctx, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_body(ctx, v) for v in value]
    return value


def replacement(answer: Any) -> list[dict[str, Any]] | None:
    """The action list in an answer (``{"actions": [..]}`` or a bare list), or None."""
    if isinstance(answer, dict) and isinstance(answer.get("actions"), list):
        return answer["actions"]
    if isinstance(answer, list):
        return answer
    return None


class WebhookAction(Action[WebhookParams]):
    type = "WEBHOOK"
    Params = WebhookParams

    def step(self, ctx: Context, node: Node[WebhookParams]) -> Outcome:
        params = node.params
        if params.body is not None:
            body = _render_body(ctx, params.body)
        else:
            dialect = dialect_of(ctx.flow.dialect, ctx.state.provider)
            body = application_request(dialect, ctx.state, None, ctx.scope)
        ctx.state.waiting = WaitingForWebhook(url=params.url, save_as=params.save_as)
        return Fetch(
            FetchRequest(
                kind="webhook",
                url=ctx.render(params.url),
                method=params.method,
                body=body,
                timeout_ms=min(params.timeout_ms, ctx.settings.webhook_timeout_ms),
            )
        )

    def resume_fetch(self, ctx: Context, waiting: Waiting, answer: FetchAnswer) -> Outcome:
        assert isinstance(waiting, WaitingForWebhook)
        if answer.error:
            raise FlowError(f"WEBHOOK {waiting.url} failed: {answer.error}")
        if waiting.save_as:
            ctx.state.variables.setdefault("webhook", {})[waiting.save_as] = answer.data
            ctx.scope["webhook"] = ctx.state.variables["webhook"]
        actions = replacement(answer.data) if isinstance(answer.data, dict) else None
        if actions is not None:
            ctx.replace_with = dynamic_flow(ctx, waiting.url, actions)
        return NEXT
