"""Unit tests for the one home of the toll-fraud policy (:mod:`switchboard.tollfraud`), which the
api's guards and the flow-runner's DIAL/TRANSFER guard both call."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from switchboard.tollfraud import SAFE_TYPES, Policy, destination_refusal, guard_for, refuse_all, region_and_type

KE_MOBILE = "+254700000010"
KE_POLICY = Policy(numbers=["+254700000001"])


def example(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None, (region, kind)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_region_and_type_of_a_mobile_and_of_garbage() -> None:
    assert region_and_type(KE_MOBILE) == ("KE", "MOBILE")
    assert region_and_type("not a number") == (None, "UNKNOWN")
    assert region_and_type("+999123") == (None, "UNKNOWN")


def test_own_country_mobile_is_allowed() -> None:
    assert destination_refusal("acme", KE_POLICY, KE_MOBILE) is None


def test_country_defaults_to_the_tenants_own_numbers() -> None:
    reason = destination_refusal("acme", KE_POLICY, example("GB", PhoneNumberType.MOBILE))
    assert reason is not None and "GB" in reason and "KE" in reason and "'acme'" in reason


def test_no_numbers_and_no_countries_refuses_everything() -> None:
    reason = destination_refusal("empty", Policy(), KE_MOBILE)
    assert reason is not None and "none" in reason


@pytest.mark.parametrize(
    ("region", "kind", "name"),
    [
        ("GB", PhoneNumberType.PREMIUM_RATE, "PREMIUM_RATE"),
        ("FR", PhoneNumberType.SHARED_COST, "SHARED_COST"),
        ("GB", PhoneNumberType.UAN, "UAN"),
        ("GB", PhoneNumberType.PERSONAL_NUMBER, "PERSONAL_NUMBER"),
        ("GB", PhoneNumberType.PAGER, "PAGER"),
        ("DE", PhoneNumberType.VOICEMAIL, "VOICEMAIL"),
    ],
)
def test_risky_number_types_are_blocked_in_an_allowed_country(region: str, kind: int, name: str) -> None:
    number = example(region, kind)
    assert region_and_type(number) == (region, name)
    assert name not in SAFE_TYPES
    reason = destination_refusal("acme", Policy(allowed_countries=[region.lower()]), number)
    assert reason is not None and name in reason and "toll-fraud" in reason


def test_a_policy_can_widen_the_number_types() -> None:
    premium = example("GB", PhoneNumberType.PREMIUM_RATE)
    wide = Policy(allowed_countries=["GB"], allowed_number_types=[*SAFE_TYPES, "PREMIUM_RATE"])
    assert destination_refusal("acme", wide, premium) is None


def test_allowed_countries_overrides_the_numbers() -> None:
    policy = Policy(numbers=["+254700000001"], allowed_countries=["GB"])
    assert destination_refusal("acme", policy, KE_MOBILE) is not None
    assert destination_refusal("acme", policy, example("GB", PhoneNumberType.MOBILE)) is None


def test_guard_for_and_refuse_all() -> None:
    guard = guard_for("acme", KE_POLICY)
    assert guard(KE_MOBILE) is None
    assert guard(example("GB", PhoneNumberType.PREMIUM_RATE)) is not None
    closed = refuse_all("policy unreadable")
    assert closed(KE_MOBILE) == "policy unreadable"


def test_may_use_accounts() -> None:
    policy = Policy(accounts=["voxology:main", "sim:*"])
    assert policy.may_use("voxology", "main")
    assert not policy.may_use("voxology", "other")
    assert policy.may_use("sim", "anything")
    assert not Policy().may_use("sim", "a")
