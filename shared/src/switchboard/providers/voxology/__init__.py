"""Voxology Programmable Voice adapter. Reference: ``shared/specs/providers/voxology.md``.

Switchboard runs server-side control flow (IF, GOTO, FOREACH, SET …) in its own flow-runner and
sends Voxology only provider-facing actions, one batch per callback. Why not pass control flow
through: one engine means the same semantics, limits and CDR inputs on every provider (parity by
construction), session data and collected digits stay server-side (the spec's §6 treats the
``session_data`` that round-trips through Voxology as attacker-controlled), and WEBHOOK/dynamic flows
work the same. The cost is a callback per input, which Voxology's loop makes anyway.
"""

from switchboard.providers.voxology.callbacks import dedupe_key, parse_callback
from switchboard.providers.voxology.capabilities import CAPABILITIES
from switchboard.providers.voxology.client import VoxologyClient
from switchboard.providers.voxology.provider import PROVIDER
from switchboard.providers.voxology.render import CONTENT_TYPE, render

__all__ = ["CAPABILITIES", "CONTENT_TYPE", "PROVIDER", "VoxologyClient", "dedupe_key", "parse_callback", "render"]
