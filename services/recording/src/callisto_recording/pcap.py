"""rtpengine's pcap files read as a stream of RTP packets, one at a time (a four-hour call never
sits in memory). rtpengine writes each packet it received with fake IPv4/UDP headers (link type
RAW); Ethernet and Linux cooked captures are read too, IPv6 as well. What is not RTP over UDP is
skipped and counted; a file that ends mid-packet or is not a pcap is refused with the reason."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from callisto_recording.errors import CorruptCapture

MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}  # fmt: skip
RAW, ETHERNET, LINUX_SLL, IPV4, IPV6, LINUX_SLL2 = 101, 1, 113, 228, 229, 276
LINK_HEADER = {RAW: 0, IPV4: 0, IPV6: 0, ETHERNET: 14, LINUX_SLL: 16, LINUX_SLL2: 20}
UDP = 17
MAX_PACKET = 262_144


@dataclass(frozen=True, slots=True)
class RtpPacket:
    at: float  # when it arrived, epoch seconds
    source: tuple[str, int]
    destination_port: int
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


@dataclass
class ReadStats:
    packets: int = 0
    rtp: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def _address(raw: bytes) -> str:
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    return ":".join(raw[i : i + 2].hex() for i in range(0, 16, 2))


def _udp(frame: bytes, link: int, stats: ReadStats) -> tuple[str, int, int, bytes] | None:
    """(source address, source port, destination port, payload) of a UDP datagram, else None."""
    ip = frame[LINK_HEADER[link] :]
    if not ip:
        stats.skip("empty")
        return None
    version = ip[0] >> 4
    if version == 4:
        header = (ip[0] & 0x0F) * 4
        if len(ip) < header + 8 or ip[9] != UDP:
            stats.skip("not udp")
            return None
        source = _address(ip[12:16])
    elif version == 6:
        header = 40
        if len(ip) < header + 8 or ip[6] != UDP:
            stats.skip("not udp")
            return None
        source = _address(ip[8:24])
    else:
        stats.skip("not ip")
        return None
    sport, dport, length = struct.unpack_from("!HHH", ip, header)
    return source, sport, dport, ip[header + 8 : header + max(8, length)]


def rtp(at: float, source: tuple[str, int], dport: int, data: bytes) -> RtpPacket | None:
    """The RTP packet in a UDP payload (RFC 3550: version 2, CSRCs, extension, padding), else None."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    first, second, sequence, timestamp, ssrc = struct.unpack_from("!BBHII", data)
    start = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if len(data) < start + 4:
            return None
        start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
    end = len(data)
    if first & 0x20 and end > start:  # padding
        end -= data[-1]
    if start > end:
        return None
    return RtpPacket(
        at, source, dport, second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, data[start:end]
    )


def _read(stream: BinaryIO, size: int, where: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise CorruptCapture(f"the capture ends in the middle of {where}", {"wanted": size, "got": len(data)})
    return data


def packets(path: Path, stats: ReadStats | None = None) -> Iterator[RtpPacket]:
    """Every RTP packet of a pcap file, in the order written."""
    stats = stats if stats is not None else ReadStats()
    with path.open("rb") as stream:
        head = stream.read(24)
        if len(head) < 24 or head[:4] not in MAGIC:
            raise CorruptCapture("not a pcap file", {"file": path.name})
        order, unit = MAGIC[head[:4]]
        link = struct.unpack(order + "I", head[20:24])[0] & 0x0FFFFFFF
        if link not in LINK_HEADER:
            raise CorruptCapture(f"link type {link} is not one rtpengine writes", {"file": path.name})
        while record := stream.read(16):
            if len(record) < 16:
                raise CorruptCapture("the capture ends in a packet's header", {"file": path.name})
            seconds, fraction, captured, _ = struct.unpack(order + "IIII", record)
            if captured > MAX_PACKET:
                raise CorruptCapture(f"a packet of {captured} bytes", {"file": path.name})
            frame = _read(stream, captured, "a packet")
            stats.packets += 1
            found = _udp(frame, link, stats)
            if found is None:
                continue
            source, sport, dport, data = found
            packet = rtp(seconds + fraction * unit, (source, sport), dport, data)
            if packet is None:
                stats.skip("not rtp")
                continue
            if 72 <= packet.payload_type <= 76:  # RTCP sent on the RTP port (RFC 5761)
                stats.skip("rtcp")
                continue
            stats.rtp += 1
            yield packet


def first_arrival(path: Path) -> float | None:
    """When the capture's first RTP packet came (None: it holds none)."""
    return next((packet.at for packet in packets(path)), None)
