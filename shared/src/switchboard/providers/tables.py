"""``docs/providers.md``: what each provider can and cannot do, generated from the capability
tables (``Capabilities`` of every provider in the registry), so the page cannot drift from the
code. ``uv run python -m switchboard.providers.tables > docs/providers.md`` writes it; a test
checks the file is current."""

from __future__ import annotations

from switchboard.flow.actions import REGISTRY
from switchboard.providers import PROVIDERS

HEADER = """# Providers: what each can and cannot do

Generated from the capability tables (`uv run python -m switchboard.providers.tables > docs/providers.md`);
do not edit by hand. Validation refuses, before any call, a flow that uses what its provider cannot
carry out, with the JSON pointer of each problem, and warns at what a provider would drop.
Server-side actions (IF, GOTO, LABEL, FOREACH, SET, SESSIONDATA, WEBHOOK, REDIRECT, STOP) run in
Switchboard and work on every provider with live calls.
"""


def render() -> str:
    providers = list(PROVIDERS.values())
    facing = sorted(kind for kind, spec in REGISTRY.items() if spec.provider_facing)
    lines = [HEADER, "| action | " + " | ".join(p.display_name for p in providers) + " |"]
    lines.append("|---|" + "---|" * len(providers))
    for kind in facing:
        cells = []
        for p in providers:
            caps = p.capabilities
            mark = "yes" if kind in caps.actions else "no"
            if kind in caps.actions and caps.dropped.get(kind):
                mark += " (drops " + ", ".join(f"`{k}`" for k in caps.dropped[kind]) + ")"
            cells.append(mark)
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("## Per provider")
    lines.append("")
    for p in providers:
        caps = p.capabilities
        if caps.one_message:
            kind = "one message per call: the flow is compiled when the call is placed, its outcome is a report"
        elif caps.max_per_reply is None:
            kind = "live calls, any number of actions per reply"
        else:
            kind = f"live calls, {caps.max_per_reply} action per reply (a batch goes one reply at a time)"
        lines.append(f"- **{p.display_name}** (`{p.name}`): {kind}.")
        for action, parts in sorted(caps.dropped.items()):
            for part, why in parts.items():
                lines.append(f"  - {action} `{part}`: dropped, {why}")
        for note in caps.notes:
            lines.append(f"  - {note}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
