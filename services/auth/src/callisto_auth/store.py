"""PostgreSQL access of auth (schema ``auth``), parameterised SQL only."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from callisto_auth.keys import SigningKey
from callisto_runtime.database import Database


@dataclass(frozen=True)
class User:
    id: str
    login: str
    display_name: str
    password_hash: str
    active: bool
    agent_id: str | None
    roles: list[str]
    sip_realm: str | None = None
    sip_ha1_md5: str | None = None
    sip_ha1_sha256: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    secret_hash: str
    permissions: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


USER_SELECT = (
    "SELECT u.*, coalesce(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL), '{}') "
    "AS roles FROM users u LEFT JOIN user_roles r ON r.user_id = u.id"
)
# the columns an administrator may change (update_user refuses any other)
USER_COLUMNS = frozenset({"display_name", "password_hash", "active", "agent_id"})


def _user(row: asyncpg.Record) -> User:
    return User(
        row["id"],
        row["login"],
        row["display_name"],
        row["password_hash"],
        row["active"],
        row["agent_id"],
        list(row["roles"]),
        row["sip_realm"],
        row["sip_ha1_md5"],
        row["sip_ha1_sha256"],
        row["created_at"],
        row["updated_at"],
    )


def _service_account(row: asyncpg.Record) -> ServiceAccount:
    return ServiceAccount(
        row["name"],
        row["secret_hash"],
        list(row["permissions"]),
        row["active"],
        row["created_at"],
        row["updated_at"],
    )


REVOKE_FAMILY = "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE family = $1"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self, database: Database) -> None:
        self.database = database

    @property
    def pool(self) -> asyncpg.Pool:
        return self.database.pool  # DatabaseUnavailable (503) until PostgreSQL is reached

    # users --------------------------------------------------------------------------------------
    async def user_by_login(self, login: str) -> User | None:
        return await self._user("u.login = $1", login)

    async def user_by_id(self, user_id: str) -> User | None:
        return await self._user("u.id = $1", user_id)

    async def _user(self, where: str, value: str) -> User | None:
        row = await self.pool.fetchrow(f"{USER_SELECT} WHERE {where} GROUP BY u.id", value)
        return None if row is None else _user(row)

    async def users(
        self, *, active: bool | None, role: str | None, search: str | None, limit: int, offset: int
    ) -> list[User]:
        rows = await self.pool.fetch(
            f"{USER_SELECT} WHERE ($1::boolean IS NULL OR u.active = $1) "
            "AND ($2::text IS NULL OR u.id IN (SELECT user_id FROM user_roles WHERE role = $2)) "
            "AND ($3::text IS NULL OR strpos(lower(u.login || ' ' || u.display_name), lower($3)) > 0) "
            "GROUP BY u.id ORDER BY u.login LIMIT $4 OFFSET $5",
            active,
            role,
            search,
            limit,
            offset,
        )
        return [_user(r) for r in rows]

    async def update_user(self, conn: asyncpg.Connection, user_id: str, changes: dict[str, Any]) -> None:
        unknown = set(changes) - USER_COLUMNS
        if unknown:
            raise ValueError(f"not user columns: {sorted(unknown)}")
        names = sorted(changes)
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
        await conn.execute(
            f"UPDATE users SET {assignments}, updated_at = now() WHERE id = $1",
            user_id,
            *(changes[name] for name in names),
        )

    async def set_roles(self, conn: asyncpg.Connection, user_id: str, roles: list[str]) -> None:
        await conn.execute("DELETE FROM user_roles WHERE user_id = $1", user_id)
        await conn.executemany(
            "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", [(user_id, role) for role in roles]
        )
        await conn.execute("UPDATE users SET updated_at = now() WHERE id = $1", user_id)

    async def lock_administrators(self, conn: asyncpg.Connection) -> list[str]:
        """The ids of the active administrators, their rows locked until the transaction ends."""
        rows = await conn.fetch(
            "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id "
            "WHERE r.role = 'administrator' AND u.active FOR UPDATE OF u"
        )
        return [r["id"] for r in rows]

    async def set_sip_credentials(
        self, conn: asyncpg.Connection | asyncpg.Pool, user_id: str, realm: str, md5: str, sha256: str
    ) -> None:
        await conn.execute(
            "UPDATE users SET sip_realm = $2, sip_ha1_md5 = $3, sip_ha1_sha256 = $4, updated_at = now() "
            "WHERE id = $1",
            user_id,
            realm,
            md5,
            sha256,
        )

    async def revoke_sessions_of(self, conn: asyncpg.Connection, user_id: str, now: datetime) -> None:
        await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE user_id = $1", user_id, now
        )

    async def create_user(self, conn: asyncpg.Connection, user: User) -> bool:
        inserted = await conn.fetchval(
            "INSERT INTO users (id, login, display_name, password_hash, active, agent_id) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (login) DO NOTHING RETURNING id",
            user.id,
            user.login,
            user.display_name,
            user.password_hash,
            user.active,
            user.agent_id,
        )
        if inserted is None:
            return False
        await conn.executemany(
            "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", [(user.id, role) for role in user.roles]
        )
        return True

    async def count_users(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM users"))

    # service accounts ---------------------------------------------------------------------------
    async def service_account(self, name: str) -> ServiceAccount | None:
        row = await self.pool.fetchrow("SELECT * FROM service_accounts WHERE name = $1", name)
        return None if row is None else _service_account(row)

    async def service_accounts(self) -> list[ServiceAccount]:
        rows = await self.pool.fetch("SELECT * FROM service_accounts ORDER BY name")
        return [_service_account(r) for r in rows]

    async def create_service_account(self, name: str, secret: str, permissions: list[str]) -> bool:
        inserted = await self.pool.fetchval(
            "INSERT INTO service_accounts (name, secret_hash, permissions) VALUES ($1, $2, $3) "
            "ON CONFLICT (name) DO NOTHING RETURNING name",
            name,
            token_hash(secret),
            permissions,
        )
        return inserted is not None

    async def update_service_account(
        self, name: str, *, secret: str | None = None, permissions: list[str] | None = None,
        active: bool | None = None,
    ) -> bool:  # fmt: skip
        updated = await self.pool.fetchval(
            "UPDATE service_accounts SET secret_hash = coalesce($2, secret_hash), "
            "permissions = coalesce($3, permissions), active = coalesce($4, active), updated_at = now() "
            "WHERE name = $1 RETURNING name",
            name,
            None if secret is None else token_hash(secret),
            permissions,
            active,
        )
        return updated is not None

    # lockout ------------------------------------------------------------------------------------
    async def failures_since(self, keys: list[str], since: datetime) -> dict[str, int]:
        rows = await self.pool.fetch(
            "SELECT key, count(*) AS n FROM login_failures WHERE key = ANY($1) AND failed_at > $2 "
            "GROUP BY key",
            keys,
            since,
        )
        return {r["key"]: int(r["n"]) for r in rows}

    async def record_failure(self, keys: list[str]) -> None:
        await self.pool.executemany("INSERT INTO login_failures (key) VALUES ($1)", [(k,) for k in keys])

    async def clear_failures(self, key: str) -> None:
        await self.pool.execute("DELETE FROM login_failures WHERE key = $1", key)

    # refresh tokens -----------------------------------------------------------------------------
    async def add_refresh(
        self,
        conn: asyncpg.Connection | asyncpg.Pool,
        token_id: str,
        family: str,
        user_id: str,
        token: str,
        expires_at: datetime,
    ) -> None:
        await conn.execute(
            "INSERT INTO refresh_tokens (id, family, user_id, token_hash, expires_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            token_id,
            family,
            user_id,
            token_hash(token),
            expires_at,
        )

    async def rotate_refresh(
        self, token: str, now: datetime, new_id: str, new_token: str, expires_at: datetime
    ) -> tuple[str, str] | None:
        """Replace a valid refresh token by a new one of the same family; (user id, family) or None.
        A token that was already replaced is a reuse: its whole family is revoked."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", token_hash(token)
            )
            if row is None:
                return None
            if row["replaced_at"] is not None or row["revoked_at"] is not None:
                await conn.execute(REVOKE_FAMILY, row["family"], now)
                return None
            if row["expires_at"] <= now:
                return None
            await conn.execute("UPDATE refresh_tokens SET replaced_at = $2 WHERE id = $1", row["id"], now)
            await self.add_refresh(conn, new_id, row["family"], row["user_id"], new_token, expires_at)
            return row["user_id"], row["family"]

    async def revoke_family_of(self, token: str, now: datetime) -> str | None:
        family: str | None = await self.pool.fetchval(
            "SELECT family FROM refresh_tokens WHERE token_hash = $1", token_hash(token)
        )
        if family is not None:
            await self.pool.execute(REVOKE_FAMILY, family, now)
        return family

    # signing keys -------------------------------------------------------------------------------
    async def signing_keys(self, now: datetime, retention: timedelta) -> list[tuple[SigningKey, datetime]]:
        """Keys still published (signing, about to sign, or retired within ``retention``), newest first,
        with the time each signs from."""
        rows = await self.pool.fetch(
            "SELECT * FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1 ORDER BY signs_from DESC",
            now - retention,
        )
        return [
            (SigningKey.load(r["kid"], r["private_pem"], json.loads(r["public_jwk"])), r["signs_from"])
            for r in rows
        ]

    async def add_signing_key(self, key: SigningKey, signs_from: datetime) -> None:
        """Add ``key``, signing from ``signs_from``; the keys signing until then retire at that time."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL", signs_from)
            await conn.execute(
                "INSERT INTO signing_keys (kid, private_pem, public_jwk, signs_from) VALUES ($1, $2, $3, $4)",
                key.kid,
                key.private_pem(),
                json.dumps(key.public_jwk),
                signs_from,
            )

    # audit --------------------------------------------------------------------------------------
    async def audit(
        self,
        actor: str,
        action: str,
        target: str = "",
        source: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO audit_log (actor, action, target, source, details) VALUES ($1, $2, $3, $4, $5)",
            actor,
            action,
            target,
            source,
            json.dumps(details or {}),
        )

    async def audit_entries(
        self,
        limit: int = 100,
        *,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT * FROM audit_log WHERE ($2::text IS NULL OR action = $2) "
            "AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR target = $4) "
            "AND ($5::timestamptz IS NULL OR at >= $5) ORDER BY id DESC LIMIT $1",
            limit,
            action,
            actor,
            target,
            since,
        )
        return [{**dict(r), "details": json.loads(r["details"])} for r in rows]
