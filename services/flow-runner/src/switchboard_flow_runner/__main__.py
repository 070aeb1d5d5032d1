"""``switchboard-flow-runner``: run the flow-runner (health on ``SB_RUNNER_HOST:SB_RUNNER_PORT``)."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.entrypoint import parse_command_line, serve
from switchboard_flow_runner.settings import FlowRunnerSettings

DESCRIPTION = (
    "Switchboard's flow-runner: consumes voice.call-events, runs each call's flow from SB_FLOWS_DIR "
    "with its state in Redis, pushes the rendered provider reply for the waiting webhook and publishes "
    "voice.sessions-ended when a call ends. Serves /health and /ready on SB_RUNNER_HOST:SB_RUNNER_PORT."
)


def main(argv: Sequence[str] | None = None) -> None:
    parse_command_line("switchboard-flow-runner", DESCRIPTION, FlowRunnerSettings, argv)
    from switchboard_flow_runner.app import build_app

    settings = FlowRunnerSettings()
    serve(build_app(settings), host=settings.runner_host, port=settings.runner_port, drain_s=settings.drain_s)


if __name__ == "__main__":
    main()
