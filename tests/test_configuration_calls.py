"""The dial plan as a configuration document, changed while calls run (call-manager and queue-manager in
this process, real rtpengine, sipp callers): a caller already in the menu keeps the plan they started
with, the next caller follows the new one; a plan call-manager refuses is answered with the reason, and
one written past the validation is not applied (the old one stays); the first version written again
(a rollback) is applied."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bus_testing import connected_bus
from calls_testing import Suite, eventually, suite
from cm_testing import scenario

from callisto_call_manager.dialplan import Menu
from callisto_call_manager.settings import DEMO_CONFIG
from callisto_devkit.configuration import document_figure, write_version
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import SippRun, start_sipp
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.configuration import ConfigValid, ValidateConfig
from callisto_runtime import RemoteError

DOCUMENT = "call-manager.dial-plan"


async def metric(s: Suite, name: str) -> float:
    """call-manager's own figure for the dial plan: the version applied, versions refused."""
    return document_figure((await s.cm_http.get("/metrics")).text, DOCUMENT, name)


async def applied(s: Suite) -> int:
    return int(await metric(s, "callisto_config_version"))


async def caller(s: Suite, key_at_ms: int) -> SippRun:
    xml = scenario("caller", s.folder, NUMBER=311, KEY=1, KEY_AT_MS=key_at_ms, HOLD_MS=9000)
    return await start_sipp(
        xml, s.folder, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
    )


def queue_of(s: Suite, nth: int) -> str | None:
    """The queue the ``nth`` call (in the order they came in) was put in."""
    created = [e.call_id for e in s.of(CallStateChanged) if e.state is CallState.CREATED]
    if len(created) <= nth:
        return None
    queued = [e for e in s.of(CallStateChanged) if e.call_id == created[nth] and e.state is CallState.QUEUED]
    return queued[0].queue_id if queued else None


async def test_a_new_dial_plan_takes_the_next_call_while_a_caller_in_the_menu_keeps_theirs(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    original = yaml.safe_load(DEMO_CONFIG.read_text())
    changed = yaml.safe_load(DEMO_CONFIG.read_text())
    changed["flows"]["water"]["steps"]["menu"]["options"]["1"] = "billing"  # leaks now go to billing
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        async def seeded() -> bool:  # the demo plan written as the first version
            return await applied(s) > 0

        await eventually(seeded)
        first = await applied(s)

        early = await caller(s, key_at_ms=6000)  # presses 1 six seconds in: after the change
        async def in_menu() -> bool:
            return any(e.state is CallState.IVR for e in s.of(CallStateChanged))

        await eventually(in_menu)
        second = await write_version(private_nats.url, DOCUMENT, changed, "leaks to billing")

        async def now_applied(version: int) -> bool:
            return await applied(s) == version

        await eventually(lambda: now_applied(second))
        late = await caller(s, key_at_ms=3500)

        async def both_queued() -> bool:
            return queue_of(s, 0) is not None and queue_of(s, 1) is not None

        await eventually(both_queued)
        assert queue_of(s, 0) == "emergencies"  # the flow it started with
        assert queue_of(s, 1) == "billing"  # the new plan
        for run in (early, late):
            code, errors = await run.result()
            assert code == 0, errors

        # a plan call-manager cannot read: the owner's answer names the reason
        broken = {**changed, "numbers": {"311": "no-such-flow"}}
        async with connected_bus(private_nats.url, "core-bus", "config-test") as bus:
            token = token_issuer.token("config.write")
            check = ValidateConfig(service="call-manager", document=DOCUMENT, body=broken)
            with pytest.raises(RemoteError) as refused:
                await bus.call(check, ConfigValid, token=token, timeout=5)
            assert refused.value.error_id == "invalid-config" and "no-such-flow" in refused.value.message
            valid = await bus.call(ValidateConfig(service="call-manager", document=DOCUMENT, body=original),
                                   ConfigValid, token=token, timeout=5)  # fmt: skip
            assert "flows" in valid.summary
        # written past the validation anyway: not applied, the old plan stays
        await write_version(private_nats.url, DOCUMENT, broken, "past the validation")

        async def refused_once() -> bool:
            return await metric(s, "callisto_config_refused_total") == 1

        await eventually(refused_once)
        assert await applied(s) == second
        assert menu_choice(s) == "billing"
        # rolled back to the first version's body
        fourth = await write_version(private_nats.url, DOCUMENT, original, f"rollback to version {first}")
        await eventually(lambda: now_applied(fourth))
        assert menu_choice(s) == "leaks"


def menu_choice(s: Suite) -> str:
    """Where key 1 in the water menu leads in the plan call-manager uses for new calls."""
    step = s.cm.board.plan.flows["water"].steps["menu"]
    assert isinstance(step, Menu)
    return step.options["1"]
