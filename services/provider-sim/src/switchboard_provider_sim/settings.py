"""Simulator settings (environment, ``SIM_`` prefix)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimSettings(BaseSettings):
    """``SIM_AT_CALLBACK_URL`` / ``SIM_AT_EVENTS_URL``: where AT posts notifications (the platform's
    ingress). ``SIM_SPEED``: simulated seconds per real second (1 = real time; tests use 50+).
    ``SIM_ANSWER_RATIO``/``SIM_BUSY_RATIO`` (the rest is no-answer): outcome mix for numbers with no
    script. ``SIM_DIGITS``: keys a simulated person picks from when no script says what to press.
    ``SIM_RESPONSE_TIMEOUT_S``: real seconds AT waits for the platform's answer (spec §7: 5 s).
    ``SIM_QUEUE_PATIENCE_S``: simulated seconds a queued caller waits before hanging up.
    ``SIM_TRANSFER_RESPONSE_WRAPPED``: answer /callTransfer wrapped in ``callTransferResponse``
    (default) or flat (spec §8). ``SIM_TS_SIGN``: sign Telesign events (off: unsigned, as the docs
    allow); ``SIM_TS_SIGNATURE_FORM``: ``tsa`` (default) sends ``Authorization: TSA <customer_id>:<sig>``
    plus ``X-TS-Authorization: <sig>``, ``sdk`` the bare signature in ``Authorization`` alone, the
    form the official SDK's ``verify_telesign_callback_signature`` checks (telesign.md §5).
    ``SIM_IB_API_KEY``: the Infobip key (``Authorization: App <key>``)."""

    model_config = SettingsConfigDict(env_prefix="SIM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8090
    at_username: str = "sandbox"
    at_api_key: str = "sim-api-key"
    at_callback_url: str = "http://127.0.0.1:8080/voice/instruct"
    at_events_url: str | None = "http://127.0.0.1:8080/voice/events"
    final_to_events_url: bool = True
    speed: float = Field(default=1.0, gt=0)
    seed: int = 7
    answer_ratio: float = Field(default=0.8, ge=0, le=1)
    busy_ratio: float = Field(default=0.1, ge=0, le=1)
    digits: str = "12345"
    ring_s: float = 4.0
    no_input_chance: float = Field(default=0.0, ge=0, le=1)
    response_timeout_s: float = 5.0
    currency: str = "KES"
    rate_per_minute: str = "1.50"
    carrier: str = "SimNet"
    max_callbacks_per_call: int = 200
    queue_patience_s: float = 300.0
    vox_api_key: str = "sim-vox-key"
    ts_customer_id: str = "SIM-CUSTOMER-0001"
    ts_api_key: str = "c2ltLXRlbGVzaWduLWFwaS1rZXktMTIzNDU2Nzg5MA=="
    ts_webhook_url: str = "http://127.0.0.1:8080/providers/telesign/callback"
    ts_sign: bool = True
    ts_signature_form: Literal["tsa", "sdk"] = "tsa"
    vox_callback_url: str = "http://127.0.0.1:8080/providers/voxology/callback"
    transfer_response_wrapped: bool = True
    ib_api_key: str = "sim-infobip-key"
    ib_report_retries_min: tuple[float, ...] = (1.0, 5.0, 15.0)
    """Minutes (simulated) after which an unanswered report push is tried again (infobip.md §9)."""
    ib_price_per_second: str = "0.02"
    ib_currency: str = "EUR"
