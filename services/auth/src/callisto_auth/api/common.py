"""What the routes of auth share: who is asking, and from where."""

from __future__ import annotations

from fastapi import Request

from callisto_auth.directory import Actor
from callisto_runtime.tokens import Claims


def source(request: Request) -> str:
    return request.client.host if request.client else ""


def actor(claims: Claims, request: Request) -> Actor:
    return Actor(claims.subject, source(request))
