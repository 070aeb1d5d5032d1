"""The ingress refuses unsafe settings at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from switchboard_ingress.settings import IngressSettings

PROD = {"env": "prod", "kafka_idempotence": True, "redis_url": "redis://redis.internal:6379/0"}


def test_production_needs_a_callback_secret():
    with pytest.raises(ValidationError, match="SB_CALLBACK_SECRET must be set"):
        IngressSettings(**PROD, ingress_host="127.0.0.1")
    assert IngressSettings(**PROD, callback_secret="x" * 32).callback_secret is not None


def test_short_secrets_are_refused():
    with pytest.raises(ValidationError, match="128 bits"):
        IngressSettings(callback_secret="short")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "203.0.113.7", "ingress.internal"])
def test_a_dev_ingress_reachable_from_other_machines_needs_a_callback_secret(host):
    with pytest.raises(ValidationError, match="SB_CALLBACK_SECRET must be set unless the ingress is local"):
        IngressSettings(env="dev", ingress_host=host)
    assert not IngressSettings(env="dev", ingress_host=host, callback_secret="x" * 32).is_local


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_local_ingress_may_run_without_a_secret(host):
    settings = IngressSettings(env="dev", ingress_host=host)
    assert settings.is_local and settings.callback_secret is None
    assert IngressSettings(env="test", ingress_host=host).is_local
