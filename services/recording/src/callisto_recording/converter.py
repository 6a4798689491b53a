"""A call's capture (one pcap per recorded segment) to one stereo file: the customer's leg left,
the agent's right, assigned by the rtpengine port each leg sends to (what call-manager said when it
started the segment), never by packet order. Streaming: a four-hour call holds a few seconds of
audio at a time. Runs in a worker process (``convert`` is a plain function)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from callisto_recording.encode import OPUS_COMPLEXITY, Format, encode_all, verify
from callisto_recording.errors import CorruptCapture, UnsupportedCodec
from callisto_recording.g711 import CODEC_NAMES, PCMA, PCMU, decode
from callisto_recording.mixdown import AGENT, CUSTOMER, Mixdown, Stereo
from callisto_recording.pcap import ReadStats, first_arrival, packets

TELEPHONE_EVENT_TYPES = range(96, 128)  # dynamic types: DTMF events and comfort noise, not speech
COMFORT_NOISE = 13


@dataclass(frozen=True)
class Segment:
    """One pcap and the rtpengine ports the customer's and the agent's legs sent to meanwhile."""

    pcap: Path
    customer_port: int
    agent_port: int


@dataclass
class Converted:
    duration_s: float
    decoded_s: float
    ratios: dict[str, float]
    packets: int
    skipped: dict[str, int] = field(default_factory=dict)
    late_samples: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)  # recorded stretches, s from the start


def _first_arrival(segments: Sequence[Segment]) -> float:
    for segment in segments:
        if (at := first_arrival(segment.pcap)) is not None:
            return at
    raise CorruptCapture("no RTP in the capture", {"files": [s.pcap.name for s in segments]})


def _blocks(
    segments: Sequence[Segment], mix: Mixdown, stats: ReadStats, spans: list[tuple[float, float]]
) -> Iterator[Stereo]:
    for segment in segments:
        channels = {segment.customer_port: CUSTOMER, segment.agent_port: AGENT}
        first = last = None
        for packet in packets(segment.pcap, stats):
            first = packet.at if first is None else first
            last = packet.at + 0.02
            channel = channels.get(packet.destination_port)
            if channel is None:
                stats.skip("another leg")
                continue
            if packet.payload_type in (PCMU, PCMA):
                mix.place(
                    channel,
                    packet.ssrc,
                    packet.at,
                    packet.timestamp,
                    decode(packet.payload_type, packet.payload),
                )
            elif packet.payload_type == COMFORT_NOISE or packet.payload_type in TELEPHONE_EVENT_TYPES:
                stats.skip("not speech")
            else:
                name = CODEC_NAMES.get(packet.payload_type, f"payload type {packet.payload_type}")
                who = "customer" if channel == CUSTOMER else "agent"
                raise UnsupportedCodec(
                    f"the {who}'s audio is {name}: only G.711 (PCMU, PCMA) is converted",
                    {"payload_type": packet.payload_type, "file": segment.pcap.name},
                )
            yield from mix.ready(packet.at)
        if first is not None and last is not None:
            spans.append((round(first - mix.start_at, 2), round(last - mix.start_at, 2)))
    yield from mix.rest()


def convert(
    segments: Sequence[Segment], out: Path, format: Format = "opus", complexity: int = OPUS_COMPLEXITY
) -> Converted:
    """Write the call's stereo file to ``out`` and check it decodes back to the call's length."""
    mix = Mixdown(_first_arrival(segments))
    stats = ReadStats()
    spans: list[tuple[float, float]] = []
    samples = encode_all(_blocks(segments, mix, stats, spans), out, format, complexity=complexity)
    decoded = verify(out, samples / 8000)
    return Converted(
        duration_s=round(mix.duration_s, 3), decoded_s=round(decoded, 3), ratios=mix.talk.ratios(),
        packets=stats.rtp, skipped=stats.skipped, late_samples=mix.late_samples, spans=spans,
    )  # fmt: skip
