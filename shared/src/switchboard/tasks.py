"""Ending a background task for sure.

A loop's ``task.cancel()`` can be lost on Python 3.11: redis-py 8 runs every command under
``asyncio.wait_for`` (its default ``socket_timeout`` is 5 s), and before Python 3.12 ``wait_for``
swallows a cancellation that lands as the awaited command completes (CPython gh-86296; redis-py
issue 2551). The loop then carries on to its next ``asyncio.sleep`` as if nothing happened, and an
``await task`` after a single cancel waits for ever: a service that never finishes its shutdown.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(
    task: asyncio.Task[Any] | asyncio.Future[Any] | None, *, grace_s: float = 2.0, every_s: float = 0.1
) -> None:
    """Cancel ``task`` and return once it has ended. The first cancel gets ``grace_s`` seconds (a
    loop's own clean-up, e.g. closing a connection in ``finally``, runs undisturbed); a task still
    running then is cancelled again every ``every_s`` seconds until it ends (see the module
    docstring). A task that ended with an error other than its cancellation raises that error
    here, as ``await task`` would. If the caller is cancelled meanwhile, the task is still given
    up to ``grace_s`` to end, then the caller's ``CancelledError`` is raised. ``None``: nothing."""
    if task is None:
        return
    loop = asyncio.get_running_loop()
    task.cancel()
    try:
        await asyncio.wait({task}, timeout=grace_s)
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=every_s)
    except asyncio.CancelledError:
        deadline = loop.time() + grace_s
        while not task.done() and loop.time() < deadline:
            task.cancel()
            await asyncio.wait({task}, timeout=every_s)
        raise
    if not task.cancelled():
        task.result()
