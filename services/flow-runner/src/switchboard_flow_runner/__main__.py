"""``switchboard-flow-runner``: run the flow-runner (health on ``SB_RUNNER_HOST:SB_RUNNER_PORT``)."""

from __future__ import annotations

import uvicorn

from switchboard_flow_runner.app import build_app
from switchboard_flow_runner.settings import FlowRunnerSettings


def main() -> None:
    settings = FlowRunnerSettings()
    uvicorn.run(
        build_app(settings), host=settings.runner_host, port=settings.runner_port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
