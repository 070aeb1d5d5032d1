"""The ingress refuses unsafe settings at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from switchboard_ingress.settings import IngressSettings

PROD = {"env": "prod", "kafka_idempotence": True, "redis_url": "redis://redis.internal:6379/0"}


def test_production_needs_a_callback_secret():
    with pytest.raises(ValidationError, match="SB_CALLBACK_SECRET must be set"):
        IngressSettings(**PROD)
    assert IngressSettings(**PROD, callback_secret="x" * 32).callback_secret is not None


def test_short_secrets_are_refused():
    with pytest.raises(ValidationError, match="128 bits"):
        IngressSettings(callback_secret="short")
