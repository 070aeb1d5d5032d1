"""Outcomes that are fetched, not only pushed (one-message providers: Infobip, ``infobip.md`` §5–6).

Every ``SB_REPORT_POLL_S`` seconds, for each account of a provider whose client is a
:class:`~switchboard.providers.base.ReportSource`:

1. **pull**: what the provider held for a pull (Infobip's reports, each served **once**) is first
   appended to a journal in Redis (``sb:pulled-reports:{provider}``), then recorded through the
   same path as a pushed callback (duplicate guard, then ``voice.call-events``) and taken off the
   journal; a report pushed and also pulled is one event. A poller killed after the journal write
   loses nothing: the next round (this replica restarted, or another) records the journal first;
2. **reconcile**: calls still in the provider's awaiting set (``sb:awaiting-report:{provider}``,
   added by the dialer, removed by the flow-runner when the end is processed) sent more than
   ``SB_REPORT_OVERDUE_S`` ago are looked up in a source that can be read again (Infobip's logs,
   48 h), and their final outcomes recorded.

The crash story: a poller killed after its pull and before the journal write (the HTTP answer is
in its memory only) loses those reports at the provider (fetch-once), but not the calls: they stay
in the awaiting set, and the next reconcile (any replica, after a restart too) finds them in the
logs. What the logs lack (Infobip: the keys pressed) is then missing from those calls' CDRs, and
said so in the log line.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.events import CallEvent, encode
from switchboard.logging import get_logger
from switchboard.providers import PROVIDERS
from switchboard.providers.base import ParsedCallback, Provider, ReportSource
from switchboard.redis import awaiting_report_key, pulled_reports_key
from switchboard.service import BackgroundTask
from switchboard_ingress.callbacks import CallbackHandler

log = get_logger(__name__)
RECONCILE_BATCH = 100


class ReportPoller:
    def __init__(
        self, handler: CallbackHandler, redis: Redis, clients: ProviderClients, *, poll_s: float, overdue_s: float
    ) -> None:
        self.handler = handler
        self.redis = redis
        self.clients = clients
        self.poll_s = poll_s
        self.overdue_s = overdue_s
        self._task = BackgroundTask(self.run)

    def sources(self) -> list[tuple[Provider, str, ReportSource]]:
        found: list[tuple[Provider, str, ReportSource]] = []
        for (provider_name, account_name), _ in sorted(self.clients.accounts.items()):
            provider = PROVIDERS.get(provider_name)
            if provider is None or not provider.capabilities.one_message:
                continue
            client = self.clients.client(provider_name, account_name)
            if isinstance(client, ReportSource):
                found.append((provider, account_name, client))
        return found

    async def pull(self) -> int:
        """Record what an earlier pull left in the journal, then pull, journal what came, and
        record it; returns how many events were recorded."""
        recorded = 0
        for provider, account_name, source in self.sources():
            account = self.clients.account(provider.name, account_name)
            assert account is not None
            recorded += await self.drain_journal(provider)
            pulled = await source.pull_events(account)
            if pulled:  # kept before anything else: a poller killed from here on loses nothing
                await self.redis.rpush(
                    pulled_reports_key(provider.name),
                    *(orjson.dumps({"event": orjson.loads(encode(p.event)), "key": p.dedupe_key}) for p in pulled),
                )
                recorded += await self.drain_journal(provider)
        return recorded

    async def drain_journal(self, provider: Provider) -> int:
        """Record the journal's events oldest first, each taken off once recorded (a replica or a
        restart doing the same records a duplicate, which the guard drops)."""
        recorded = 0
        journal = pulled_reports_key(provider.name)
        while (raw := await self.redis.lindex(journal, 0)) is not None:
            item = orjson.loads(raw)
            await self.handler.record(provider, ParsedCallback(CallEvent.model_validate(item["event"]), item["key"]))
            await self.redis.lrem(journal, 1, raw.decode() if isinstance(raw, bytes) else raw)
            recorded += 1
        return recorded

    async def reconcile(self, *, now: float | None = None) -> int:
        """Look overdue calls up and record their final outcomes; returns how many."""
        recorded = 0
        cutoff = (now or time.time()) - self.overdue_s
        for provider, account_name, source in self.sources():
            account = self.clients.account(provider.name, account_name)
            assert account is not None
            raw = await self.redis.zrangebyscore(awaiting_report_key(provider.name), 0, cutoff, 0, RECONCILE_BATCH)
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in raw]
            sessions = [k.split(":", 1)[1] for k in keys if k.startswith(f"{provider.name}:")]
            if not sessions:
                continue
            for parsed in await source.lookup_events(sessions, account):
                log.warning(
                    "outcome reconciled from the provider's logs (its report never came)",
                    call_key=parsed.event.call_key,
                    provider=provider.name,
                )
                await self.handler.record(provider, parsed)
                recorded += 1
        return recorded

    async def run(self) -> None:
        while True:
            try:
                await self.pull()
                await self.reconcile()
            except Exception as exc:  # a provider or Redis hiccup: try again next round
                log.warning("report poll failed", error=repr(exc))
            await asyncio.sleep(self.poll_s)

    async def start(self) -> None:
        if self.sources():
            await self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
