"""webhook-ingress settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

import math
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from switchboard.providers.base import FallbackPolicy
from switchboard.settings import ServiceSettings


class IngressSettings(ServiceSettings):
    """``SB_INGRESS_HOST``/``SB_INGRESS_PORT``: where to listen (default 127.0.0.1:8080).
    ``SB_REPLY_TIMEOUT_S``: how long a live callback waits for the flow-runner before the fallback.
    ``SB_FALLBACK_MODE``: ``redirect`` (hold, then the provider posts again and gets the late
    reply; at most ``SB_FALLBACK_MAX_REDIRECTS`` times) or ``hangup`` (apology, end of call).
    ``SB_FALLBACK_MAX_HOLD_S``: the longest a caller is held before the apology (default 20 s: a
    flow-runner's restart plus a consumer-group rebalance); unless ``SB_FALLBACK_MAX_REDIRECTS`` is
    set, the redirects are ``ceil(max hold / reply timeout) - 1`` (each round waits a reply timeout).
    The first hold says ``SB_HOLD_MESSAGE``; later ones play ``SB_HOLD_AUDIO_URL`` (default: the
    ingress's own hold tone, :mod:`switchboard_ingress.hold`).
    ``SB_REPLY_TIMEOUT_S`` is the whole budget of a live callback (duplicate guard, publish, wait):
    keep it under the provider's own timeout (Africa's Talking drops a call after about 5 s).
    ``SB_PUBLISH_TIMEOUT_S`` bounds one publish; ``SB_PUBLISH_RETRY_S`` how long an event that could
    not be published is retried in the background (the caller hears the fallback meanwhile).
    ``SB_DEDUPE_TTL_S``: how long a callback is remembered for duplicate detection.
    ``SB_REPORT_POLL_S``: how often outcomes are pulled from providers that hold them for a pull
    (Infobip), ``SB_REPORT_OVERDUE_S``: how long after sending a call whose outcome never came is
    looked up in the provider's logs (:mod:`switchboard_ingress.polling`).
    ``SB_CALLBACK_SECRET``: the per-deployment secret provider callbacks must carry, as the path token
    of ``/providers/<provider>/t/<secret>/…`` or as the Basic-auth password (any user name);
    ``SB_CALLBACK_ALLOW_IPS``: optional JSON list of networks callbacks may come from. Without the
    secret callbacks are not guarded, which only a local deployment may do (:attr:`is_local`: ``SB_ENV``
    dev/test and ``SB_INGRESS_HOST`` on loopback); any other refuses to start."""

    ingress_host: str = "127.0.0.1"
    ingress_port: int = 8080
    reply_timeout_s: float = Field(default=3.0, gt=0)
    fallback_mode: Literal["redirect", "hangup"] = "redirect"
    fallback_max_redirects: int | None = Field(default=None, ge=0)
    fallback_max_hold_s: float = Field(default=20.0, gt=0, le=300)
    hold_message: str = "Please hold."
    hold_audio_url: str | None = None
    apology_message: str = "Sorry, we cannot take your call right now. Please try again later."
    publish_timeout_s: float = Field(default=2.0, gt=0)
    publish_retry_s: float = Field(default=20.0, ge=0)
    dedupe_ttl_s: int = 6 * 3600
    report_poll_s: float = Field(default=5.0, gt=0)
    report_overdue_s: float = Field(default=600.0, ge=0)
    callback_secret: SecretStr | None = None
    callback_allow_ips: list[IPv4Network | IPv6Network] = Field(default_factory=list)

    def fallback_policy(self) -> FallbackPolicy:
        """What a late reply turns into, for :meth:`~switchboard.providers.base.Provider.fallback`."""
        return FallbackPolicy(
            hold_message=self.hold_message,
            apology_message=self.apology_message,
            mode=self.fallback_mode,
            max_redirects=self.max_redirects,
            hold_audio_url=self.hold_audio_url,
        )

    @property
    def max_redirects(self) -> int:
        """Hold-and-redirects per late callback (``SB_FALLBACK_MAX_REDIRECTS``, else from the
        maximum hold and the reply timeout)."""
        if self.fallback_max_redirects is not None:
            return self.fallback_max_redirects
        return max(0, math.ceil(self.fallback_max_hold_s / self.reply_timeout_s) - 1)

    @property
    def is_local(self) -> bool:
        """A local deployment: ``SB_ENV`` is ``dev`` or ``test`` *and* the ingress listens on a
        loopback address only (``127.0.0.0/8``, ``::1``, ``localhost``), so no other machine can
        reach its callbacks. Anything else (``prod``, or any env bound to ``0.0.0.0``, a LAN or a
        public address) is a deployment whose callbacks strangers can reach."""
        if self.env not in ("dev", "test"):
            return False
        if self.ingress_host == "localhost":
            return True
        try:
            return ip_address(self.ingress_host).is_loopback
        except ValueError:
            return False

    @model_validator(mode="after")
    def guard_in_production(self) -> IngressSettings:
        """Africa's Talking signs nothing: every deployment that is not local (:attr:`is_local`)
        must guard its callback URLs with a secret."""
        if self.callback_secret is None and not self.is_local:
            raise ValueError(
                "SB_CALLBACK_SECRET must be set unless the ingress is local (SB_ENV=dev/test and "
                f"SB_INGRESS_HOST on loopback; here SB_ENV={self.env}, SB_INGRESS_HOST={self.ingress_host}): "
                "callbacks would be unguarded"
            )
        if self.callback_secret is not None and len(self.callback_secret.get_secret_value()) < 22:
            raise ValueError("SB_CALLBACK_SECRET must have at least 128 bits (22+ random URL-safe characters)")
        return self
