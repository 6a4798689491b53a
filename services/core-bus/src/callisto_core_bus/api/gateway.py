"""/api/v1/ws: the WebSocket gateway to the operator client (see gateway.py for the protocol)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from callisto_core_bus.gateway import Gateway


def router(gateway: Gateway) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["gateway"])

    @api.websocket("/ws", name="gateway")
    async def websocket(socket: WebSocket) -> None:
        """The events the signed-in person may see: authenticate with the first message."""
        await gateway.serve(socket)

    return api
