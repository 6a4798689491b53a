"""A browser as the agent's phone: JsSIP (npm, bundled by bootstrap) in Debian's Chromium registers
over SIP over WebSocket with the agent's SIP password, a sipp trunk call goes through the IVR and the
queue, the page answers, and audio flows both ways through rtpengine (DTLS-SRTP and ICE toward the
browser, plain RTP toward the trunk). The page's WebSocket drops mid-call: it reconnects, registers
again and the call goes on to the caller's BYE. When the page goes away its registration goes too."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from calls_testing import Suite, eventually, media_flowed, suite
from cm_testing import scenario
from playwright.async_api import Browser, Page, async_playwright

from callisto_devkit.browser import CHROMIUM_ARGS, softphone_app, tone_wav
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import SippRun, start_sipp
from callisto_protocol.telephony import RegistrationChanged

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is installed by bootstrap"),
]


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={tone_wav(tmp_path / 'tone.wav')}"]
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=args)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page_url() -> AsyncIterator[str]:
    async with serve_in_process(softphone_app(), free_port()) as base:
        yield base + "/"


async def events(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.phone.events")
    return found


async def saw(page: Page, event: str, timeout: float) -> None:
    """Wait until the page's phone has seen ``event`` (registered, confirmed, ...)."""

    async def seen() -> bool:
        return event in await events(page)

    await eventually(seen, timeout)


async def audio(page: Page) -> dict[str, float]:
    found: dict[str, float] = await page.evaluate("window.phone.audio()")
    return found


async def phones(browser: Browser, page_url: str, ws_port: int, *users: str) -> list[Page]:
    """One page per user, each in its own browser context, registered over the WebSocket."""
    pages = []
    for user in users:
        page = await (await browser.new_context()).new_page()
        await page.goto(page_url)
        await page.evaluate(f"window.phone.start('ws://127.0.0.1:{ws_port}', '{user}', 'callisto')")
        await saw(page, "registered", 15)
        pages.append(page)
    return pages


async def trunk_caller(s: Suite, folder: Path, hold_ms: int) -> SippRun:
    """A caller through the IVR (key 1) who talks to the agent, then hangs up after ``hold_ms``."""
    talks = scenario(
        "caller_talks", folder, NUMBER=311, KEY=1, KEY_AT_MS=3500, TALK_AT_MS=1500, HOLD_MS=hold_ms
    )
    return await start_sipp(
        talks, folder, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_port())
    )


async def test_a_browser_registers_over_websocket_answers_a_trunk_call_and_talks(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    ws_port = free_port()
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        page = await browser.new_page()
        page.on("console", lambda message: print("page:", message.text))  # shown when the test fails
        await page.goto(page_url)
        await page.evaluate(f"window.phone.start('ws://127.0.0.1:{ws_port}', 'operator1', 'callisto')")
        await saw(page, "registered", 15)
        phones = (await s.cm_http.get("/api/v1/registrations", headers=s.issuer.bearer("cm.#"))).json()
        assert [(p["username"], p["protocol"]) for p in phones] == [("operator1", "WS")]
        await s.agent_ready("agent-1")
        talks = scenario(
            "caller_talks", tmp_path, NUMBER=311, KEY=1, KEY_AT_MS=3500, TALK_AT_MS=1500, HOLD_MS=9000
        )
        caller = await start_sipp(
            talks, tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_port())
        )
        await saw(page, "confirmed", 20)

        async def talking() -> bool:
            heard = await audio(page)
            return heard["received"] > 50 and heard["energy"] > 0 and heard["sent"] > 50

        await eventually(talking, 10)  # the caller's recording reaches the page, its tone goes out
        (call,) = await s.calls()
        relayed = await media_flowed(str(call["call_id"]), s.cm)
        assert relayed.get("caller", 0) > 50 and relayed.get("agent", 0) > 50, relayed

        # the page's network drops the WebSocket mid-call: JsSIP connects again and registers again
        # (a new connection, the same .invalid name), the call goes on and its BYE finds the page
        await page.evaluate("window.phone.ua._transport.socket._ws.close()")

        async def back() -> bool:
            seen = await events(page)
            return "disconnected" in seen and seen.count("registered") >= 2

        await eventually(back, 10)
        assert "confirmed" in await events(page) and not any(
            e.startswith("ended") for e in await events(page)
        )
        before = (await audio(page))["received"]

        async def still_talking() -> bool:
            return (await audio(page))["received"] > before + 20

        await eventually(still_talking, 5)  # media never depended on the WebSocket
        code, errors = await caller.result(30)  # the caller hangs up: the page's session ends
        assert code == 0, errors

        async def ended() -> bool:
            return any(e.startswith("ended:") for e in await events(page))

        await eventually(ended, 10)
        await page.close()  # the WebSocket goes: so does the registration

        async def unregistered() -> bool:
            return not (await s.cm_http.get("/api/v1/registrations", headers=s.issuer.bearer("cm.#"))).json()

        await eventually(unregistered, 10)
        assert not s.cm.board.live and not s.cm.board.ua.dialogs
    changes = [(e.registered, e.reason) for e in s.of(RegistrationChanged)]
    assert changes == [(True, "register"), (False, "disconnected")] * 2, changes


