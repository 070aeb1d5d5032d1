"""flow-runner settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import ServiceSettings


class FlowRunnerSettings(ServiceSettings):
    """``SB_FLOWS_DIR``: flow documents and ``routes.yaml``. ``SB_CALLBACK_URL``: the public URL of
    the ingress's AT callback endpoint, put in ``GetDigits`` callback URLs (None: left out).
    ``SB_OUTBOUND_STATE_WAIT_S``: how long an outbound call's first callback waits for the state the
    dialer writes (they race). ``SB_RUNNER_CONCURRENCY``: partitions handled at once.
    ``SB_FETCH_MAX_WAIT_MS``: how long a fetch may wait for data at the broker; a caller waits on
    this hop, and Tansu answers an empty fetch only when the wait runs out.
    ``SB_COMMIT_INTERVAL_S``: processed offsets are committed this often, not once per message."""

    runner_host: str = "127.0.0.1"
    runner_port: int = 8081
    flows_dir: Path = Path("flows")
    callback_url: str | None = None
    outbound_state_wait_s: float = 2.0
    step_budget: int = 1000
    error_message: str = "Sorry, we are unable to continue this call. Goodbye."
    runner_concurrency: int = 8
    fetch_max_wait_ms: int = 5
    commit_interval_s: float = 0.1
