"""JetStream's part: each stream (the event streams, the KV buckets' streams) by the server's own
snapshot API, consumers and their positions included, restored by its restore API: sequence numbers,
KV history and where each durable consumer stood come back as they were.

Snapshot: ``$JS.API.STREAM.SNAPSHOT.<stream>`` with a deliver subject; the server sends the snapshot
in chunks there, each with a reply subject the client answers (flow control), and an empty message at
the end. Restore: ``$JS.API.STREAM.RESTORE.<stream>`` with the stream's configuration and state
answers a subject; each chunk is sent there as a request, an empty one ends it, and the answer is the
created stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg

from callisto_backup.errors import BackupError, RestoreFailed
from callisto_protocol.streams import LEASES_BUCKET, REGISTRY_BUCKET

CHUNK = 128 * 1024
TIMEOUT_S = 30.0
# state that means nothing after a restore: who holds a lease, which instances were alive
VOLATILE = {f"KV_{LEASES_BUCKET}": "leases last seconds; the services elect again",
            f"KV_{REGISTRY_BUCKET}": "the running instances announce themselves again"}  # fmt: skip


async def _api(nc: Client, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = await nc.request(f"$JS.API.{subject}", json.dumps(body).encode() if body else b"", timeout=10)
    answer: dict[str, Any] = json.loads(reply.data)
    if "error" in answer:
        error = answer["error"]
        raise BackupError(f"JetStream refused {subject}: {error.get('description', error)}")
    return answer


async def streams(nc: Client) -> dict[str, dict[str, Any]]:
    """Every stream's information (configuration, state), by name."""
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = await _api(nc, "STREAM.LIST", {"offset": offset})
        for info in page.get("streams") or []:
            found[info["config"]["name"]] = info
        offset += len(page.get("streams") or [])
        if offset >= page.get("total", 0) or not page.get("streams"):
            return found


def counts(info: dict[str, Any], durables: list[str]) -> dict[str, int]:
    """Messages, the last sequence, keys of a KV bucket and the durable consumers (ephemeral ones
    belong to the connections that made them and end with them)."""
    state = info["state"]
    found = {"messages": int(state.get("messages", 0)), "last_seq": int(state.get("last_seq", 0)),
             "durable_consumers": len(durables)}  # fmt: skip
    if info["config"]["name"].startswith("KV_"):
        found["subjects"] = int(state.get("num_subjects", 0))  # keys with a live or deleted value
    return found


async def durables(nc: Client, stream: str) -> list[str]:
    found: list[str] = []
    offset = 0
    while True:
        page = await _api(nc, f"CONSUMER.LIST.{stream}", {"offset": offset})
        consumers = page.get("consumers") or []
        found += [c["name"] for c in consumers if c.get("config", {}).get("durable_name")]
        offset += len(consumers)
        if offset >= page.get("total", 0) or not consumers:
            return sorted(found)


async def snapshot(nc: Client, stream: str, target: Path) -> dict[str, Any]:
    """Write ``stream``'s snapshot to ``target``; returns its configuration and state as the server
    gave them with the snapshot (what a restore sends back)."""
    inbox = nc.new_inbox()
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    out = target.open("wb")

    async def chunk(msg: Msg) -> None:
        if finished.done():
            return
        if not msg.data:
            finished.set_result(None)
            return
        out.write(msg.data)
        if msg.reply:
            await nc.publish(msg.reply, b"")

    subscription = await nc.subscribe(inbox, cb=chunk)
    try:
        meta = await _api(nc, f"STREAM.SNAPSHOT.{stream}", {"deliver_subject": inbox, "chunk_size": CHUNK})
        await asyncio.wait_for(finished, TIMEOUT_S)
    except TimeoutError:
        raise BackupError(f"the snapshot of {stream} did not end within {TIMEOUT_S:.0f} s") from None
    finally:
        await subscription.unsubscribe()
        out.close()
    return {"config": meta["config"], "state": meta["state"]}


async def restore(nc: Client, meta: dict[str, Any], source: Path) -> None:
    name = meta["config"]["name"]
    started = await _api(nc, f"STREAM.RESTORE.{name}", {"config": meta["config"], "state": meta["state"]})
    deliver = started["deliver_subject"]
    try:
        with source.open("rb") as chunks:
            while block := chunks.read(CHUNK):
                await nc.request(deliver, block, timeout=TIMEOUT_S)
        final = json.loads((await nc.request(deliver, b"", timeout=TIMEOUT_S * 4)).data)
    except (nats.errors.Error, TimeoutError) as exc:
        raise RestoreFailed(f"restoring the stream {name} failed: {exc!r}") from exc
    if "error" in final:
        raise RestoreFailed(f"JetStream refused the stream {name}: {final['error'].get('description')}")


async def delete(nc: Client, stream: str) -> None:
    await _api(nc, f"STREAM.DELETE.{stream}")
