"""The Infobip account (``infobip.md`` §2): ``SB_INFOBIP_BASE_URL`` (per account,
``https://<id>.api.infobip.com``), ``SB_INFOBIP_API_KEY`` (sent as ``Authorization: App <key>``; also
the key that signs each message's ``callbackData``, §8), ``SB_INFOBIP_FROM_NUMBER`` (the caller ID),
``SB_INFOBIP_NOTIFY_URL`` (where Infobip pushes delivery reports: the ingress's
``/providers/infobip/t/<secret>/reports``; unset, reports are pulled, §5),
``SB_INFOBIP_POLL_S`` (how often the poller pulls reports and reconciles from the logs)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class InfobipSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SB_INFOBIP_", extra="ignore")

    base_url: str | None = None
    api_key: SecretStr | None = None
    from_number: str = "+15550000700"
    notify_url: str | None = None
    poll_s: float = 5.0
    reconcile_after_s: float = 120.0
    """A message with no report this long after its call should have ended is looked up in the logs."""
