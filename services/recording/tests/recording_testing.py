"""Captures as rtpengine writes them (pcap, link type RAW, IPv4/UDP/RTP) made of known tones, and
the checks a listener would make (which frequency is loudest on which channel, and when)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from callisto_devkit.processes import free_port
from callisto_protocol import Envelope
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_recording.g711 import encode_ulaw
from callisto_recording.settings import RecordingSettings
from callisto_runtime import Mode

RATE = 8000


def tone(hz: float, seconds: float, level: float = 8000.0) -> npt.NDArray[np.int16]:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * hz * t) * level).astype(np.int16)


def rtp_packets(
    samples: npt.NDArray[np.int16], start_at: float, source_port: int, to_port: int, ssrc: int,
    payload_type: int = 0, first_timestamp: int = 1000,
) -> list[tuple[float, int, int, bytes]]:  # fmt: skip
    """(arrival, source port, destination port, UDP payload) of 20-ms µ-law packets."""
    out = []
    for n, offset in enumerate(range(0, len(samples) - 159, 160)):
        header = struct.pack(
            "!BBHII", 0x80, payload_type, n & 0xFFFF, (first_timestamp + offset) & 0xFFFFFFFF, ssrc
        )
        out.append(
            (
                start_at + offset / RATE,
                source_port,
                to_port,
                header + encode_ulaw(samples[offset : offset + 160]),
            )
        )
    return out


def write_pcap(path: Path, datagrams: Iterable[tuple[float, int, int, bytes]]) -> Path:
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for at, sport, dport, payload in datagrams:
            udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                             bytes([127, 0, 0, 1])) + udp  # fmt: skip
            seconds = int(at)
            out.write(struct.pack("<IIII", seconds, round((at - seconds) * 1e6), len(ip), len(ip)) + ip)
    return path


def loudest_hz(samples: npt.NDArray[np.int16]) -> float:
    """The strongest frequency of a stretch of one channel (0 for silence)."""
    if not len(samples) or np.abs(samples).max() < 200:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(spectrum.argmax())])


def bencode(value: object) -> bytes:
    if isinstance(value, bytes):
        return str(len(value)).encode() + b":" + value
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"
    raise TypeError(type(value))


def bdecode(data: bytes, at: int = 0) -> tuple[object, int]:
    kind = data[at : at + 1]
    if kind == b"i":
        end = data.index(b"e", at)
        return int(data[at + 1 : end]), end + 1
    if kind in (b"l", b"d"):
        items: list[object] = []
        at += 1
        while data[at : at + 1] != b"e":
            item, at = bdecode(data, at)
            items.append(item)
        if kind == b"l":
            return items, at + 1
        pairs = iter(items)
        return {
            k.decode() if isinstance(k, bytes) else k: v for k, v in zip(pairs, pairs, strict=True)
        }, at + 1
    colon = data.index(b":", at)
    length = int(data[at:colon])
    return data[colon + 1 : colon + 1 + length], colon + 1 + length


class NgClient:
    """rtpengine's NG control protocol over UDP, as a call-manager speaks it (blocking; tests only)."""

    def __init__(self, port: int) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(2)
        self.port = port
        self.cookie = 0

    def __call__(self, command: str, **arguments: object) -> dict[str, object]:
        self.cookie += 1
        message = {key.replace("_", "-"): value for key, value in arguments.items()}
        message["command"] = command
        self.sock.sendto(f"{self.cookie} ".encode() + bencode(message), ("127.0.0.1", self.port))
        reply = self.sock.recv(65535)
        decoded, _ = bdecode(reply[reply.index(b" ") + 1 :])
        assert isinstance(decoded, dict) and decoded.get("result") != b"error", decoded
        return decoded

    def close(self) -> None:
        self.sock.close()


def plain_sdp(port: int) -> str:
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )


def sdp_port(sdp: object) -> int:
    assert isinstance(sdp, bytes)
    line = next(line for line in sdp.decode().splitlines() if line.startswith("m=audio "))
    return int(line.split()[1])


def captured(folder: Path, call_id: str, started: datetime, seconds: float = 2) -> None:
    """A finished two-leg segment (the customer 440 Hz, the agent 1000 Hz), as rtpengine leaves it."""
    at = started.timestamp()
    customer = rtp_packets(tone(440, seconds), at, 40000, 30000, 11)
    datagrams = sorted(customer + rtp_packets(tone(1000, seconds), at, 40002, 30002, 22))
    pcap = write_pcap(folder / "pcaps" / f"{call_id}-0000.pcap", datagrams)
    (folder / "metadata" / f"rtpengine-meta-{call_id}-0000.txt").write_text(
        f"{pcap}\n\n\ncallisto-recording v1 call={call_id} customer=30000 agent=30002\n"
    )


def ended(call_id: str, queue_id: str, started: datetime) -> list[CallStateChanged]:
    said: dict[str, Any] = dict(
        call_id=call_id, direction=CallDirection.INBOUND, caller="+79165551234", dialled="311",
        queue_id=queue_id, agent_id="agent-1",
    )  # fmt: skip
    return [
        CallStateChanged(seq=1, state=CallState.CONNECTED, since=started, **said),
        CallStateChanged(seq=2, state=CallState.ENDED, since=started + timedelta(seconds=2), **said),
    ]


def local_settings(nats_url: str, database_url: str, folder: Path, **overrides: Any) -> RecordingSettings:
    """The service on a capture directory of its own below ``folder`` (``capture/pcaps``,
    ``metadata``, ``tmp``), a local store, converting as soon as a call ends."""
    capture = folder / "capture"
    for sub in ("pcaps", "metadata", "tmp"):
        (capture / sub).mkdir(parents=True, exist_ok=True)
    chosen: dict[str, Any] = {
        "nats_url": nats_url, "http_port": free_port(), "database_url": database_url,
        "mode": Mode.DEVELOPMENT, "capture_dir": capture, "store_dir": folder / "store",
        "work_dir": folder / "work", "settle_s": 0, "poll_s": 0.1, **overrides,
    }  # fmt: skip
    return RecordingSettings(**chosen)


async def until_ready(http: httpx.AsyncClient) -> None:
    while (await http.get("/readyz")).status_code != 200:
        await asyncio.sleep(0.05)


class Seen(list[Any]):
    """Events a test's bus handed over, in order: subscribe ``seen.keep``."""

    async def keep(self, found: Any, _: Envelope) -> None:
        self.append(found)
