"""Keys, the Authorization header and the destination guards, without a stack."""

from __future__ import annotations

import base64

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType
from starlette.requests import Request

from switchboard.errors import Forbidden
from switchboard_api.auth import presented_key
from switchboard_api.guards import SAFE_TYPES, check_destination, region_and_type
from switchboard_api.tenancy import Policy, Tenant, digest, new_key, parse_key


def e164(region: str, kind: int) -> str:
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def tenant(**policy: object) -> Tenant:
    return Tenant("acme", "Acme", Policy.model_validate(policy))


def request_with(authorization: str | None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_a_new_key_parses_back_to_its_id_and_secret():
    key_id, secret, full = new_key()
    assert full == f"sb_{key_id}_{secret}" and parse_key(full) == (key_id, secret)
    assert len(secret) == 43  # 32 bytes of randomness, URL-safe base64
    assert digest(secret) != secret and len(digest(secret)) == 64
    assert new_key()[2] != full


@pytest.mark.parametrize("bad", ["", "sb_", "sb_xyz_abc", "Bearer sb_0123456789abcdef_" + "a" * 43, "sk_live_123"])
def test_malformed_keys_do_not_parse(bad):
    assert parse_key(bad) is None


def test_bearer_and_basic_carry_the_key():
    _, _, key = new_key()
    assert presented_key(request_with(f"Bearer {key}")) == key
    assert presented_key(request_with(f"bearer  {key} ")) == key
    basic = base64.b64encode(f"anyone:{key}".encode()).decode()
    assert presented_key(request_with(f"Basic {basic}")) == key
    for header in (None, "", "Bearer ", "Basic !!!", "Digest x", "Basic " + base64.b64encode(b"user:").decode()):
        assert presented_key(request_with(header)) is None


def test_accounts_a_tenant_may_use():
    policy = Policy(accounts=["africastalking:ke-ops", "voxology:*"])
    assert policy.may_use("africastalking", "ke-ops") and policy.may_use("voxology", "us")
    assert not policy.may_use("africastalking", "default") and not Policy().may_use("telesign", "default")
    assert Policy(accounts=["*:*"]).may_use("telesign", "x")


def test_default_countries_are_those_of_the_tenants_numbers():
    t = tenant(numbers=["+254711000100", "+256700000001"])
    assert t.policy.allowed_regions() == {"KE", "UG"}
    check_destination(t, e164("UG", PhoneNumberType.MOBILE))
    with pytest.raises(Forbidden, match="GB") as refused:
        check_destination(t, e164("GB", PhoneNumberType.MOBILE))
    assert refused.value.field == "to"
    with pytest.raises(Forbidden, match="none"):
        check_destination(tenant(), e164("KE", PhoneNumberType.MOBILE))


@pytest.mark.parametrize(
    ("region", "kind"),
    [
        ("KE", PhoneNumberType.PREMIUM_RATE),
        ("GB", PhoneNumberType.PREMIUM_RATE),
        ("GB", PhoneNumberType.PERSONAL_NUMBER),
        ("GB", PhoneNumberType.UAN),
        ("US", PhoneNumberType.PREMIUM_RATE),
        ("FR", PhoneNumberType.SHARED_COST),
    ],
)
def test_high_cost_types_are_blocked_by_default_and_can_be_allowed(region, kind):
    to = e164(region, kind)
    name = region_and_type(to)[1]
    assert name not in SAFE_TYPES
    with pytest.raises(Forbidden, match=name):
        check_destination(tenant(allowed_countries=[region]), to)
    check_destination(tenant(allowed_countries=[region], allowed_number_types=[name]), to)


@pytest.mark.parametrize(
    "kind", [PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP]
)
def test_ordinary_numbers_pass(kind):
    check_destination(tenant(allowed_countries=["GB"]), e164("GB", kind))
