"""``switchboard tenants create`` and ``switchboard keys create/list/revoke``: tenants and API keys
in the database the api service reads (``SB_DATABASE_URL`` or ``--database-url``).

A key is printed once, at creation, and never again: only its SHA-256 is stored. Exit codes: 0
done, 1 refused (unknown tenant or key, bad scope, existing tenant).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import SCOPES, Policy, TenantStore

tenants_app = typer.Typer(help="Tenants: who calls belong to, and their toll-fraud policy.")
keys_app = typer.Typer(help="API keys of a tenant: create (shown once), list, revoke.")
console = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")
DB = typer.Option(None, "--database-url", help="postgresql://… (default: SB_DATABASE_URL)")


def _run(database_url: str | None, work: Callable[[TenantStore], Awaitable[T]]) -> T:
    settings = ApiSettings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})

    async def main() -> T:
        engine = create_async_engine(settings.async_database_url)
        try:
            return await work(TenantStore(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@tenants_app.command("create")
def create_tenant(
    tenant_id: str = typer.Argument(..., help="a slug: lower-case letters, digits, '-'"),
    name: str = typer.Option("", help="display name"),
    number: list[str] = typer.Option([], "--number", help="the tenant's own number (E.164); repeat"),
    country: list[str] = typer.Option(
        [], "--country", help="allowed destination region (ISO 3166, e.g. KE); default: those of --number"
    ),
    account: list[str] = typer.Option([], "--account", help="provider account it may use, provider:account"),
    cps: float = typer.Option(Policy().cps, help="calls per second through the API"),
    max_live_calls: int = typer.Option(Policy().max_live_calls, help="live calls at once"),
    daily_calls: int = typer.Option(Policy().daily_calls, help="calls per UTC day"),
    requests_per_minute: int = typer.Option(Policy().requests_per_minute, help="API requests per key per minute"),
    database_url: str | None = DB,
) -> None:
    """Create a tenant with its toll-fraud policy."""
    policy = Policy(
        numbers=number,
        allowed_countries=[c.upper() for c in country] or None,
        accounts=account,
        cps=cps,
        max_live_calls=max_live_calls,
        daily_calls=daily_calls,
        requests_per_minute=requests_per_minute,
    )
    tenant = _run(database_url, lambda store: store.create_tenant(tenant_id, name or None, policy))
    console.print(f"tenant [bold]{tenant.tenant_id}[/] created: {json.dumps(policy.model_dump())}")


@keys_app.command("create")
def create_key(
    tenant_id: str = typer.Argument(..., help="the tenant the key acts for"),
    scope: list[str] = typer.Option(..., "--scope", help=f"repeat; one of {', '.join(SCOPES)}"),
    name: str = typer.Option("", help="what the key is for"),
    expires_in_days: int | None = typer.Option(None, help="the key stops working after this many days"),
    database_url: str | None = DB,
) -> None:
    """Create a key and print it once (it is not stored and cannot be shown again)."""
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    info, key = _run(database_url, lambda store: store.create_key(tenant_id, scope, name=name, expires_at=expires))
    console.print(f"key id {info.key_id} for tenant {info.tenant_id}, scopes {', '.join(info.scopes)}")
    console.print("the key (shown once; keep it secret):")
    print(key)


@keys_app.command("list")
def list_keys(
    tenant_id: str | None = typer.Argument(None, help="only this tenant's keys"), database_url: str | None = DB
) -> None:
    """Key ids, tenants, scopes, expiry and revocation, tab-separated (never the secrets)."""
    keys = _run(database_url, lambda store: store.keys(tenant_id))
    print("\t".join(("key_id", "tenant", "name", "scopes", "created", "expires", "revoked")))
    for k in keys:
        print("\t".join((
            k.key_id, k.tenant_id, k.name, ",".join(k.scopes), f"{k.created_at:%Y-%m-%dT%H:%M}Z",
            f"{k.expires_at:%Y-%m-%dT%H:%M}Z" if k.expires_at else "-",
            f"{k.revoked_at:%Y-%m-%dT%H:%M}Z" if k.revoked_at else "-",
        )))  # fmt: skip


@keys_app.command("revoke")
def revoke_key(
    key_id: str = typer.Argument(..., help="the key id (sb_<key id>_…)"), database_url: str | None = DB
) -> None:
    """Revoke a key: its next request gets 401."""
    if not _run(database_url, lambda store: store.revoke(key_id)):
        console.print(f"[red]no live key {key_id!r}[/]")
        raise typer.Exit(1)
    console.print(f"key {key_id} revoked")
