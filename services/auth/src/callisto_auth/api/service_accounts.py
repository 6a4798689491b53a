"""/api/v1/service-accounts: the accounts Callisto's services log in with (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from callisto_auth.api.common import actor
from callisto_auth.directory import Directory
from callisto_auth.store import ServiceAccount
from callisto_protocol.ids import SERVICE_NAME_PATTERN
from callisto_runtime import Service
from callisto_runtime.permissions import is_permission
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

NamePath = Annotated[str, Path(pattern=SERVICE_NAME_PATTERN, description="service name")]


def _permission(text: str) -> str:
    if not is_permission(text):
        raise ValueError(f"{text!r} is not a permission (dotted segments, '*', a final '#')")
    return text


Permission = Annotated[str, Field(max_length=200), AfterValidator(_permission)]


class ServiceAccountView(BaseModel):
    name: str
    permissions: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: ServiceAccount) -> ServiceAccountView:
        return cls(
            name=account.name,
            permissions=account.permissions,
            active=account.active,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class NewServiceAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SERVICE_NAME_PATTERN)
    permissions: list[Permission] | None = Field(
        default=None, max_length=100, description="omit for the built-in set of a Callisto service"
    )


class ServiceAccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    permissions: list[Permission] | None = Field(default=None, max_length=100)
    active: bool | None = None


class Secret(BaseModel):
    name: str
    secret: str = Field(description="shown once; give it to the service as CALLISTO_<NAME>_SERVICE_SECRET")


def router(service: Service, directory: Directory) -> APIRouter:
    api = APIRouter(prefix="/api/v1/service-accounts", tags=["service accounts"])
    may_read = service.require("auth.service-accounts.read")
    may_create = service.require("auth.service-accounts.create")
    may_update = service.require("auth.service-accounts.update")

    @api.get("", summary="Every service account")
    async def accounts(claims: Claims = may_read) -> list[ServiceAccountView]:
        return [ServiceAccountView.of(a) for a in await directory.store.service_accounts()]

    @api.post(
        "",
        status_code=201,
        summary="Create a service account; its secret is shown once",
        responses=responses(409),
    )
    async def create(
        body: NewServiceAccount, request: Request, response: Response, claims: Claims = may_create
    ) -> Secret:
        secret = await directory.create_service_account(actor(claims, request), body.name, body.permissions)
        response.headers["Location"] = f"/api/v1/service-accounts/{body.name}"
        return Secret(name=body.name, secret=secret)

    @api.patch("/{name}", summary="Change the permissions of a service account, or deactivate it")
    async def update(
        name: NamePath, body: ServiceAccountPatch, request: Request, claims: Claims = may_update
    ) -> ServiceAccountView:
        account = await directory.update_service_account(
            actor(claims, request), name, permissions=body.permissions, active=body.active
        )
        return ServiceAccountView.of(account)

    @api.post("/{name}/secret", summary="Replace the secret (the old one stops working at once)")
    async def rotate(name: NamePath, request: Request, claims: Claims = may_update) -> Secret:
        return Secret(name=name, secret=await directory.rotate_service_secret(actor(claims, request), name))

    return api
