"""What an Infobip voice message can carry (``infobip.md`` §3.3): text (SSML, commas as 0.5 s
pauses) or one audio file, answering-machine detection for the whole message, one DTMF collection
(``maxDtmf``/``dtmfTimeout``) at the end, and transfers on a key (``callTransfers``). Everything
else a flow does needs a live call, which Infobip's voice messages do not have (§1): the structural
rules are :func:`switchboard.providers.infobip.compiler.refusals`."""

from __future__ import annotations

from switchboard.providers.capabilities import Capabilities
from switchboard.providers.infobip.compiler import refusals

CAPABILITIES = Capabilities(
    provider="infobip",
    display_name="Infobip",
    actions=frozenset({"SAY", "PLAY", "PAUSE", "DETECT", "COLLECT", "TRANSFER", "HANGUP"}),
    max_per_reply=None,
    flow_check=refusals,
    one_message=True,
    notes=(
        "Outbound only: Infobip voice messages have no inbound calls (infobip.md §1).",
        "SAY, PAUSE (0.5 s per comma) or one PLAY, not both: the message is text or one audio file (§3.3).",
        "At most one COLLECT, at the top level, last among what is heard; only # ends input (maxDtmf, dtmfTimeout).",
        "TRANSFER only as IF $keyPresses == 'N' then TRANSFER after the COLLECT (callTransfers).",
        "A repeat on a key, IF $keyPresses == 'N' then GOTO back to before anything is heard, is repeatDtmf.",
        "No other GOTO, no WEBHOOK or REDIRECT, nothing spoken after the COLLECT: there is no live call (§1). "
        "IF, SET and FOREACH before the COLLECT run when the call is placed, with its data.",
        "Outcomes: delivery reports pushed to the ingress (notifyUrl) or pulled, once; calls whose report "
        "never came are looked up in the logs (48 h), which carry no DTMF.",
    ),
)
