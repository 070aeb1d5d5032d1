"""The native variables every flow sees (FLOW-LANGUAGE.md, Variables); SET may not overwrite them,
and validation does not warn when a flow reads them."""

from __future__ import annotations

NATIVE_VARIABLES = frozenset(
    {
        "callId",
        "callKey",
        "provider",
        "direction",
        "callerNo",
        "callerNumber",
        "apiNo",
        "destinationNo",
        "startTime",
        "callTime",
        "keyPresses",
        "collected",
        "recordingUrl",
        "recordings",
        "detection",
        "sessionData",
        "campaignId",
        "attempt",
        "webhook",
    }
)
