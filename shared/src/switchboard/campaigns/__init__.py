"""Outbound campaigns (issue 12): models, contact files, the PostgreSQL store, calling windows,
do-not-call lists, outcomes and retries, and the scheduler the dialer runs.

Tables: the cdr-sink's migration 0004. The api service creates and steers campaigns
(``/v1/campaigns``); the dialer schedules them (:mod:`switchboard.campaigns.scheduling`) and
records outcomes (:func:`switchboard.campaigns.outcomes.record_outcome`).
"""
