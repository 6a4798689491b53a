"""The converter on captures made of known tones (no servers: pcap files as rtpengine writes them):
the customer's leg always on the left and the agent's on the right, however the packets are ordered;
a pause between segments is silence at the right place; a codec it does not decode is named; a
broken capture is refused with the reason; talk, silence and overtalk are measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from recording_testing import RATE, loudest_hz, rtp_packets, tone, write_pcap

from callisto_recording.converter import Segment, convert
from callisto_recording.encode import blocks_of
from callisto_recording.errors import CorruptCapture, UnsupportedCodec

START = 1_790_000_000.0
CUSTOMER_PORT, AGENT_PORT = 30000, 30002


def played(path: Path) -> np.ndarray:
    return np.concatenate(list(blocks_of(path)))


def test_the_customer_is_left_and_the_agent_right_whatever_the_packet_order(tmp_path: Path) -> None:
    customer = rtp_packets(tone(440, 4), START + 0.5, 40000, CUSTOMER_PORT, ssrc=1)
    agent = rtp_packets(tone(1000, 4), START, 40002, AGENT_PORT, ssrc=2)
    # the agent's packets first in the file, then the customer's: order says nothing of the leg
    pcap = write_pcap(
        tmp_path / "call.pcap", sorted(agent + customer, key=lambda p: (p[2] != AGENT_PORT, p[0]))
    )
    converted = convert([Segment(pcap, CUSTOMER_PORT, AGENT_PORT)], tmp_path / "call.ogg")
    assert converted.duration_s == pytest.approx(4.5, abs=0.05)
    assert converted.decoded_s == pytest.approx(converted.duration_s, rel=0.01)
    audio = played(tmp_path / "call.ogg")
    middle = audio[2 * RATE : 3 * RATE]
    assert loudest_hz(middle[:, 0]) == pytest.approx(440, abs=10)
    assert loudest_hz(middle[:, 1]) == pytest.approx(1000, abs=10)
    assert loudest_hz(audio[: int(0.4 * RATE), 0]) == 0  # the customer's leg starts half a second in
    assert converted.ratios["overtalk"] == pytest.approx(3.5 / 4.5, abs=0.02)  # both talk from 0.5 s to 4 s
    assert converted.ratios["silence"] < 0.02


def test_a_pause_between_segments_is_silence_where_it_was(tmp_path: Path) -> None:
    first = rtp_packets(tone(440, 2), START, 40000, CUSTOMER_PORT, ssrc=1)
    first += rtp_packets(tone(1000, 2), START, 40002, AGENT_PORT, ssrc=2)
    before = write_pcap(tmp_path / "one.pcap", first)
    second = rtp_packets(
        tone(440, 2), START + 5, 40000, CUSTOMER_PORT, ssrc=1, first_timestamp=1000 + 5 * RATE
    )
    second += rtp_packets(tone(1000, 2), START + 5, 40002, AGENT_PORT, ssrc=2)
    after = write_pcap(tmp_path / "two.pcap", second)
    segments = [Segment(before, CUSTOMER_PORT, AGENT_PORT), Segment(after, CUSTOMER_PORT, AGENT_PORT)]
    converted = convert(segments, tmp_path / "call.ogg")
    assert converted.duration_s == pytest.approx(7, abs=0.05)  # the three paused seconds kept
    assert converted.spans == [(0.0, 2.0), (5.0, 7.0)]
    audio = played(tmp_path / "call.ogg")
    assert loudest_hz(audio[3 * RATE : 4 * RATE, 0]) == 0 and loudest_hz(audio[3 * RATE : 4 * RATE, 1]) == 0
    assert loudest_hz(audio[int(5.5 * RATE) : int(6.5 * RATE), 0]) == pytest.approx(440, abs=10)
    assert converted.ratios["silence"] == pytest.approx(3 / 7, abs=0.03)


def test_another_codec_is_named_and_a_broken_capture_refused(tmp_path: Path) -> None:
    g729 = write_pcap(tmp_path / "g729.pcap", rtp_packets(tone(440, 1), START, 40000, CUSTOMER_PORT, ssrc=1,
                                                          payload_type=18))  # fmt: skip
    with pytest.raises(UnsupportedCodec, match="G729"):
        convert([Segment(g729, CUSTOMER_PORT, AGENT_PORT)], tmp_path / "out.ogg")
    whole = write_pcap(
        tmp_path / "whole.pcap", rtp_packets(tone(440, 1), START, 40000, CUSTOMER_PORT, ssrc=1)
    )
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole.read_bytes()[:-50])
    with pytest.raises(CorruptCapture, match="ends in the middle"):
        convert([Segment(cut, CUSTOMER_PORT, AGENT_PORT)], tmp_path / "out.ogg")
    text = tmp_path / "text.pcap"
    text.write_text("not a capture")
    with pytest.raises(CorruptCapture, match="not a pcap"):
        convert([Segment(text, CUSTOMER_PORT, AGENT_PORT)], tmp_path / "out.ogg")
