"""A browser as the agent's phone: JsSIP (npm, bundled by bootstrap) in Debian's Chromium registers
over SIP over WebSocket with the agent's SIP password, a sipp trunk call goes through the IVR and the
queue, the page answers, and audio flows both ways through rtpengine (DTLS-SRTP and ICE toward the
browser, plain RTP toward the trunk). The page's WebSocket drops mid-call: it reconnects, registers
again and the call goes on to the caller's BYE. When the page goes away its registration goes too."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from calls_testing import Suite, eventually, media_flowed, suite, with_customer
from cm_testing import scenario
from playwright.async_api import Browser, Page

from callisto_devkit.browser import chromium, softphone_app
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import SippRun, start_sipp
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.telephony import (
    ChangeListener,
    ListenerChanged,
    ListenerMode,
    ListenerState,
    RegistrationChanged,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is installed by bootstrap"),
]


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with chromium(tmp_path) as launched:
        yield launched


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

    try:
        await eventually(seen, timeout)
    except AssertionError:
        saw_instead = await events(page)
        raise AssertionError(f"the phone did not see {event!r} in {timeout} s: {saw_instead}") from None


async def sessions(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate("window.phone.sessions()")
    return found


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
        "caller_talks", folder, NUMBER=311, CALLER=5551234, KEY=1, KEY_AT_MS=3500, TALK_AT_MS=1500,
        HOLD_MS=hold_ms,
    )  # fmt: skip
    return await start_sipp(
        talks, folder, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
    )


async def answered(
    s: Suite, browser: Browser, page_url: str, ws_port: int, other: str, hold_ms: int
) -> tuple[list[Page], SippRun, dict[str, Any]]:
    """operator1's page and ``other``'s registered, and a trunk call answered by operator1 (agent-1):
    the pages, the caller, the call."""
    pages = await phones(browser, page_url, ws_port, "operator1", other)
    await s.agent_ready("agent-1")
    caller = await trunk_caller(s, s.folder, hold_ms)
    await saw(pages[0], "confirmed", 40)  # after the IVR's prompts and menu: slow on a loaded machine
    (call,) = await s.calls()
    return pages, caller, call


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
            "caller_talks", tmp_path, NUMBER=311, CALLER=5551234, KEY=1, KEY_AT_MS=3500, TALK_AT_MS=1500,
            HOLD_MS=9000,
        )  # fmt: skip
        caller = await start_sipp(
            talks, tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
        )
        await saw(page, "confirmed", 40)  # after the IVR's prompts and menu

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

        async def told() -> bool:  # the last change's event may arrive a moment after the API says it
            return len(s.of(RegistrationChanged)) >= 4

        await eventually(told, 10)
    changes = [(e.registered, e.reason) for e in s.of(RegistrationChanged)]
    assert changes == [(True, "register"), (False, "disconnected")] * 2, changes


async def test_a_supervisor_listens_from_the_browser_then_whispers_to_the_agent(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """The supervisor's page takes one listening session per party (the caller's recording and the
    agent's tone arrive); whispering adds a session from the supervisor to a second session on the
    agent's page, in an rtpengine call of its own (the customer's call never carries it); whisper off
    ends those two, stopping ends the rest, and the call goes on. Each change is an audit event
    naming whoever asked."""
    ws_port = free_port()
    token_issuer.sip_users["supervisor1"] = ("callisto", None)
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        (agent, supervisor), caller, call = await answered(
            s, browser, page_url, ws_port, "supervisor1", 18000
        )
        base = f"/api/v1/calls/{call['call_id']}/listeners"
        refused = await s.cm_http.post(
            base, json={"username": "supervisor1"}, headers=s.issuer.bearer("cm.calls.agent-1.#")
        )
        assert refused.status_code == 403  # an operator may not listen, even to their own call
        boss = s.issuer.bearer("cm.calls.listen", subject="alice")
        listening = await s.cm_http.post(base, json={"username": "supervisor1"}, headers=boss)
        assert listening.status_code == 200, listening.text
        listener = listening.json()["listener_id"]
        assert (listening.json()["mode"], listening.json()["by"]) == ("listening", "alice")

        async def heard(page: Page, sender: str, count: int) -> bool:
            """``count`` live sessions from ``sender`` (a display name's start), all with audio."""
            found = [x for x in await sessions(page) if x["from"].startswith(sender) and not x["ended"]]
            return len(found) == count and all(x["received"] > 20 and x["energy"] > 0 for x in found)

        await eventually(lambda: heard(supervisor, "Listen:", 2), 10)
        whisper = await s.cm_http.patch(f"{base}/{listener}", json={"whisper": True}, headers=boss)
        assert whisper.status_code == 200, whisper.text
        assert whisper.json()["mode"] == "whispering"
        await eventually(lambda: heard(agent, "Whisper: supervisor1", 1), 10)
        assert any(x["from"].startswith("Whisper to") and x["sent"] > 0 for x in await sessions(supervisor))
        media = await media_flowed(call["call_id"], s.cm)  # the customer's call: no whisper in it
        assert "supervisor" not in media and len(media) == 4, media  # caller, agent, two listeners
        whisper_media = await media_flowed(f"{call['call_id']}.whisper.{listener}", s.cm)
        assert set(whisper_media) == {"agent", "supervisor"} and whisper_media["supervisor"] > 20

        quiet = ChangeListener(call_id=call["call_id"], listener_id=listener, mode=ListenerMode.LISTENING)
        token = s.issuer.token("cm.calls.listen", subject="bob")
        assert (await s.bus.call(quiet, ListenerState, token=token)).mode is ListenerMode.LISTENING

        async def whisper_over() -> bool:
            return all(x["ended"] for x in await sessions(agent) if x["from"].startswith("Whisper"))

        await eventually(whisper_over, 10)
        assert await heard(supervisor, "Listen:", 2)  # listening goes on
        stopped = await s.cm_http.delete(f"{base}/{listener}", headers=boss)
        assert stopped.json()["mode"] == "stopped"

        async def supervisor_gone() -> bool:
            return all(x["ended"] for x in await sessions(supervisor))

        await eventually(supervisor_gone, 10)
        assert [c["state"] for c in await s.calls()] == ["connected"]  # the call goes on
        assert not (await s.cm_http.get(base, headers=boss)).json()
        code, errors = await caller.result(30)
        assert code == 0, errors
    trail = [(e.mode.value, e.by) for e in s.of(ListenerChanged)]
    assert trail == [
        ("listening", "alice"),
        ("whispering", "alice"),
        ("listening", "bob"),
        ("stopped", "alice"),
    ]


async def test_hold_and_a_blind_transfer_between_two_browsers(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """Hold and resume a browser agent's call, then transfer it to a second browser agent: the first
    page's session ends, the second answers (a fresh ICE/DTLS session) and hears the caller."""
    ws_port = free_port()
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        (first, second), caller, call = await answered(s, browser, page_url, ws_port, "operator2", 12000)
        # the operator controls their own call with their own token; another operator may not
        control = s.issuer.bearer("cm.calls.{agent_id}.#", agent_id="agent-1")
        other = s.issuer.bearer("cm.calls.{agent_id}.#", agent_id="agent-2")
        base = f"/api/v1/calls/{call['call_id']}"
        refused = await s.cm_http.post(f"{base}/hold", headers=other)
        assert (refused.status_code, refused.json()["error_id"]) == (403, "permission-denied")
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


async def test_a_consult_then_the_caller_handed_over_to_the_consulted_colleague(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """Olga (a browser) consults Omar (a browser) while the caller waits on hold: Omar's page rings,
    then Olga's takes a second session by itself and they talk. Cancelled, the caller is back with
    Olga; consulted again and completed, the caller goes to Omar, whose page answers by itself and
    hears the caller; Olga's sessions end."""
    ws_port = free_port()
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        (olga, omar), caller, call = await answered(s, browser, page_url, ws_port, "operator2", 25000)
        control = s.issuer.bearer("cm.calls.{agent_id}.#", agent_id="agent-1")
        base = f"/api/v1/calls/{call['call_id']}"
        refused = await s.cm_http.post(f"{base}/consult/complete", headers=control)
        assert (refused.status_code, refused.json()["error_id"]) == (409, "no-consult")

        async def consulting(count: int) -> None:
            asked = await s.cm_http.post(f"{base}/consult", json={"agent_id": "agent-2"}, headers=control)
            assert asked.status_code == 200, asked.text
            assert asked.json() == {
                "call_id": call["call_id"], "agent_id": "agent-1", "colleague_id": "agent-2", "talking": True
            }  # fmt: skip
            assert [c["state"] for c in await s.calls()] == ["held"]

            async def talking() -> bool:  # the consult's two sessions carry audio both ways
                mine, theirs = (await sessions(olga))[-1], (await sessions(omar))[-1]
                return (
                    len(await sessions(olga)) == count + 1 and mine["from"] == "Consult: agent-2"
                    and theirs["from"] == "Consult: agent-1"
                    and mine["received"] > 20 and theirs["received"] > 20
                )  # fmt: skip

            await eventually(talking, 15)

        await consulting(1)
        again = await s.cm_http.post(f"{base}/consult", json={"agent_id": "agent-2"}, headers=control)
        assert (again.status_code, again.json()["error_id"]) == (409, "consult-under-way")
        cancelled = await s.cm_http.delete(f"{base}/consult", headers=control)
        assert cancelled.json()["talking"] is False, cancelled.text

        async def back_with_olga() -> bool:
            olga_sessions, omar_sessions = await sessions(olga), await sessions(omar)
            return (
                [c["state"] for c in await s.calls()] == ["connected"]
                and [x["ended"] for x in olga_sessions] == [False, True]
                and omar_sessions[-1]["ended"]
            )

        await eventually(back_with_olga, 10)
        await consulting(2)
        done = await s.cm_http.post(f"{base}/consult/complete", headers=control)
        assert done.status_code == 200, done.text

        async def with_omar() -> bool:
            heard = (await sessions(omar))[-1]
            calls = await s.calls()
            return (
                all(x["ended"] for x in await sessions(olga))
                and [(c["state"], c["agent_id"]) for c in calls] == [("connected", "agent-2")]
                and heard["from"] != "Consult: agent-1" and not heard["ended"] and heard["received"] > 20
            )  # fmt: skip

        await eventually(with_omar, 15)
        code, errors = await caller.result(40)
        assert code == 0, errors


async def test_click_to_call_from_a_browser_agent_with_the_call_recorded(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """Click-to-call with a browser as the agent's phone: the page rings and answers first (WebRTC
    toward a placeholder customer), then the customer through the trunk (sipp) answers and the same
    agent session is pointed at them; audio flows both ways, the call is recorded (rtpengine's pcap,
    decrypted from the browser's SRTP) and the page hangs up."""
    ws_port = free_port()
    async with with_customer(
        private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port
    ) as (s, customer):  # fmt: skip
        (agent,) = await phones(browser, page_url, ws_port, "operator1")
        placed = await s.cm_http.post(
            "/api/v1/calls", json={"number": "5550100", "agent_id": "agent-1", "caller_id": "311"},
            headers=s.issuer.bearer("cm.calls.originate"),
        )  # fmt: skip
        assert placed.status_code == 200, placed.text
        call_id = placed.json()["call_id"]

        async def talking() -> bool:
            heard = await audio(agent)
            relayed = await media_flowed(call_id, s.cm)
            return heard["energy"] > 0 and heard["sent"] > 20 and relayed.get("agent", 0) > 20

        await eventually(talking, 20)
        record = s.issuer.bearer("cm.calls.record")
        started = await s.cm_http.post(
            f"/api/v1/calls/{call_id}/recording", json={"action": "start"}, headers=record
        )
        assert started.json()["recording"] == "on", started.text
        before = (await audio(agent))["received"]
        await eventually(lambda: _grew(agent, before + 50), 10)
        stopped = await s.cm_http.post(
            f"/api/v1/calls/{call_id}/recording", json={"action": "stop"}, headers=record
        )
        assert stopped.json()["recording"] == "off", stopped.text
        await agent.evaluate("window.phone.hangup()")
        code, errors = await customer.result(30)
        assert code == 0, errors

        async def ended() -> bool:  # the last event may reach the watcher a moment after the BYE
            return any(e.call_id == call_id and e.state.value == "ended" for e in s.of(CallStateChanged))

        await eventually(ended, 10)
    captured = [p for p in rtpengine.recording_dir.rglob("*.pcap") if call_id in p.name]
    assert captured and captured[0].stat().st_size > 4000, captured
    states = [e.state.value for e in s.of(CallStateChanged) if e.call_id == call_id]
    assert states == ["created", "ringing", "connected", "ringing", "connected", "ended"]


async def _grew(page: Page, packets: float) -> bool:
    return (await audio(page))["received"] > packets


async def test_a_browser_registers_with_the_persons_access_token(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    """The operator client has no SIP password: its phone registers with the person's access token
    (RFC 8898). The binding is the person's agent's and lasts no longer than the token; someone
    else's token, a forged one and one that expired are refused."""
    ws_port = free_port()
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        url = f"ws://127.0.0.1:{ws_port}"

        def token_of(login: str, agent_id: str, ttl_s: int = 120) -> str:
            return s.issuer.token(
                "cm.calls.{agent_id}.#", subject=f"u-{login}", agent_id=agent_id, login=login, ttl_s=ttl_s
            )

        async def page_with(user: str, token: str) -> Page:
            page = await (await browser.new_context()).new_page()
            await page.goto(page_url)
            await page.evaluate(f"window.phone.startWithToken('{url}', '{user}', '{token}')")
            return page

        good = token_of("operator1", "agent-1")
        await saw(await page_with("operator1", good), "registered", 15)
        (binding,) = (await s.cm_http.get("/api/v1/registrations", headers=s.issuer.bearer("cm.#"))).json()
        assert (binding["username"], binding["agent_id"], binding["protocol"]) == (
            "operator1",
            "agent-1",
            "WS",
        )
        assert binding["expires_at"] <= time.time() + 120  # not beyond the token
        for user, token in (
            ("operator1", token_of("operator2", "agent-2")),  # someone else's
            ("operator2", good[:-4] + "AAAA"),  # forged
            ("operator2", token_of("operator2", "agent-2", ttl_s=-60)),  # expired
        ):
            refused = await page_with(user, token)

            async def failed(page: Page = refused) -> bool:
                return any(e.startswith("registration-failed") for e in await events(page))

            await eventually(failed, 15)
        assert [(e.agent_id, e.registered) for e in s.of(RegistrationChanged)] == [("agent-1", True)]
