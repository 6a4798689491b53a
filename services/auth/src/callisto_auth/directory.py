"""The directory: people (users with roles, an optional agent and SIP credentials) and service
accounts, as administrators manage them. Every change is audited (who, what, when, from where) and
published; a change that alters what a person may do (password, roles, agent, deactivation) also ends
their sessions, so their next refresh fails and the new rights apply within one access-token life.

Two rules keep the contact center manageable: an agent is bound to at most one active person, and
the last active administrator can be neither deactivated nor stripped of the role.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from callisto_auth.errors import (
    AgentTaken,
    LastAdministrator,
    LoginTaken,
    ServiceAccountExists,
    UnknownServiceAccount,
    UnknownSipUser,
    UnknownUser,
)
from callisto_auth.notifier import AuditTrail
from callisto_auth.passwords import digest_ha1, hash_password
from callisto_auth.roles import SERVICE_PERMISSIONS, Role
from callisto_auth.settings import AuthSettings
from callisto_auth.store import ServiceAccount, Store, User
from callisto_runtime.settings import DEVELOPMENT_SECRET

log = logging.getLogger(__name__)

# what changes a person's rights: their sessions end
SESSION_ENDING = frozenset({"password", "roles", "agent_id", "active"})


@dataclass(frozen=True)
class Actor:
    """Who asks for a change, and from where (for the audit log)."""

    id: str
    source: str = ""


@dataclass(frozen=True)
class DemoAccount:
    login: str
    display_name: str
    roles: tuple[Role, ...]
    agent_id: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("admin", "Demo Administrator", (Role.ADMINISTRATOR,)),
    DemoAccount("supervisor1", "Sam Supervisor", (Role.SUPERVISOR,)),
    DemoAccount("supervisor2", "Sasha Supervisor", (Role.SUPERVISOR,)),
    DemoAccount("quality1", "Quinn Quality", (Role.QUALITY_MANAGER,)),
    DemoAccount("operator1", "Olga Operator", (Role.OPERATOR,), "agent-1"),
    DemoAccount("operator2", "Omar Operator", (Role.OPERATOR,), "agent-2"),
    DemoAccount("operator3", "Ona Operator", (Role.OPERATOR,), "agent-3"),
    DemoAccount("integrator1", "CRM Integration", (Role.INTEGRATOR,)),
)


class Directory:
    def __init__(
        self, store: Store, trail: AuditTrail, settings: AuthSettings, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.trail = trail
        self.settings = settings
        self.clock = clock

    # people -------------------------------------------------------------------------------------
    async def user(self, user_id: str) -> User:
        user = await self.store.user_by_id(user_id)
        if user is None:
            raise UnknownUser(f"no user {user_id!r}", {"user_id": user_id})
        return user

    async def create_user(
        self,
        actor: Actor,
        *,
        login: str,
        display_name: str,
        password: str,
        roles: list[str],
        agent_id: str | None = None,
        active: bool = True,
        password_hash: str | None = None,
    ) -> User:
        """``password_hash``, when given, is ``password`` hashed already (the demo accounts share one)."""
        if password_hash is None:
            password_hash = await asyncio.to_thread(hash_password, password)
        user = User(
            id=os.urandom(8).hex(),
            login=login,
            display_name=display_name,
            password_hash=password_hash,
            active=active,
            agent_id=agent_id,
            roles=sorted(set(roles)),
        )
        try:
            async with self.store.pool.acquire() as conn, conn.transaction():
                if not await self.store.create_user(conn, user):
                    raise LoginTaken(f"the login {login!r} exists already", {"login": login})
        except asyncpg.UniqueViolationError:
            raise AgentTaken(f"agent {agent_id!r} is bound to another user", {"agent_id": agent_id}) from None
        created = await self.user(user.id)
        await self._changed(actor, created, "user-created", {"roles": created.roles, "agent_id": agent_id})
        return created

    async def update_user(self, actor: Actor, user_id: str, changes: dict[str, Any]) -> User:
        """Apply ``changes`` (any of display_name, password, roles, agent_id, active)."""
        before = await self.user(user_id)
        columns = {k: v for k, v in changes.items() if k in ("display_name", "agent_id", "active")}
        if "password" in changes:
            columns["password_hash"] = await asyncio.to_thread(hash_password, changes["password"])
        roles = sorted(set(changes["roles"])) if "roles" in changes else None
        try:
            async with self.store.pool.acquire() as conn, conn.transaction():
                await self._keep_an_administrator(conn, before, roles, changes.get("active", before.active))
                if columns:
                    await self.store.update_user(conn, user_id, columns)
                if roles is not None:
                    await self.store.set_roles(conn, user_id, roles)
                if SESSION_ENDING & changes.keys():
                    await self.store.revoke_sessions_of(conn, user_id, self.clock())
        except asyncpg.UniqueViolationError:
            agent_id = changes.get("agent_id", before.agent_id)
            raise AgentTaken(f"agent {agent_id!r} is bound to another user", {"agent_id": agent_id}) from None
        after = await self.user(user_id)
        what = sorted(changes)
        action = "user-deactivated" if before.active and not after.active else "user-updated"
        await self._changed(actor, after, action, {"changed": what, "roles": after.roles})
        return after

    async def _keep_an_administrator(
        self, conn: asyncpg.Connection, user: User, roles: list[str] | None, active: bool
    ) -> None:
        was_admin = user.active and Role.ADMINISTRATOR.value in user.roles
        stays_admin = active and Role.ADMINISTRATOR.value in (user.roles if roles is None else roles)
        if was_admin and not stays_admin and await self.store.lock_administrators(conn) == [user.id]:
            raise LastAdministrator("the last active administrator cannot lose that role or be deactivated")

    async def set_sip_password(self, actor: Actor, user_id: str, password: str | None) -> str:
        """Set (or generate, when ``password`` is None) the user's SIP password; only HA1 is kept.
        The softphone's digest username is the user's login. Returns the password."""
        user = await self.user(user_id)
        password = password or secrets.token_urlsafe(12)
        md5, sha256 = digest_ha1(user.login, self.settings.sip_realm, password)
        await self.store.set_sip_credentials(self.store.pool, user.id, self.settings.sip_realm, md5, sha256)
        await self.trail.record("sip-password-set", actor.id, user.login, actor.source)
        return password

    async def sip_credentials(self, username: str) -> User:
        """The active user ``username`` with SIP credentials in the current realm (UnknownSipUser)."""
        user = await self.store.user_by_login(username)
        if user is None or not user.active or user.sip_realm != self.settings.sip_realm:
            raise UnknownSipUser(f"no SIP user {username!r}", {"username": username})
        return user

    async def _changed(self, actor: Actor, user: User, action: str, details: dict[str, Any]) -> None:
        await self.trail.record(action, actor.id, user.login, actor.source, details)
        await self.trail.user_changed(user, action.removeprefix("user-"), actor.id)

    # service accounts ---------------------------------------------------------------------------
    async def service_account(self, name: str) -> ServiceAccount:
        account = await self.store.service_account(name)
        if account is None:
            raise UnknownServiceAccount(f"no service account {name!r}", {"name": name})
        return account

    async def create_service_account(
        self, actor: Actor, name: str, permissions: list[str] | None, secret: str | None = None
    ) -> str:
        """Create the account (permissions default to the service's built-in ones); returns its
        secret, which is shown once."""
        secret = secret or secrets.token_urlsafe(32)
        granted = list(SERVICE_PERMISSIONS.get(name, ())) if permissions is None else permissions
        if not await self.store.create_service_account(name, secret, granted):
            raise ServiceAccountExists(f"service account {name!r} exists already", {"name": name})
        await self.trail.record(
            "service-account-created", actor.id, name, actor.source, {"permissions": granted}
        )
        return secret

    async def update_service_account(
        self, actor: Actor, name: str, *, permissions: list[str] | None = None, active: bool | None = None
    ) -> ServiceAccount:
        if not await self.store.update_service_account(name, permissions=permissions, active=active):
            raise UnknownServiceAccount(f"no service account {name!r}", {"name": name})
        account = await self.service_account(name)
        details = {"permissions": account.permissions, "active": account.active}
        await self.trail.record("service-account-updated", actor.id, name, actor.source, details)
        return account

    async def rotate_service_secret(self, actor: Actor, name: str) -> str:
        secret = secrets.token_urlsafe(32)
        if not await self.store.update_service_account(name, secret=secret):
            raise UnknownServiceAccount(f"no service account {name!r}", {"name": name})
        await self.trail.record("service-secret-rotated", actor.id, name, actor.source)
        return secret

    # first start --------------------------------------------------------------------------------
    async def bootstrap(self, development: bool) -> str | None:
        """Create the first accounts when there is none: in development mode the demo people (SIP
        passwords as their login passwords) and every service's account with the development secret;
        otherwise one administrator whose generated password is returned, to be shown once."""
        try:
            return await self._bootstrap(development)
        except LoginTaken:  # another instance bootstraps at the same moment
            return None

    async def seed_service_accounts(self, folder: Path) -> list[str]:
        """Make the accounts of Callisto's services named by the files in ``folder`` (each holding the
        secret) that do not exist yet; returns the names made. The development secret, an empty file
        and a name that is no Callisto service are refused with a warning."""
        made: list[str] = []
        for name, secret in (await asyncio.to_thread(secret_files, folder)).items():
            if name not in SERVICE_PERMISSIONS:
                log.warning("service secret %s refused: no such Callisto service", folder / name)
            elif not secret or secret == DEVELOPMENT_SECRET:
                log.warning("service secret %s refused: empty, or the development secret", folder / name)
            elif await self.store.service_account(name) is None:
                try:
                    await self.create_service_account(Actor("system"), name, None, secret)
                except ServiceAccountExists:  # another instance made it at the same moment
                    continue
                made.append(name)
        return made

    async def _bootstrap(self, development: bool) -> str | None:
        if await self.store.count_users() > 0:
            return None
        system = Actor("system")
        if not development:
            password = secrets.token_urlsafe(18)
            await self.create_user(
                system, login="admin", display_name="Administrator", password=password,
                roles=[Role.ADMINISTRATOR.value],
            )  # fmt: skip
            return password
        password = self.settings.demo_password
        hashed = await asyncio.to_thread(hash_password, password)
        for account in DEMO_ACCOUNTS:
            user = await self.create_user(
                system,
                login=account.login,
                display_name=account.display_name,
                password=password,
                roles=[role.value for role in account.roles],
                agent_id=account.agent_id,
                password_hash=hashed,
            )
            if account.agent_id is not None:
                await self.set_sip_password(system, user.id, password)
        for name in SERVICE_PERMISSIONS:
            if await self.store.service_account(name) is None:
                await self.create_service_account(system, name, None, DEVELOPMENT_SECRET)
        return None


def secret_files(folder: Path) -> dict[str, str]:
    """Each regular file's stripped text by name (a Kubernetes Secret volume's ``..data`` links and
    other dot files left out)."""
    return {
        path.name: path.read_text().strip()
        for path in sorted(folder.iterdir())
        if not path.name.startswith(".") and path.is_file()
    }
