"""``switchboard-provider-sim``: serve the simulator on ``SIM_HOST:SIM_PORT``.

The simulator shares nothing with Switchboard's own code (it is written from the provider specs),
so its command line is argparse here rather than ``switchboard.entrypoint``.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence
from importlib.metadata import version

from switchboard.entrypoint import serve
from switchboard_provider_sim.settings import SimSettings

DESCRIPTION = (
    "The provider simulator: plays Africa's Talking, Voxology and Telesign (their REST APIs, simulated "
    "phones and callbacks in each wire format) so Switchboard runs with no provider account. A dev and "
    "test tool, never deployed. Docs at /docs on SIM_HOST:SIM_PORT."
)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    variables = "\n".join(f"  SIM_{name.upper()}={f.default}" for name, f in SimSettings.model_fields.items())
    parser = argparse.ArgumentParser(
        prog="switchboard-provider-sim",
        description=DESCRIPTION,
        epilog=f"environment (default):\n{variables}\n\n{inspect.getdoc(SimSettings)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('switchboard-provider-sim')}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    parse(argv)
    from switchboard_provider_sim.app import build_app

    settings = SimSettings()
    serve(build_app(settings), host=settings.host, port=settings.port, drain_s=5)


if __name__ == "__main__":
    main()
