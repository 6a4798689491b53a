"""The recording policy and the recording store's room, on real calls (sipp trunk and phones,
call-manager, queue-manager, rtpengine recording pcaps): the dial plan records the emergencies
queue only; an emergencies call is captured from the answer. Then the recording service says it
has no room (``RecordingStorageChanged``: refusing): the next emergencies call is not recorded and
call-manager says so (``RecordingRefused``), a supervisor's start is refused with 507; room again,
and the start is taken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from calls_testing import Suite, eventually, plan_with, suite
from cm_testing import scenario

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.publishers import Publishers
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import SippRun, start_sipp
from callisto_protocol import Envelope
from callisto_protocol.recordings import RecordingRefused, RecordingStorageChanged, StorageLevel

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def phone(s: Suite, user: str, agent_id: str) -> SippRun:
    port = free_port()
    await s.register(user, port)
    await s.agent_ready(agent_id)
    xml = scenario("agent", s.folder, RING_MS=300, TALK_MS=6000)
    return await start_sipp(xml, s.folder, "-m", "1", "-p", str(port), "-mp", str(free_media_port()))


async def emergency_call(s: Suite) -> tuple[SippRun, str]:
    before = {c["call_id"] for c in await s.calls()}
    xml = scenario("caller", s.folder, NUMBER=311, CALLER="5551234", KEY=1, KEY_AT_MS=3500, HOLD_MS=12000)
    run = await start_sipp(
        xml, s.folder, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
    )
    found: list[str] = []

    async def connected() -> bool:
        found[:] = [
            c["call_id"] for c in await s.calls() if c["call_id"] not in before and c["state"] == "connected"
        ]
        return bool(found)

    await eventually(connected, 30)
    return run, found[0]


def storage(level: StorageLevel, free: float) -> RecordingStorageChanged:
    return RecordingStorageChanged(
        instance="recording-1", level=level, spool_free=free, store_free=0.5,
        reason=f"the capture spool has {free:.0%} free ({level.value})",
    )  # fmt: skip


async def test_the_policy_records_by_queue_and_a_full_store_refuses_new_recordings_out_loud(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    plan_file = plan_with(tmp_path, {})
    plan = yaml.safe_load(plan_file.read_text())
    plan["recording"] = {"default": "never", "rules": [{"queues": ["emergencies"], "mode": "always"}]}
    plan_file.write_text(yaml.safe_dump(plan))
    publishers = Publishers(private_nats.url)
    refused: list[RecordingRefused] = []

    async def keep(event: Any, _: Envelope) -> None:
        refused.append(event)

    def pcaps(call_id: str) -> list[Path]:
        return list((rtpengine.recording_dir / "pcaps").glob(f"{call_id}-*.pcap"))

    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, config_file=plan_file) as s:
        await s.bus.subscribe(RecordingRefused, keep)
        olga, omar = await phone(s, "operator1", "agent-1"), await phone(s, "operator2", "agent-2")
        first, first_id = await emergency_call(s)

        async def captured() -> bool:
            return bool(pcaps(first_id))

        await eventually(captured)  # recorded from the answer, by the policy

        await publishers.publish(storage(StorageLevel.REFUSING, 0.03))

        async def full() -> bool:
            return s.cm.board.room.refusing is not None

        await eventually(full)
        second, second_id = await emergency_call(s)

        async def told() -> bool:
            return any(e.call_id == second_id for e in refused)

        await eventually(told)
        (said,) = [e for e in refused if e.call_id == second_id]
        assert "no room" in said.reason and "3% free" in said.reason
        assert not pcaps(second_id)
        boss = s.issuer.bearer("cm.calls.record")
        start = f"/api/v1/calls/{second_id}/recording"
        no_room = await s.cm_http.post(start, json={"action": "start"}, headers=boss)
        assert no_room.status_code == 507 and no_room.json()["error_id"] == "no-room-to-record"

        await publishers.publish(storage(StorageLevel.OK, 0.4))

        async def room_again() -> bool:
            return s.cm.board.room.refusing is None

        await eventually(room_again)
        taken = await s.cm_http.post(start, json={"action": "start"}, headers=boss)
        assert (taken.status_code, taken.json()["recording"]) == (200, "on"), taken.text
        for run in (first, second, olga, omar):
            code, errors = await run.result(60)
            assert code == 0, errors
        assert pcaps(second_id)
    await publishers.close()
