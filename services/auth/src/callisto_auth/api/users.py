"""/api/v1/users and /api/v1/roles: people, their roles, agents and SIP passwords (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callisto_auth.api.common import actor
from callisto_auth.directory import Directory
from callisto_auth.roles import PERMISSIONS, PERSON_ROLES, Role
from callisto_auth.store import User
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"
UserPath = Annotated[str, Path(max_length=64, description="user id")]
AgentId = Annotated[str, Field(pattern=TOKEN_PATTERN, description="the agent this person works as")]
Password = Annotated[str, Field(min_length=8, max_length=200)]


def person_roles(roles: list[Role]) -> list[Role]:
    if Role.SERVICE in roles:
        raise ValueError("the service role is for service accounts only")
    return roles


class UserView(BaseModel):
    id: str
    login: str
    display_name: str
    roles: list[str]
    agent_id: str | None
    active: bool
    sip_credentials: bool = Field(description="a SIP password is set (the digest username is the login)")
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            login=user.login,
            display_name=user.display_name,
            roles=user.roles,
            agent_id=user.agent_id,
            active=user.active,
            sip_credentials=user.sip_ha1_md5 is not None,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(pattern=LOGIN_PATTERN)
    display_name: str = Field(default="", max_length=200)
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=len(PERSON_ROLES))
    agent_id: AgentId | None = None
    active: bool = True

    _roles = field_validator("roles")(person_roles)


class UserPatch(BaseModel):
    """Only the fields given change; ``agent_id: null`` unbinds the agent."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    password: Password | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(PERSON_ROLES))
    agent_id: AgentId | None = None
    active: bool | None = None

    _roles = field_validator("roles")(lambda roles: roles if roles is None else person_roles(roles))

    @model_validator(mode="after")
    def _only_agent_may_be_null(self) -> UserPatch:
        for name in ("display_name", "password", "roles", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        given = self.model_dump(exclude_unset=True)
        if "roles" in given:
            given["roles"] = [Role(r).value for r in given["roles"]]
        return given


class SipPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password | None = Field(default=None, description="omit to have one generated")


class SipCredentialsView(BaseModel):
    username: str
    realm: str
    password: str = Field(description="shown once: only the digest HA1 is kept")


class RoleView(BaseModel):
    role: str
    permissions: list[str]


def router(service: Service, directory: Directory) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["users"])
    may_read = service.require("auth.users.read")
    may_create = service.require("auth.users.create")
    may_update = service.require("auth.users.update")
    may_read_roles = service.require("auth.roles.read")

    @api.get("/users", summary="People, filtered by state, role or a text in login or name")
    async def users(
        active: bool | None = None,
        role: Role | None = None,
        q: str | None = Query(default=None, max_length=100),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0),
        claims: Claims = may_read,
    ) -> list[UserView]:
        found = await directory.store.users(
            active=active, role=role.value if role else None, search=q, limit=limit, offset=offset
        )
        return [UserView.of(u) for u in found]

    @api.post(
        "/users",
        status_code=201,
        summary="Create a person",
        responses={409: {"description": "the login exists, or the agent is bound to another person"}},
    )
    async def create(
        body: NewUser, request: Request, response: Response, claims: Claims = may_create
    ) -> UserView:
        user = await directory.create_user(
            actor(claims, request),
            login=body.login,
            display_name=body.display_name,
            password=body.password,
            roles=[r.value for r in body.roles],
            agent_id=body.agent_id,
            active=body.active,
        )
        response.headers["Location"] = f"/api/v1/users/{user.id}"
        return UserView.of(user)

    @api.get("/users/{user_id}", summary="One person")
    async def one(user_id: UserPath, claims: Claims = may_read) -> UserView:
        return UserView.of(await directory.user(user_id))

    @api.patch(
        "/users/{user_id}",
        summary="Change a person (their sessions end when rights change)",
        responses={409: {"description": "agent bound to another person, or the last administrator"}},
    )
    async def update(
        user_id: UserPath, body: UserPatch, request: Request, claims: Claims = may_update
    ) -> UserView:
        return UserView.of(await directory.update_user(actor(claims, request), user_id, body.changes()))

    @api.delete(
        "/users/{user_id}", summary="Deactivate a person (kept for the audit trail)", responses=responses(409)
    )
    async def deactivate(user_id: UserPath, request: Request, claims: Claims = may_update) -> UserView:
        return UserView.of(await directory.update_user(actor(claims, request), user_id, {"active": False}))

    @api.put("/users/{user_id}/sip-password", summary="Set or generate the person's softphone password")
    async def sip_password(
        user_id: UserPath, body: SipPassword, request: Request, claims: Claims = may_update
    ) -> SipCredentialsView:
        password = await directory.set_sip_password(actor(claims, request), user_id, body.password)
        user = await directory.user(user_id)
        return SipCredentialsView(username=user.login, realm=user.sip_realm or "", password=password)

    @api.get("/roles", summary="The built-in roles and the permissions they grant")
    async def roles(claims: Claims = may_read_roles) -> list[RoleView]:
        return [RoleView(role=r.value, permissions=list(PERMISSIONS[r])) for r in PERSON_ROLES]

    return api
