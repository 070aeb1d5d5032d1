"""The command line every service's ``__main__`` shares: ``--help`` and ``--version``.

A service is configured by its environment (its settings class), not by flags, so ``--help``
says what the service is and lists each ``SB_*`` variable it reads with its default, followed by
the settings class's own description of them. Nothing is built or started before the arguments are
parsed: ``--help`` works without a broker, a database or valid settings.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic_settings import BaseSettings


def distribution_version(distribution: str) -> str:
    """The installed version of ``distribution`` (``0+unknown`` when it is not installed)."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "0+unknown"


def environment_help(settings: type[BaseSettings]) -> str:
    """``NAME=default`` for every variable ``settings`` reads, then its docstring."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    lines = ["environment (default):"]
    for name, info in settings.model_fields.items():
        default = "(unset)" if info.default is None or info.is_required() else info.default
        lines.append(f"  {(prefix + name).upper()}={default}")
    doc = inspect.getdoc(settings)
    return "\n".join(lines) + (f"\n\n{doc}" if doc else "")


def parse_command_line(
    distribution: str,
    description: str,
    settings: type[BaseSettings],
    argv: Sequence[str] | None = None,
    *,
    prog: str | None = None,
    commands: dict[str, str] | None = None,
) -> argparse.Namespace:
    """Parse ``argv`` for the service ``distribution``, whose console script is ``prog`` (default:
    the distribution's name).

    ``commands`` (name → help), when given, adds an optional positional ``command`` whose default
    is the first one. ``--help`` and ``--version`` print and exit 0; an unknown argument exits 2
    with argparse's one-line message.
    """
    parser = argparse.ArgumentParser(
        prog=prog or distribution,
        description=description,
        epilog=environment_help(settings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {distribution_version(distribution)}")
    if commands:
        names = list(commands)
        parser.add_argument(
            "command",
            nargs="?",
            default=names[0],
            choices=names,
            help="; ".join(f"{name}: {text}" for name, text in commands.items()) + f" (default: {names[0]})",
        )
    return parser.parse_args(argv)


def serve(app: Any, *, host: str, port: int, drain_s: float) -> None:
    """Run ``app`` under uvicorn until SIGTERM/SIGINT, the way every service runs.

    On SIGTERM uvicorn stops accepting connections, lets the requests in flight finish for up to
    ``drain_s`` seconds (``SB_DRAIN_S``: the ingress answers the callbacks it holds), then runs the
    app's shutdown: drains (the ingress records what it accepted), the broker's stop (consumers
    commit what they processed and leave their group), closers. Kubernetes'
    ``terminationGracePeriodSeconds`` (45 s in ``deploy/k8s``) must exceed ``drain_s`` plus that
    shutdown. ``log_config=None``: uvicorn keeps to the root logger, which
    :func:`switchboard.logging.configure_logging` renders as JSON like every other line.
    """
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=max(1, round(drain_s)),
    )
