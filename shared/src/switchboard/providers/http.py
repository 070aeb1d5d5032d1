"""The retry policy every provider REST client shares.

Placing a call is not idempotent: a request that timed out may have rung the phone, so only
failures where the request surely never reached the provider (connection refused, connect timeout)
are retried, three times with a short backoff.
"""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential


async def post_unsent_retry(http: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    """``POST path``; raises the last ``httpx.HTTPError`` when every attempt failed."""
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.1, max=1),
        retry=retry_if_exception_type((httpx.ConnectError, httpx.ConnectTimeout)),
        reraise=True,
    ):
        with attempt:
            return await http.post(path, **kwargs)
    raise AssertionError("unreachable")
