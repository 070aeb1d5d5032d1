"""The dialer's campaign scheduler (:mod:`switchboard.campaigns.scheduling`) as a background task:
every ``SB_CAMPAIGN_TICK_S`` it takes each running campaign's due contacts (when this replica wins
the campaign's hopper) and publishes them to ``voice.dial-requests``, keyed by contact. Every
``SB_CAMPAIGN_REAP_S`` it closes attempts whose end never came. Any number of replicas may run it.
"""

from __future__ import annotations

import asyncio

from faststream.kafka import KafkaBroker

from switchboard.campaigns.scheduling import Scheduler
from switchboard.campaigns.store import LazyPool
from switchboard.events import DialRequest, encode
from switchboard.logging import get_logger
from switchboard.tasks import cancel_and_wait
from switchboard.topics import Topic
from switchboard_dialer.settings import DialerSettings

log = get_logger(__name__)


class CampaignRunner:
    """Owns the asyncpg pool (shared with :mod:`switchboard_dialer.campaign_ends`) and the loop."""

    def __init__(self, settings: DialerSettings, broker: KafkaBroker) -> None:
        self.settings = settings
        self.broker = broker
        self.db = LazyPool(settings.database_url, max_size=4)
        self.scheduler: Scheduler | None = None
        self._task: asyncio.Task[None] | None = None

    async def publish(self, request: DialRequest) -> None:
        key = (request.contact_id or request.request_id).encode()
        await self.broker.publish(encode(request), Topic.DIAL_REQUESTS.value, key=key)

    def start(self) -> None:
        if self.settings.campaign_scheduler:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        last_reap = 0.0
        while True:
            try:
                pool = await self.db()
                if self.scheduler is None:
                    self.scheduler = Scheduler(
                        pool, self.publish, hopper_s=s.campaign_hopper_s, default_cps=s.campaign_default_cps,
                        attempt_timeout_s=s.campaign_attempt_timeout_s, dnc_max_age_days=s.dnc_max_age_days,
                    )  # fmt: skip
                await self.scheduler.tick()
                if loop.time() - last_reap > s.campaign_reap_s:
                    last_reap = loop.time()
                    if reaped := await self.scheduler.reap():
                        log.warning("campaign attempts without an end closed as failed", attempts=reaped)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the broker is away: try again next tick
                log.warning("campaign scheduler tick failed", error=repr(exc))
            await asyncio.sleep(s.campaign_tick_s)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self.db.close()
