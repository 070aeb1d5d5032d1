"""api settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from switchboard.settings import StatusCallbackSettings


class ApiSettings(StatusCallbackSettings):
    """``SB_API_HOST``/``SB_API_PORT``: where the control-plane API listens (default
    127.0.0.1:8084; keep it inside the cluster or behind the gateway: it is not the ingress).
    ``SB_DATABASE_URL``: PostgreSQL holding tenants and API keys (``postgresql://…``).
    ``SB_DIAL_WAIT_S``: how long a call request waits for the dialer before answering 202.
    ``SB_INVOKE_FLOW``: the flow ``GET /voice/invoke-call`` runs when none is named.
    ``SB_FLOWS_DIR``: the flow documents calls are checked against.
    The live-calls cap's lease life: ``SB_CALL_LEASE_S`` (shared with the dialer).
    ``SB_CAMPAIGN_UPLOAD_MAX_BYTES``: the body limit of a streamed contact or do-not-call CSV
    upload (other routes keep ``SB_MAX_BODY_BYTES``); ``SB_CAMPAIGN_JSON_MAX_BYTES``: a JSON contact
    list's (parsed whole). ``SB_CAMPAIGN_DEFAULT_CPS``: the pace an ETA assumes for a campaign
    without its own cps (the dialer's setting of the same name paces it). ``SB_DNC_MAX_AGE_DAYS``:
    a do-not-call list older than this is reported stale.
    The console (``/console``): ``SB_CONSOLE_SESSION_S`` a login's idle life (s, default 8 h);
    ``SB_CONSOLE_SIMULATOR_URL`` the provider simulator whose interactive phones the flow page
    calls from the browser (unset: no "call it" button; the local stack sets it);
    ``SB_CONSOLE_TRY_PROVIDER``/``SB_CONSOLE_TRY_ACCOUNT`` the account those calls go out on."""

    api_host: str = "127.0.0.1"
    api_port: int = 8084
    database_url: str = "postgresql://switchboard@127.0.0.1:5432/switchboard"
    dial_wait_s: float = 5.0
    invoke_flow: str = "survey"
    flows_dir: Path = Path("flows")
    campaign_upload_max_bytes: int = Field(default=2 << 30, ge=1024)
    campaign_json_max_bytes: int = Field(default=32 << 20, ge=1024)
    campaign_default_cps: float = Field(default=10.0, gt=0)
    dnc_max_age_days: int = Field(default=31, ge=1)
    console_session_s: int = Field(default=8 * 3600, ge=60)
    console_simulator_url: str | None = None
    console_try_provider: str = "africastalking"
    console_try_account: str = "default"

    @property
    def async_database_url(self) -> str:
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
