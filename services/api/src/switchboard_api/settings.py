"""api settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import ServiceSettings


class ApiSettings(ServiceSettings):
    """``SB_API_HOST``/``SB_API_PORT``: where the control-plane API listens (default
    127.0.0.1:8084; keep it inside the cluster or behind the gateway: it is not the ingress).
    ``SB_DATABASE_URL``: PostgreSQL holding tenants and API keys (``postgresql://…``).
    ``SB_DIAL_WAIT_S``: how long a call request waits for the dialer before answering 202.
    ``SB_INVOKE_FLOW``: the flow ``GET /voice/invoke-call`` runs when none is named.
    ``SB_FLOWS_DIR``: the flow documents calls are checked against.
    The live-calls cap's lease life: ``SB_CALL_LEASE_S`` (shared with the dialer)."""

    api_host: str = "127.0.0.1"
    api_port: int = 8084
    database_url: str = "postgresql://switchboard@127.0.0.1:5432/switchboard"
    dial_wait_s: float = 5.0
    invoke_flow: str = "survey"
    flows_dir: Path = Path("flows")

    @property
    def async_database_url(self) -> str:
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