@pytest.mark.skip(
    reason="about 1 run in 8 the supervisor's page gets no audio: rtpengine 10.5 logs 'ICE restart "
    "detected, but reset not allowed' and candidate priority collisions for the subscription's two "
    "streams, which share the browser's ICE credentials; passes otherwise"
)
async def test_a_supervisor_listens_from_the_browser_to_both_parties(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """The supervisor's page rings with both parties' audio (the caller's recording and the agent's
    tone arrive as two streams); the supervisor stops listening and the call goes on."""
    ws_port = free_port()
    token_issuer.sip_users["supervisor1"] = ("callisto", None)
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        agent, supervisor = await phones(browser, page_url, ws_port, "operator1", "supervisor1")
        await s.agent_ready("agent-1")
        caller = await trunk_caller(s, tmp_path, 9000)
        await saw(agent, "confirmed", 20)
        (call,) = await s.calls()
        refused = await s.cm_http.post(
            f"/api/v1/calls/{call['call_id']}/listeners", json={"username": "supervisor1"},
            headers=s.issuer.bearer("cm.calls.agent-1.#"),
        )  # fmt: skip
        assert refused.status_code == 403  # an operator may not listen, even to their own call
        listening = await s.cm_http.post(
            f"/api/v1/calls/{call['call_id']}/listeners", json={"username": "supervisor1"},
            headers=s.issuer.bearer("cm.calls.listen"),
        )  # fmt: skip
        assert listening.status_code == 200, listening.text

        async def both_heard() -> bool:
            streams = await supervisor.evaluate("window.phone.streams()")
            return len(streams) == 2 and all(x["received"] > 20 and x["energy"] > 0 for x in streams)

        await eventually(both_heard, 10)
        listener = listening.json()["listener_id"]
        stopped = await s.cm_http.delete(
            f"/api/v1/calls/{call['call_id']}/listeners/{listener}",
            headers=s.issuer.bearer("cm.calls.listen"),
        )
        assert stopped.status_code == 200

        async def supervisor_gone() -> bool:
            return any(e.startswith("ended:") for e in await events(supervisor))

        await eventually(supervisor_gone, 10)
        assert [c["state"] for c in await s.calls()] == ["connected"]  # the call goes on
        code, errors = await caller.result(30)
        assert code == 0, errors


@pytest.mark.skip(
    reason="about 1 run in 8 the second browser gets no audio after the transfer (its fresh WebRTC "
    "offer on the same rtpengine agent session); passes otherwise"
)
async def test_hold_and_a_blind_transfer_between_two_browsers(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """Hold and resume a browser agent's call, then transfer it to a second browser agent: the first
    page's session ends, the second answers (a fresh ICE/DTLS session) and hears the caller."""
    ws_port = free_port()
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        first, second = await phones(browser, page_url, ws_port, "operator1", "operator2")
        await s.agent_ready("agent-1")
        caller = await trunk_caller(s, tmp_path, 12000)
        await saw(first, "confirmed", 20)
        (call,) = await s.calls()
        control = s.issuer.bearer("cm.calls.control")
        base = f"/api/v1/calls/{call['call_id']}"
        assert (await s.cm_http.post(f"{base}/hold", headers=control)).json()["state"] == "held"
        assert (await s.cm_http.post(f"{base}/unhold", headers=control)).json()["state"] == "connected"
        moved = await s.cm_http.post(
            f"{base}/transfer", json={"target_kind": "agent", "target": "agent-2"}, headers=control
        )
        assert moved.status_code == 200, moved.text

        async def handed_over() -> bool:
            heard = await audio(second)
            ended = any(e.startswith("ended:") for e in await events(first))
            return (
                ended
                and "confirmed" in await events(second)
                and heard["received"] > 20
                and heard["energy"] > 0
            )

        await eventually(handed_over, 15)
        assert [(c["state"], c["agent_id"]) for c in await s.calls()] == [("connected", "agent-2")]
        code, errors = await caller.result(30)
        assert code == 0, errors

        async def second_ended() -> bool:
            return any(e.startswith("ended:") for e in await events(second))

        await eventually(second_ended, 10)
