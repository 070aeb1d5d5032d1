"""``switchboard-api [serve]``: serve the control-plane API on ``SB_API_HOST:SB_API_PORT``.

``switchboard-api local-key PATH``: make sure the local tenant exists and write a new key for it
to ``PATH`` (JSON: ``tenant_id``, ``key_id``, ``key``, ``scopes``; mode 0600). ``make up`` and the
demo use it; the key can place calls on the local stack only.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from switchboard.entrypoint import serve
from switchboard_api.settings import ApiSettings


def main() -> None:
    settings = ApiSettings()
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "local-key":
        from switchboard_api.local import write_local_key

        if len(sys.argv) < 3:
            sys.exit("usage: switchboard-api local-key PATH")
        asyncio.run(write_local_key(settings, Path(sys.argv[2]), tenant_id=os.environ.get("SB_LOCAL_TENANT", "local")))
        return
    from switchboard_api.app import build_app

    serve(build_app(settings), host=settings.api_host, port=settings.api_port, drain_s=settings.drain_s)


if __name__ == "__main__":
    main()
