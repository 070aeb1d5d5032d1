"""Contract test (STYLE §4): every event's example payload validates and round-trips."""

from __future__ import annotations

import importlib.resources

import orjson
import pytest
from pydantic import ValidationError

from switchboard.events import DEFAULT_TENANT, EVENT_MODELS, CallEvent, decode, encode
from switchboard.topics import Topic, all_topic_names


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_example_round_trips(model):
    raw = importlib.resources.files("switchboard.examples").joinpath(f"{model.__name__}.v1.json").read_bytes()
    event = decode(model, raw)
    assert event.schema_version == 1
    again = decode(model, encode(event))
    assert again == event
    # nothing in the example is dropped or invented by the model
    assert orjson.loads(encode(event)) == orjson.loads(raw)


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_unknown_fields_are_refused(model):
    raw = orjson.loads(
        importlib.resources.files("switchboard.examples").joinpath(f"{model.__name__}.v1.json").read_bytes()
    )
    raw["surprise"] = 1
    with pytest.raises(ValidationError):
        model.model_validate(raw)


def test_other_schema_version_is_refused():
    raw = orjson.loads(importlib.resources.files("switchboard.examples").joinpath("CallEvent.v1.json").read_bytes())
    raw["schema_version"] = 2
    with pytest.raises(ValidationError):
        CallEvent.model_validate(raw)


def test_topics_have_dead_letter_topics():
    names = all_topic_names()
    for topic in Topic:
        assert topic.value in names and f"{topic.value}.dlq" in names


@pytest.mark.parametrize("model", [m for m in EVENT_MODELS if "tenant_id" in m.model_fields], ids=lambda m: m.__name__)
def test_a_record_from_before_tenants_is_the_default_tenants(model):
    raw = orjson.loads(
        importlib.resources.files("switchboard.examples").joinpath(f"{model.__name__}.v1.json").read_bytes()
    )
    assert raw.pop("tenant_id") == "acme"
    assert model.model_validate(raw).tenant_id == DEFAULT_TENANT


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1970-01-01T00:30:00+01:00", False),  # 1969 in UTC
        ("1970-01-01T00:00:00+00:00", True),
        ("1971-06-01T12:00:00+14:00", True),
        ("2998-12-31T23:59:59-12:00", True),
        ("2999-12-31T23:30:00-01:00", False),  # 3000 in UTC
        ("2999-12-31T22:30:00-01:00", True),
        ("1969-12-31T23:59:59", False),  # naive: taken as UTC
    ],
)
def test_timestamps_are_bounded_by_their_utc_year(text: str, ok: bool) -> None:
    from datetime import datetime

    from switchboard.events import in_years

    value = datetime.fromisoformat(text)
    if ok:
        assert in_years(value) is value
    else:
        with pytest.raises(ValueError, match="years 1970 to 2999"):
            in_years(value)
