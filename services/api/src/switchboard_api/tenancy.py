"""Tenants and API keys in PostgreSQL (tables created by the cdr-sink's migration 0003: one
migration history for the one database).

A key is ``sb_<key id>_<secret>``: ``key id`` is 16 hex characters (public, names the key in logs
and in ``switchboard keys list``), ``secret`` is 32 random bytes, URL-safe base64 (256 bits). It is
shown once, at creation; only ``sha256(secret)`` is stored. A slow hash (bcrypt, argon2) protects
guessable passwords against an offline attack on a stolen table; a 256-bit random secret cannot be
guessed, so one SHA-256 is as strong and costs microseconds per request. The stored digest is
compared with :func:`hmac.compare_digest` (constant time), and an unknown key id is compared
against a dummy digest so both failures take the same work.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import Column, DateTime, ForeignKey, MetaData, String, Table, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.events import DEFAULT_TENANT
from switchboard.tollfraud import Policy

Scope = Literal[
    "calls:write", "calls:read", "campaigns:write", "campaigns:read", "cdrs:read", "flows:read", "flows:write", "admin"
]
SCOPES: tuple[str, ...] = get_args(Scope)
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY_FORM = re.compile(r"^sb_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_DUMMY_DIGEST = hashlib.sha256(b"no such key").hexdigest()

metadata = MetaData()
tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("policy", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.tenant_id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("scopes", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    policy: Policy


@dataclass(frozen=True)
class Principal:
    """Who made a request: the key's tenant, the key id and its scopes."""

    tenant: Tenant
    key_id: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    tenant_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """``(key id, secret, full key)`` for a new key."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"sb_{key_id}_{secret}"


def parse_key(presented: str) -> tuple[str, str] | None:
    """``(key id, secret)`` of a key in the ``sb_<key id>_<secret>`` form, else None."""
    match = KEY_FORM.match(presented)
    return (match.group(1), match.group(2)) if match else None


class TenantStore:
    """Tenants and keys. Every method is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_tenant(self, tenant_id: str, name: str | None = None, policy: Policy | None = None) -> Tenant:
        """Raises ``ValueError`` for an id that is not a slug (``[a-z0-9-]``, up to 63) or exists."""
        if not TENANT_ID.match(tenant_id):
            raise ValueError(f"tenant id {tenant_id!r} must be lower-case letters, digits and '-' (up to 63)")
        policy = policy or Policy()
        async with self.engine.begin() as conn:
            if await conn.scalar(select(tenants.c.tenant_id).where(tenants.c.tenant_id == tenant_id)):
                raise ValueError(f"tenant {tenant_id!r} exists")
            await conn.execute(
                tenants.insert().values(tenant_id=tenant_id, name=name or tenant_id, policy=policy.model_dump())
            )
        return Tenant(tenant_id, name or tenant_id, policy)

    async def tenant(self, tenant_id: str) -> Tenant | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(tenants).where(tenants.c.tenant_id == tenant_id))).first()
        return Tenant(row.tenant_id, row.name, Policy.model_validate(row.policy)) if row else None

    async def set_policy(self, tenant_id: str, policy: Policy) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(tenants).where(tenants.c.tenant_id == tenant_id).values(policy=policy.model_dump())
            )

    async def create_key(
        self, tenant_id: str, scopes: list[str], *, name: str = "", expires_at: datetime | None = None
    ) -> tuple[KeyInfo, str]:
        """A new key for ``tenant_id``: its record and the full key (shown once, never stored).
        Raises ``ValueError`` for an unknown scope or tenant."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValueError(f"unknown scope(s) {unknown or '(none given)'}; choose from {', '.join(SCOPES)}")
        if await self.tenant(tenant_id) is None:
            raise ValueError(f"no tenant {tenant_id!r}")
        key_id, secret, full = new_key()
        values: dict[str, Any] = {
            "key_id": key_id,
            "tenant_id": tenant_id,
            "name": name or key_id,
            "secret_sha256": digest(secret),
            "scopes": sorted(set(scopes)),
            "expires_at": expires_at,
        }
        async with self.engine.begin() as conn:
            row = (await conn.execute(api_keys.insert().values(**values).returning(api_keys))).one()
        return _info(row), full

    async def keys(self, tenant_id: str | None = None) -> list[KeyInfo]:
        query = select(api_keys).order_by(api_keys.c.created_at)
        if tenant_id:
            query = query.where(api_keys.c.tenant_id == tenant_id)
        async with self.engine.connect() as conn:
            return [_info(row) for row in await conn.execute(query)]

    async def revoke(self, key_id: str) -> bool:
        """Revoke a key (from its next request on). False when there is no such live key."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            )
        return bool(result.rowcount)

    async def _key_row(self, key_id: str) -> Any:
        async with self.engine.connect() as conn:
            query = (
                select(api_keys, tenants.c.name.label("tenant_name"), tenants.c.policy)
                .join(tenants, tenants.c.tenant_id == api_keys.c.tenant_id)
                .where(api_keys.c.key_id == key_id)
            )
            return (await conn.execute(query)).first()

    async def authenticate(self, presented: str) -> tuple[Principal | None, str | None, str]:
        """``(principal or None, key id or None, reason)`` for a presented key. The secret is
        compared in constant time; an unknown key id costs the same comparison."""
        parsed = parse_key(presented)
        key_id, secret = parsed if parsed else (None, presented)
        row = await self._key_row(key_id) if key_id else None
        stored = row.secret_sha256 if row else _DUMMY_DIGEST
        matches = hmac.compare_digest(digest(secret), stored)
        if row is None or not matches:
            return None, key_id, "unknown key or wrong secret"
        return _principal(row)

    async def principal_of(self, key_id: str) -> tuple[Principal | None, str | None, str]:
        """The principal of a key already proven (a console session made with it), if the key is
        still live: the same answer as :meth:`authenticate` without the secret, so a key revoked
        or expired ends its sessions at their next request."""
        row = await self._key_row(key_id)
        if row is None:
            return None, key_id, "unknown key"
        return _principal(row)


def _principal(row: Any) -> tuple[Principal | None, str | None, str]:
    if row.revoked_at is not None:
        return None, row.key_id, "key revoked"
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        return None, row.key_id, "key expired"
    tenant = Tenant(row.tenant_id, row.tenant_name, Policy.model_validate(row.policy))
    return Principal(tenant, row.key_id, frozenset(row.scopes)), row.key_id, "ok"


def _info(row: Any) -> KeyInfo:
    return KeyInfo(
        key_id=row.key_id,
        tenant_id=row.tenant_id,
        name=row.name,
        scopes=list(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


__all__ = ["DEFAULT_TENANT", "SCOPES", "KeyInfo", "Policy", "Principal", "Tenant", "TenantStore"]
