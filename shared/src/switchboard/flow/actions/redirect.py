"""REDIRECT: ``url`` (+ ``method``): the customer's application receives the normalized call JSON
and answers the actions to continue with; or ``flow``: continue with another named flow.

Examples: ``{"type": "REDIRECT", "params": {"url": "https://app.example.test/ivr/next"}}``,
``{"type": "REDIRECT", "params": {"flow": "survey"}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

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
from switchboard.flow.actions.webhook import Method, check_url, replacement
from switchboard.flow.calljson import application_request, dialect_of, dynamic_flow
from switchboard.flow.document import Node
from switchboard.state import Waiting, WaitingForRedirect


class RedirectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = None
    method: Method = "POST"
    flow: str | None = None

    _url = field_validator("url")(check_url)

    @model_validator(mode="after")
    def one_target(self) -> RedirectParams:
        if (self.url is None) == (self.flow is None):
            raise ValueError("REDIRECT needs exactly one of 'url' or 'flow'")
        return self


class RedirectAction(Action[RedirectParams]):
    type = "REDIRECT"
    Params = RedirectParams
    waits = True

    def step(self, ctx: Context, node: Node[RedirectParams]) -> Outcome:
        params = node.params
        if params.flow:
            flow = ctx.render(params.flow)
            ctx.state.waiting = WaitingForRedirect(flow=flow)
            return Fetch(FetchRequest(kind="flow", flow=flow))
        assert params.url is not None  # RedirectParams: exactly one of url and flow
        url = ctx.render(params.url)
        ctx.state.waiting = WaitingForRedirect(url=url)
        return Fetch(
            FetchRequest(
                kind="actions",
                url=url,
                method=params.method,
                body=application_request(
                    dialect_of(ctx.flow.dialect, ctx.state.provider), ctx.state, ctx.event, ctx.scope
                ),
                timeout_ms=ctx.settings.webhook_timeout_ms,
            )
        )

    def resume_fetch(self, ctx: Context, waiting: Waiting, answer: FetchAnswer) -> Outcome:
        assert isinstance(waiting, WaitingForRedirect)
        if answer.error:
            raise FlowError(f"REDIRECT to {waiting.url or waiting.flow} failed: {answer.error}")
        if waiting.flow:
            ctx.switch_to = answer.data
            return NEXT
        actions = replacement(answer.data)
        if actions is None:
            raise FlowError(f"REDIRECT to {waiting.url} answered no 'actions' list")
        ctx.replace_with = dynamic_flow(ctx, waiting.url, actions)
        return NEXT
