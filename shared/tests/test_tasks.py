"""cancel_and_wait ends a loop whose cancellation a library swallowed (redis-py 8 under Python
3.11's ``asyncio.wait_for``, CPython gh-86296), which a single ``cancel`` + ``await`` never does."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.tasks import cancel_and_wait


async def swallowing_loop(swallow: int, turns: list[int]) -> None:
    """A background loop whose first ``swallow`` cancellations are lost, as when ``wait_for``
    completes with the command's answer just as the cancel lands."""
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if swallow == 0:
                raise
            swallow -= 1
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        turns.append(1)


async def test_a_single_cancel_lost_by_the_loop_leaves_it_running():
    task = asyncio.create_task(swallowing_loop(1, turns := []))
    await asyncio.sleep(0.02)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.3)
    assert not done and len(turns) > 3  # what `cancel(); await task` would wait on for ever
    await cancel_and_wait(task)


async def test_cancel_and_wait_ends_a_loop_that_swallows_cancels():
    task = asyncio.create_task(swallowing_loop(3, []))
    await asyncio.sleep(0.02)
    await asyncio.wait_for(cancel_and_wait(task, every_s=0.05), 5)
    assert task.cancelled()


async def test_a_loop_that_failed_raises_its_error_and_none_is_nothing():
    async def fails() -> None:
        raise RuntimeError("database away")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="database away"):
        await cancel_and_wait(task)
    await cancel_and_wait(None)


async def test_the_first_cancel_leaves_a_loop_its_clean_up():
    cleaned: list[str] = []

    async def loop_with_clean_up() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0.3)  # e.g. closing its connection
            cleaned.append("done")

    task = asyncio.create_task(loop_with_clean_up())
    await asyncio.sleep(0.01)
    await cancel_and_wait(task, grace_s=2.0)
    assert cleaned == ["done"] and task.cancelled()


async def test_a_cancelled_caller_still_sees_the_task_end_then_is_cancelled():
    task = asyncio.create_task(swallowing_loop(2, []))
    await asyncio.sleep(0.02)
    stopper = asyncio.create_task(cancel_and_wait(task, grace_s=5.0, every_s=0.05))
    await asyncio.sleep(0.05)
    stopper.cancel()  # e.g. the service's own shutdown is cut short
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert task.cancelled()
