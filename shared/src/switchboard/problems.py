"""One error shape for every HTTP answer that is not a success: RFC 9457 ``application/problem+json``.

Routes raise Switchboard's errors (:mod:`switchboard.errors`); :func:`install` maps them to
responses once per app, so every 4xx/5xx of every service has the same body:

``{"type": "urn:switchboard:problem:<slug>", "title": .., "status": .., "detail": .., "instance":
<path>, "field": <bad field>?, "problems": [{"pointer": <JSON pointer>, "message": ..}]?}``

============================================  ======  =====================
error                                          status  type slug
============================================  ======  =====================
:class:`InvalidEvent` (bad input)              400     ``invalid-input``
:class:`InvalidEvent` on ``content-type``      415     ``unsupported-media-type``
:class:`AuthenticationFailed`                  401     ``unauthenticated``
:class:`Forbidden` (guard, scope)              403     ``forbidden``
:class:`NotFound`                              404     ``not-found``
:class:`Conflict`                              409     ``conflict``
:class:`PayloadTooLarge`                       413     ``payload-too-large``
:class:`Unprocessable` (account, flow)         422     ``unprocessable``
:class:`TooManyRequests` (+ ``Retry-After``)   429     ``too-many-requests``
:class:`ProviderError`                         502     ``provider-error``
:class:`ServiceUnavailable`                    503     ``unavailable``
============================================  ======  =====================

FastAPI's own request validation becomes a 400 ``invalid-input`` naming the first bad field and
listing every one as a JSON pointer into the request; an exception nobody mapped is a 500
``internal`` that is logged with its traceback (and never shows it to the client).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from switchboard.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidEvent,
    NotFound,
    PayloadTooLarge,
    ProviderError,
    ServiceUnavailable,
    SwitchboardError,
    TooManyRequests,
    Unprocessable,
)
from switchboard.logging import get_logger

log = get_logger(__name__)

MEDIA_TYPE = "application/problem+json"


class ProblemDetail(BaseModel):
    """One problem at a place in the request: ``pointer`` is a JSON pointer (RFC 6901) into the
    request body or the flow document, ``message`` says what is wrong there."""

    pointer: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="URI naming the kind of problem (urn:switchboard:problem:<slug>)")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request")
    instance: str | None = Field(default=None, description="the request path")
    field: str | None = Field(default=None, description="the request field at fault, when there is one")
    problems: list[ProblemDetail] | None = Field(default=None, description="each problem with its JSON pointer")


_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid-input", "Invalid input"),
    401: ("unauthenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Cannot be carried out"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal", "Internal error"),
    502: ("provider-error", "Provider error"),
    503: ("unavailable", "Service unavailable"),
}


def status_of(exc: SwitchboardError) -> int:
    """The HTTP status an error maps to (the table in the module docstring)."""
    if isinstance(exc, InvalidEvent):
        return 415 if exc.field == "content-type" else 400
    for cls, status in (
        (AuthenticationFailed, 401),
        (Forbidden, 403),
        (NotFound, 404),
        (Conflict, 409),
        (PayloadTooLarge, 413),
        (Unprocessable, 422),
        (TooManyRequests, 429),
        (ProviderError, 502),
        (ServiceUnavailable, 503),
    ):
        if isinstance(exc, cls):
            return status
    return 500


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    field: str | None = None,
    problems: list[ProblemDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A ``problem+json`` response."""
    slug, title = _KINDS.get(status, ("error", "Error"))
    body = Problem(
        type=f"urn:switchboard:problem:{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        field=field,
        problems=problems,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def response_for(exc: SwitchboardError, request: Request | None = None) -> JSONResponse:
    """The problem response for one of Switchboard's errors."""
    status = status_of(exc)
    details = getattr(exc, "problems", None)
    return problem(
        status,
        str(exc),
        instance=request.url.path if request else None,
        field=getattr(exc, "field", None),
        problems=[ProblemDetail(pointer=p, message=m) for p, m in details] if details else None,
        headers=getattr(exc, "headers", None),
    )


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts)


