"""SDP parsing and the offer/answer rules for audio."""

from __future__ import annotations

import pytest

from callisto_sip.sdp import Codec, Direction, NoCommonCodec, OfferAnswer, SdpError, hold, parse_sdp, resume

pytestmark = pytest.mark.unit
OFFER = (
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    b"m=audio 49170 RTP/AVP 18 8 0 101\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
    b"m=video 51372 RTP/AVP 31\r\n"
)


def test_parse_offer() -> None:
    sdp = parse_sdp(OFFER)
    audio = sdp.audio
    assert audio is not None
    assert [(c.payload_type, c.name, c.clock_rate) for c in audio.codecs] == [
        (18, "G729", 8000),
        (8, "PCMA", 8000),
        (0, "PCMU", 8000),
        (101, "telephone-event", 8000),
    ]
    assert audio.codecs[0].fmtp == "annexb=no"
    assert (audio.ptime, audio.direction, audio.port) == (20, Direction.SENDRECV, 49170)
    assert audio.telephone_event is not None
    assert sdp.connection_address(audio) == "192.0.2.10"
    assert parse_sdp(bytes(sdp)) == sdp


def test_answer_picks_the_offerers_first_acceptable_codec_and_refuses_video() -> None:
    us = OfferAnswer("198.51.100.7")
    answer = us.answer(parse_sdp(OFFER), 30000, "77")
    audio, video = answer.media
    assert [c.name for c in audio.codecs] == ["PCMA", "telephone-event"]
    assert (audio.port, audio.direction, video.port) == (30000, Direction.SENDRECV, 0)
    assert answer.connection == "198.51.100.7"


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        (Direction.SENDRECV, Direction.SENDRECV),
        (Direction.SENDONLY, Direction.RECVONLY),
        (Direction.RECVONLY, Direction.SENDONLY),
        (Direction.INACTIVE, Direction.INACTIVE),
    ],
)
def test_direction_is_mirrored(offered: Direction, answered: Direction) -> None:
    offer = OfferAnswer("192.0.2.1").offer(4000, "1", direction=offered)
    assert OfferAnswer("192.0.2.2").answer(offer, 5000, "2").media[0].direction is answered


def test_hold_and_resume() -> None:
    offer = OfferAnswer("192.0.2.1").offer(4000, "1")
    held = hold(offer)
    assert held.on_hold and held.session_version == 2
    assert not resume(held).on_hold
    old_style = parse_sdp(OFFER.replace(b"c=IN IP4 192.0.2.10", b"c=IN IP4 0.0.0.0"))
    assert old_style.on_hold


def test_no_common_codec_is_488() -> None:
    only_g729 = OfferAnswer("192.0.2.1", codecs=[Codec(18, "G729", 8000)]).offer(4000, "1")
    with pytest.raises(NoCommonCodec) as caught:
        OfferAnswer("192.0.2.2").answer(only_g729, 5000, "2")
    assert caught.value.status == 488


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"v=1\r\n",
        b"v=0\r\nm=audio x RTP/AVP 0\r\n",
        b"v=0\r\ngarbage\r\n",
        b"v=0\r\no=a 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP 96\r\n",
        b"v=0\r\no=a 1 1 IN IP4 h\r\nm=audio 99999 RTP/AVP 0\r\n",
    ],
)
def test_malformed_sdp(bad: bytes) -> None:
    with pytest.raises(SdpError):
        parse_sdp(bad)
