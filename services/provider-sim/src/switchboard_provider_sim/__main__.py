"""``switchboard-provider-sim``: serve the simulator on ``SIM_HOST:SIM_PORT``."""

from __future__ import annotations

import uvicorn

from switchboard_provider_sim.app import build_app
from switchboard_provider_sim.settings import SimSettings


def main() -> None:
    settings = SimSettings()
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
