"""The queues as a configuration document, against real NATS and Redis: seeded from the demo file, a
new version (a strategy changed, a queue added, one removed) applied to the ACD and Redis without a
restart, the next call enqueued in the new queue; the queue API writes the document (attributed); a
version that does not parse is not applied; the owner's validation names the reason."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from bus_testing import connected_bus
from test_queue_manager import eventually, queue_manager

from callisto_devkit.configuration import document_figure, read_version, write_version
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer, RedisServer
from callisto_protocol.configuration import ConfigValid, ValidateConfig
from callisto_protocol.queues import Enqueue, Enqueued
from callisto_queue_manager.store import Store
from callisto_runtime import RemoteError

pytestmark = pytest.mark.integration
KEY = "queue-manager.queues"


async def stored(nats_url: str) -> tuple[dict[str, Any], int, str]:
    version, number = await read_version(nats_url, KEY)
    return version.body, number, version.by


async def write(nats_url: str, body: dict[str, Any]) -> int:
    return await write_version(nats_url, KEY, body, "test")


async def applied(http: httpx.AsyncClient, name: str = "callisto_config_version") -> float:
    return document_figure((await http.get("/metrics")).text, KEY, name)


async def test_a_new_version_of_the_queues_is_applied_without_a_restart_and_the_api_writes_it(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer
) -> None:
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/8"
    client = redis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    token_issuer.service_permissions["queue-manager"] = ["cm.#", "helpdesk.contacts.read"]
    supervisor = token_issuer.bearer("qm.#")
    async with queue_manager(private_nats.url, redis_url, token_issuer) as (http, _):
        await eventually(lambda: _positive(applied(http)))
        body, _, by = await stored(private_nats.url)  # the demo file's queues, seeded
        assert by == "service:queue-manager"
        assert [q["id"] for q in body["queues"]] == ["emergencies", "billing", "general"]

        # billing by longest idle, a gas queue, general no more
        changed = {"queues": [{**q, "strategy": "longest_idle"} if q["id"] == "billing" else q
                              for q in body["queues"] if q["id"] != "general"]}  # fmt: skip
        for queue in changed["queues"]:
            if queue.get("overflow_target") == "queue:general":
                queue["overflow_target"] = "queue:gas"
        changed["queues"].append({"id": "gas", "name": "Gas leaks", "strategy": "round_robin"})
        second = await write(private_nats.url, changed)

        async def second_applied() -> bool:
            return await applied(http) == second

        await eventually(second_applied)
        queues = {q["id"]: q for q in (await http.get("/api/v1/queues", headers=supervisor)).json()}
        assert set(queues) == {"emergencies", "billing", "gas"}
        assert queues["billing"]["strategy"] == "longest_idle"
        in_redis, _ = await Store(redis_url, fence=lambda: None).config()
        assert {q.id for q in in_redis} == {"emergencies", "billing", "gas"}
        # the next call goes where the new version says
        async with connected_bus(private_nats.url, "call-manager", "cm-test") as bus:
            placed = await bus.call(Enqueue(call_id="c-gas-1", queue_id="gas"), Enqueued,
                                    token=token_issuer.token("qm.calls.#"), timeout=5)  # fmt: skip
            assert placed.position == 1

        # the queue API writes the document, attributed to the person
        quality = {"id": "water-quality", "name": "Water quality", "strategy": "fewest_calls"}
        put = await http.put("/api/v1/queues/water-quality", headers=supervisor, json=quality)
        assert put.status_code == 200, put.text
        body, third, by = await stored(private_nats.url)
        assert third > second and by == "tester" and "water-quality" in [q["id"] for q in body["queues"]]
        assert (await http.get("/api/v1/queues/water-quality/stats", headers=supervisor)).status_code == 200
        nowhere = {**quality, "overflow_target": "queue:nowhere"}
        refused = await http.put("/api/v1/queues/water-quality", headers=supervisor, json=nowhere)
        assert (refused.status_code, refused.json()["error_id"]) == (409, "queues-inconsistent")
        in_use = await http.delete("/api/v1/queues/gas", headers=supervisor)  # a call waits in it
        assert in_use.status_code == 409 and in_use.json()["error_id"] == "queue-in-use"
        gone = await http.delete("/api/v1/queues/water-quality", headers=supervisor)
        assert gone.status_code == 204
        body, _, _ = await stored(private_nats.url)
        assert "water-quality" not in [q["id"] for q in body["queues"]]

        # a version that does not parse (an overflow to a queue that is not there) is not applied
        broken = {"queues": [{**body["queues"][0], "overflow_target": "queue:nowhere"}]}
        await write(private_nats.url, broken)

        async def refused() -> bool:
            return await applied(http, "callisto_config_refused_total") == 1

        await eventually(refused)
        queues = {q["id"] for q in (await http.get("/api/v1/queues", headers=supervisor)).json()}
        assert queues == {"emergencies", "billing", "gas"}
        # and the owner says why, asked first
        async with connected_bus(private_nats.url, "call-manager", "cm-test") as bus:
            check = ValidateConfig(service="queue-manager", document=KEY, body=broken)
            with pytest.raises(RemoteError) as why:
                await bus.call(check, ConfigValid, token=token_issuer.token("config.write"), timeout=5)
            assert why.value.error_id == "invalid-config" and "nowhere" in why.value.message


async def _positive(value: Any) -> bool:
    return bool(await value > 0)
