"""The callback guard (africastalking.md §6): Africa's Talking signs nothing, so a callback must
carry the deployment's secret, either as the path token of ``/providers/<provider>/t/<token>/…``
or as the Basic-auth password, and, when an allow-list is configured, come from an allowed
network. Anything else gets 403 and a log line; secrets are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from ipaddress import ip_address

from fastapi import Request

from switchboard.logging import get_logger
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)


def _basic_password(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def refused(request: Request, settings: IngressSettings, token: str | None) -> str | None:
    """Why this callback is refused, or None when it may pass."""
    if settings.callback_allow_ips:
        host = request.client.host if request.client else ""
        try:
            address = ip_address(host)
        except ValueError:
            return f"source {host!r} is not an IP address"
        if not any(address in network for network in settings.callback_allow_ips):
            return f"source {host} is not in SB_CALLBACK_ALLOW_IPS"
    if settings.callback_secret is None:
        return None
    secret = settings.callback_secret.get_secret_value().encode()
    for presented in (token, _basic_password(request)):
        if presented is not None and hmac.compare_digest(presented.encode(), secret):
            return None
    return "missing or wrong callback secret (path token or Basic-auth password)"


def check(request: Request, settings: IngressSettings, token: str | None = None) -> str | None:
    reason = refused(request, settings, token)
    if reason:
        log.warning(
            "callback refused by the guard",
            path=request.url.path.split("/t/")[0],
            reason=reason,
            source=request.client.host if request.client else None,
        )
    return reason