def install(app: FastAPI, *, max_body_bytes: int = 1 << 20, body_limits: Sequence[tuple[str, int]] = ()) -> None:
    """Map every error to a problem response on ``app`` (once per service), and cap request
    bodies at ``max_body_bytes`` (413, before parsing)."""

    async def switchboard_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SwitchboardError)
        status = status_of(exc)
        log.warning(
            "request refused",
            path=request.url.path,
            status=status,
            field=getattr(exc, "field", None),
            error=str(exc),
        )
        return response_for(exc, request)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        details = [ProblemDetail(pointer=_pointer(tuple(e.get("loc", ()))), message=str(e.get("msg"))) for e in errors]
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or None
        detail = f"{field}: {first.get('msg')}" if field else str(first.get("msg", "invalid request"))
        log.warning("request refused", path=request.url.path, status=400, field=field, error=detail)
        return problem(400, detail, instance=request.url.path, field=field, problems=details)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, str(exc.detail), instance=request.url.path, headers=headers)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # The client hung up while its request was read (a provider that gave up, a load
        # generator's timeout): nobody reads an answer, and a traceback per disconnect would make
        # an overloaded service slower still.
        log.info("client disconnected before its request was read", path=request.url.path)
        return Response(status_code=499)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", path=request.url.path, error=repr(exc), exc_info=exc)
        return problem(500, "an internal error occurred; it has been logged", instance=request.url.path)

    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """The app's OpenAPI with every 4xx/5xx body described as ``application/problem+json``
        (FastAPI files a response ``model`` under the route's own media type)."""
        if app.openapi_schema is None:
            spec = plain_openapi()
            for methods in spec.get("paths", {}).values():
                for op in methods.values():
                    answers = op.get("responses", {})
                    default = answers.get("422", {}).get("content", {}).get("application/json", {})
                    if default.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                        del answers["422"]  # request validation is answered 400 (see validation_error)
                        answers.setdefault("400", responses(400)[400] | {"content": {MEDIA_TYPE: _PROBLEM_REF}})
                    for status, answer in answers.items():
                        content = answer.get("content", {})
                        if status[:1] in "45" and MEDIA_TYPE in content and "application/json" in content:
                            content[MEDIA_TYPE] = {**content.pop("application/json"), **content[MEDIA_TYPE]}
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            if "Problem" not in schemas:
                problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(problem_schema.pop("$defs", {}))
                schemas["Problem"] = problem_schema
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(SwitchboardError, switchboard_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(Exception, unexpected)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, per_path=body_limits)


_PROBLEM_REF = {"schema": {"$ref": "#/components/schemas/Problem"}}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can return, each a :class:`Problem`
    with an example."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        slug, title = _KINDS.get(status, ("error", "Error"))
        out[status] = {
            "model": Problem,
            "description": title,
            "content": {
                MEDIA_TYPE: {
                    "example": {
                        "type": f"urn:switchboard:problem:{slug}",
                        "title": title,
                        "status": status,
                        "detail": EXAMPLE_DETAIL.get(status, title.lower()),
                    }
                }
            },
        }
    return out


EXAMPLE_DETAIL = {
    400: "'12' is not a valid phone number",
    401: "Telesign signature (X-TS-Authorization / Authorization) does not match",
    403: "missing or wrong callback secret (path token or Basic-auth password)",
    404: "no live call 'c0ffee'",
    409: "transfer is not available on voxology",
    413: "the body is larger than 1048576 bytes",
    415: "content type 'text/plain' is not a form body",
    422: "flow 'ivr' cannot run on telesign",
    502: "provider error: POST /call answered 500",
    503: "could not queue the call; try again",
}


class BodyLimit:
    """ASGI middleware: refuse a URL holding U+0000 (NUL, in the path or as ``%00`` in the query)
    with 400, and a request body over ``max_bytes`` with 413 before anything parses
    it, from its ``Content-Length`` or, for a chunked body, as soon as the bytes read pass the
    limit. Units: bytes. ``per_path``: ``(path regex, bytes)`` pairs; the first whose regex matches
    the whole path sets that request's limit instead (a streamed upload route's own)."""

    def __init__(self, app: Any, max_bytes: int, per_path: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.per_path = [(re.compile(pattern), limit) for pattern, limit in per_path]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.per_path:
            if pattern.fullmatch(path):
                return limit
        return self.default_max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            # U+0000 fits no identifier or filter (PostgreSQL text refuses it): one 400 for every route
            log.warning("request refused", path=path.replace("\x00", "\\0"), status=400, reason="U+0000 in the URL")
            await problem(400, "U+0000 (NUL) is not allowed in the URL", instance=path.replace("\x00", "%00"))(
                scope, receive, send
            )
            return
        max_bytes = self.limit_for(path)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(scope, receive, send, max_bytes)
            return
        seen = 0

        async def counting_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:  # FastAPI passes an HTTPException through its body parsing
                    log.warning("request refused", path=scope.get("path"), status=413, max_bytes=max_bytes)
                    raise StarletteHTTPException(413, f"the body is larger than {max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any, max_bytes: int) -> None:
        log.warning("request refused", path=scope.get("path"), status=413, max_bytes=max_bytes)
        response = problem(413, f"the body is larger than {max_bytes} bytes", instance=scope.get("path"))
        await response(scope, receive, send)
