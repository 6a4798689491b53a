"""The recording service against real rtpengine, NATS and PostgreSQL: a call's two legs send known
tones through rtpengine (the customer 440 Hz, the agent 1000 Hz) while rtpengine records; a pause
(stop, then start: a second segment) while the customer reads out a card number (a 1477 Hz tone)
and keys in a code (RFC 4733 events): neither is in rtpengine's capture nor in the file;
call-manager's events tell of the answer and the end. The recording becomes available: the left
channel is the customer's tone and the right the agent's, the paused span silent with nothing of
the card, the pcaps gone; the audio answers Range requests (206, 416); an operator reaches their
own agent's recording only, and every listen, refused ones too, is written down. A capture that
cannot be read is quarantined with the reason and an event."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pytest
from recording_testing import NgClient, Seen, loudest_hz, plain_sdp, rtp_packets, sdp_port, tone, until_ready

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_protocol import new_id
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.recordings import RecordingAvailable, RecordingQuarantined
from callisto_recording.app import build
from callisto_recording.encode import blocks_of
from callisto_recording.pcap import packets
from callisto_recording.settings import RecordingSettings
from callisto_runtime import Mode

pytestmark = pytest.mark.integration
RATE = 8000


async def send(
    sock: socket.socket, to_port: int, samples: np.ndarray, ssrc: int, first_timestamp: int
) -> None:
    """20-ms RTP packets in real time (rtpengine records them as they arrive)."""
    started = time.monotonic()
    for n, (_, _, _, data) in enumerate(
        rtp_packets(samples, 0, 0, to_port, ssrc, first_timestamp=first_timestamp)
    ):
        sock.sendto(data, ("127.0.0.1", to_port))
        await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - time.monotonic()))


def event(call_id: str, seq: int, state: CallState, agent_id: str | None = "agent-1") -> CallStateChanged:
    return CallStateChanged(
        call_id=call_id, seq=seq, state=state, since=datetime.now(UTC), direction=CallDirection.INBOUND,
        caller="+79165551234", dialled="311", queue_id="general", agent_id=agent_id,
    )  # fmt: skip


async def test_a_call_recorded_left_and_right_with_a_pause_served_and_audited(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer, rtpengine: RtpEngine,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = RecordingSettings(
        nats_url=private_nats.url, http_port=free_port(), database_url=postgres_database,
        mode=Mode.DEVELOPMENT,
        capture_dir=rtpengine.recording_dir, store_dir=tmp_path / "store", work_dir=tmp_path / "work",
        settle_s=0.2, poll_s=0.1,
    )  # fmt: skip
    service, _, app = build(settings)
    seen = Seen()

    ng = NgClient(rtpengine.port)
    customer, agent = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    customer.bind(("127.0.0.1", 0))
    agent.bind(("127.0.0.1", 0))
    call_id = new_id()
    publishers = Publishers(private_nats.url)
    async with serve_in_process(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as http:
        await until_ready(http)
        await service.bus.subscribe(RecordingAvailable, seen.keep)
        await service.bus.subscribe(RecordingQuarantined, seen.keep)
        offered = ng("offer", call_id=call_id, from_tag="caller", sdp=plain_sdp(customer.getsockname()[1]))
        answered = ng("answer", call_id=call_id, from_tag="caller", to_tag="agent",
                      sdp=plain_sdp(agent.getsockname()[1]))  # fmt: skip
        to_customer_leg, to_agent_leg = sdp_port(answered["sdp"]), sdp_port(offered["sdp"])
        said = f"callisto-recording v1 call={call_id} customer={to_customer_leg} agent={to_agent_leg}"
        await publishers.publish(event(call_id, 1, CallState.CONNECTED))
        ng("start recording", call_id=call_id, metadata=said)
        await asyncio.gather(
            send(customer, to_customer_leg, tone(440, 2), 11, 0),
            send(agent, to_agent_leg, tone(1000, 2), 22, 0),
        )
        ng("stop recording", call_id=call_id)  # a pause: the customer reads out a card number
        # and keys in its code (RFC 4733 events). rtpengine reports digits to call-manager's DTMF port
        # over a connected UDP socket: with nobody there, the refusal it gets back would cost the next
        # report, a later test's caller's key. So the report is taken here, and shows the digit came.
        reports = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        reports.bind(("127.0.0.1", rtpengine.dtmf_port))
        reports.settimeout(5)
        for n in range(5):
            digit = struct.pack("!BBHII", 0x80, 101, 900 + n, 2 * RATE + 8000, 11) + bytes([5, 0x8A, 3, 32])
            customer.sendto(digit, ("127.0.0.1", to_customer_leg))
        await send(customer, to_customer_leg, tone(1477, 1), 11, 2 * RATE)
        report = json.loads(await asyncio.to_thread(reports.recv, 65535))
        reports.close()
        assert report["callid"] == call_id and report["event"] == 5  # rtpengine saw the digit
        ng("start recording", call_id=call_id, metadata=said)
        await asyncio.gather(
            send(customer, to_customer_leg, tone(440, 1.5), 11, 3 * RATE),
            send(agent, to_agent_leg, tone(1000, 1.5), 22, 3 * RATE),
        )
        ng("delete", call_id=call_id)
        kept = [p for pcap in rtpengine.recording_dir.glob(f"pcaps/{call_id}-*.pcap") for p in packets(pcap)]
        assert kept and not [p for p in kept if p.payload_type == 101]  # no digit of the paused span
        await publishers.publish(event(call_id, 2, CallState.ENDED))

        async def available() -> RecordingAvailable:
            while not any(isinstance(e, RecordingAvailable) and e.call_id == call_id for e in seen):
                await asyncio.sleep(0.1)
            return next(e for e in seen if isinstance(e, RecordingAvailable) and e.call_id == call_id)

        ready = await asyncio.wait_for(available(), 30)
        assert ready.duration_s == pytest.approx(4.5, abs=0.3)
        assert not list(rtpengine.recording_dir.glob(f"*/*{call_id}*"))  # the capture went, once stored

        boss = token_issuer.bearer("recording.read", "recording.listen", subject="supervisor1")
        mine = token_issuer.bearer("recording.agents.{agent_id}.#", subject="operator1", agent_id="agent-1")
        other = token_issuer.bearer("recording.agents.{agent_id}.#", subject="operator2", agent_id="agent-2")
        listed = (await http.get("/api/v1/recordings", params={"call_id": call_id}, headers=boss)).json()
        assert [(r["id"], r["agent_id"], r["segments"]) for r in listed] == [
            (ready.recording_id, "agent-1", 2)
        ]
        assert listed[0]["ratios"]["overtalk"] > 0.5
        [before, after] = listed[0]["spans"]  # the pause between them, about a second
        assert before[0] == pytest.approx(0, abs=0.1) and after[0] - before[1] == pytest.approx(1, abs=0.3)
        whole = await http.get(f"/api/v1/recordings/{ready.recording_id}/audio", headers=boss)
        assert whole.status_code == 200 and whole.headers["content-type"] == "audio/ogg"
        part = await http.get(
            f"/api/v1/recordings/{ready.recording_id}/audio", headers={**boss, "Range": "bytes=0-99"}
        )
        assert part.status_code == 206 and len(part.content) == 100
        assert part.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
        beyond = {**boss, "Range": f"bytes={len(whole.content) + 10}-"}
        assert (
            await http.get(f"/api/v1/recordings/{ready.recording_id}/audio", headers=beyond)
        ).status_code == 416
        (tmp_path / "got.ogg").write_bytes(whole.content)
        audio = np.concatenate(list(blocks_of(tmp_path / "got.ogg")))
        first = audio[int(0.5 * RATE) : int(1.5 * RATE)]
        assert loudest_hz(first[:, 0]) == pytest.approx(440, abs=10)  # the customer, left
        assert loudest_hz(first[:, 1]) == pytest.approx(1000, abs=10)  # the agent, right
        paused = audio[int(2.2 * RATE) : int(2.8 * RATE)]
        assert loudest_hz(paused[:, 0]) == 0 and loudest_hz(paused[:, 1]) == 0  # nothing of the card
        after = audio[int(3.5 * RATE) : int(4.2 * RATE)]
        assert loudest_hz(after[:, 0]) == pytest.approx(440, abs=10)
        spectrum = np.abs(np.fft.rfft(audio[:, 0].astype(float)))
        freqs = np.fft.rfftfreq(len(audio), 1 / RATE)
        assert spectrum[np.abs(freqs - 1477) < 5].max() < spectrum[np.abs(freqs - 440) < 5].max() / 50

        wav = await http.get(
            f"/api/v1/recordings/{ready.recording_id}/audio", params={"format": "wav"}, headers=mine
        )
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        link = (await http.post(f"/api/v1/recordings/{ready.recording_id}/link", headers=mine)).json()
        played = await http.get(f"/api/{link['path']}", headers={"Range": "bytes=0-3"})  # no token: signed
        assert played.status_code == 206 and played.content == b"OggS"
        forged = link["path"].replace("sub=operator1", "sub=operator2")
        assert (await http.get(f"/api/{forged}")).status_code == 403
        refused = await http.get(f"/api/v1/recordings/{ready.recording_id}/audio", headers=other)
        assert refused.status_code == 403  # another agent's: refused, and written down
        assert (await http.get("/api/v1/recordings", params={"call_id": call_id}, headers=other)).json() == []
        auditor = token_issuer.bearer("recording.#", subject="quality1")
        listens = (await http.get(f"/api/v1/recordings/{ready.recording_id}/listens", headers=auditor)).json()
        assert [(x["subject"], x["format"], x["range"], x["allowed"]) for x in listens] == [
            ("supervisor1", "opus", None, True), ("supervisor1", "opus", "bytes=0-99", True),
            ("supervisor1", "opus", f"bytes={len(whole.content) + 10}-", True),
            ("operator1", "wav", None, True),
            ("operator1", "opus", "bytes=0-3", True), ("operator2", "opus", None, False),
            ("operator2", "opus", None, False),
        ]  # fmt: skip

        # both parties mixed into one channel, on request
        mono = await http.get(
            f"/api/v1/recordings/{ready.recording_id}/audio", params={"channels": "mono"}, headers=boss
        )
        assert mono.status_code == 200 and mono.content[:4] == b"OggS" and mono.content != whole.content
        (tmp_path / "mono.ogg").write_bytes(mono.content)
        mixed = np.concatenate(list(blocks_of(tmp_path / "mono.ogg")))[int(0.5 * RATE) : int(1.5 * RATE)]
        assert (mixed[:, 0] == mixed[:, 1]).all()  # one channel
        spectrum = np.abs(np.fft.rfft(mixed[:, 0].astype(float)))
        freqs = np.fft.rfftfreq(len(mixed), 1 / RATE)
        assert min(spectrum[np.abs(freqs - hz) < 5].max() for hz in (440, 1000)) > spectrum.mean() * 50

        # a capture that cannot be read: quarantined with the reason, an event, nothing deleted
        broken = new_id()
        pcap = rtpengine.recording_dir / "pcaps" / f"{broken}-0000.pcap"
        pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 30)
        (rtpengine.recording_dir / "metadata" / f"rtpengine-meta-{broken}-0000.txt").write_text(
            f"{pcap}\n\n\ncallisto-recording v1 call={broken} customer=1 agent=2\n"
        )
        await publishers.publish(event(broken, 1, CallState.ENDED))

        async def quarantined() -> RecordingQuarantined:
            while not any(isinstance(e, RecordingQuarantined) and e.call_id == broken for e in seen):
                await asyncio.sleep(0.1)
            return next(e for e in seen if isinstance(e, RecordingQuarantined))

        told = await asyncio.wait_for(quarantined(), 30)
        aside = rtpengine.recording_dir / "quarantine" / broken
        assert "link type 0" in told.reason and (aside / "reason.txt").read_text().strip() == told.reason
        assert (aside / pcap.name).exists() and not pcap.exists()
    await publishers.close()
    ng.close()
    customer.close()
    agent.close()
