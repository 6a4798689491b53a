"""SDP (RFC 4566) for audio sessions, and the offer/answer rules Callisto needs (RFC 3264): codecs
(rtpmap, fmtp), ptime, telephone-event (RFC 4733), direction attributes and hold. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from callisto_sip.errors import ParseError

# RFC 3551 static payload types, which need no rtpmap
STATIC_PAYLOADS = {
    0: ("PCMU", 8000), 3: ("GSM", 8000), 4: ("G723", 8000), 5: ("DVI4", 8000), 6: ("DVI4", 16000),
    7: ("LPC", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000), 10: ("L16", 44100), 11: ("L16", 44100),
    12: ("QCELP", 8000), 13: ("CN", 8000), 14: ("MPA", 90000), 15: ("G728", 8000), 16: ("DVI4", 11025),
    17: ("DVI4", 22050), 18: ("G729", 8000), 25: ("CelB", 90000), 26: ("JPEG", 90000), 28: ("nv", 90000),
    31: ("H261", 90000), 32: ("MPV", 90000), 33: ("MP2T", 90000), 34: ("H263", 90000),
}  # fmt: skip
TELEPHONE_EVENT = "telephone-event"


class SdpError(ParseError):
    error_id = "bad-sdp"


class Direction(StrEnum):
    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    def answer(self) -> Direction:
        """The direction that answers this one (RFC 3264 6.1)."""
        return {Direction.SENDONLY: Direction.RECVONLY, Direction.RECVONLY: Direction.SENDONLY}.get(
            self, self
        )


@dataclass(frozen=True)
class Codec:
    payload_type: int
    name: str
    clock_rate: int
    channels: int | None = None
    fmtp: str | None = None

    def rtpmap(self) -> str:
        channels = f"/{self.channels}" if self.channels else ""
        return f"{self.payload_type} {self.name}/{self.clock_rate}{channels}"


@dataclass(frozen=True)
class Media:
    kind: str
    port: int
    protocol: str
    codecs: tuple[Codec, ...]
    direction: Direction = Direction.SENDRECV
    ptime: int | None = None
    connection: str | None = None
    attributes: tuple[str, ...] = ()

    @property
    def telephone_event(self) -> Codec | None:
        return next((c for c in self.codecs if c.name.lower() == TELEPHONE_EVENT), None)


@dataclass(frozen=True)
class SessionDescription:
    origin_user: str
    session_id: str
    session_version: int
    address: str
    media: tuple[Media, ...]
    name: str = "-"
    connection: str | None = None
    attributes: tuple[str, ...] = ()

    @property
    def audio(self) -> Media | None:
        return next((m for m in self.media if m.kind == "audio" and m.port != 0), None)

    def connection_address(self, media: Media) -> str | None:
        address = media.connection or self.connection
        return address.split()[-1] if address else None

    @property
    def on_hold(self) -> bool:
        """True when the audio stream is held (sendonly/inactive, or the old c=0.0.0.0 form)."""
        audio = self.audio
        if audio is None:
            return False
        return (
            audio.direction in (Direction.SENDONLY, Direction.INACTIVE)
            or self.connection_address(audio) == "0.0.0.0"
        )

    def __str__(self) -> str:
        lines = [
            "v=0",
            f"o={self.origin_user} {self.session_id} {self.session_version} IN IP4 {self.address}",
            f"s={self.name}",
        ]
        if self.connection:
            lines.append(f"c=IN IP4 {self.connection}")
        lines.append("t=0 0")
        lines += [f"a={a}" for a in self.attributes]
        for m in self.media:
            lines.append(
                f"m={m.kind} {m.port} {m.protocol} {' '.join(str(c.payload_type) for c in m.codecs)}"
            )
            if m.connection:
                lines.append(f"c=IN IP4 {m.connection}")
            for codec in m.codecs:
                lines.append(f"a=rtpmap:{codec.rtpmap()}")
                if codec.fmtp:
                    lines.append(f"a=fmtp:{codec.payload_type} {codec.fmtp}")
            if m.ptime:
                lines.append(f"a=ptime:{m.ptime}")
            lines += [f"a={a}" for a in m.attributes]
            lines.append(f"a={m.direction.value}")
        return "\r\n".join(lines) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode()


def parse_sdp(data: bytes | str) -> SessionDescription:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise SdpError("SDP must start with v=0", error_id="bad-sdp-version")
    origin: list[str] | None = None
    name = "-"
    session_connection: str | None = None
    session_attributes: list[str] = []
    media: list[_Draft] = []
    for line in lines[1:]:
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"malformed SDP line {line[:40]!r}", error_id="bad-sdp-line")
        kind, value = line[0], line[2:]
        current = media[-1] if media else None
        if kind == "o":
            origin = value.split()
            if len(origin) != 6:
                raise SdpError("o= needs six fields", error_id="bad-sdp-origin")
        elif kind == "s":
            name = value
        elif kind == "c":
            parts = value.split()
            if len(parts) != 3 or parts[0] != "IN":
                raise SdpError(f"bad c= line {value!r}", error_id="bad-sdp-connection")
            if current is None:
                session_connection = parts[2].split("/")[0]
            else:
                current.connection = parts[2].split("/")[0]
        elif kind == "m":
            parts = value.split()
            if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
                raise SdpError(f"bad m= line {value!r}", error_id="bad-sdp-media")
            port = int(parts[1].split("/")[0])
            if port > 65535 or not all(p.isdigit() and int(p) < 128 for p in parts[3:]):
                raise SdpError(f"bad m= line {value!r}", error_id="bad-sdp-media")
            media.append(_Draft(parts[0], port, parts[2], [int(p) for p in parts[3:]]))
        elif kind == "a":
            if current is None:
                session_attributes.append(value)
            else:
                current.attribute(value)
    if origin is None:
        raise SdpError("no o= line", error_id="bad-sdp-origin")
    session_direction = next(
        (Direction(a) for a in session_attributes if a in Direction.__members__.values()), Direction.SENDRECV
    )
    return SessionDescription(
        origin_user=origin[0],
        session_id=origin[1],
        session_version=int(origin[2]) if origin[2].isdigit() else 0,
        address=origin[5],
        media=tuple(m.build(session_direction) for m in media),
        name=name,
        connection=session_connection,
        attributes=tuple(a for a in session_attributes if a not in Direction.__members__.values()),
    )


@dataclass
class _Draft:
    """An m= section while its lines are read."""

    kind: str
    port: int
    protocol: str
    formats: list[int]
    rtpmap: dict[int, tuple[str, int, int | None]] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    attributes: list[str] = field(default_factory=list)
    connection: str | None = None
    direction: Direction | None = None
    ptime: int | None = None

    def attribute(self, value: str) -> None:
        name, _, rest = value.partition(":")
        if name == "rtpmap":
            pt, _, encoding = rest.partition(" ")
            parts = encoding.split("/")
            if not pt.isdigit() or len(parts) < 2 or not parts[1].isdigit():
                raise SdpError(f"bad rtpmap {rest!r}", error_id="bad-sdp-rtpmap")
            channels = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
            self.rtpmap[int(pt)] = (parts[0], int(parts[1]), channels)
        elif name == "fmtp":
            pt, _, params = rest.partition(" ")
            if pt.isdigit():
                self.fmtp[int(pt)] = params
        elif name == "ptime":
            if not rest.isdigit():
                raise SdpError(f"bad ptime {rest!r}", error_id="bad-sdp-ptime")
            self.ptime = int(rest)
        elif value in Direction.__members__.values():
            self.direction = Direction(value)
        else:
            self.attributes.append(value)

    def build(self, session_direction: Direction) -> Media:
        codecs: list[Codec] = []
        for pt in self.formats:
            if pt in self.rtpmap:
                name, rate, channels = self.rtpmap[pt]
            elif pt in STATIC_PAYLOADS:
                (name, rate), channels = STATIC_PAYLOADS[pt], None
            else:
                raise SdpError(f"payload type {pt} has no rtpmap", error_id="bad-sdp-rtpmap")
            codecs.append(Codec(pt, name, rate, channels, self.fmtp.get(pt)))
        return Media(
            self.kind,
            self.port,
            self.protocol,
            tuple(codecs),
            self.direction or session_direction,
            self.ptime,
            self.connection,
            tuple(self.attributes),
        )


class NoCommonCodec(SdpError):
    """The offer has no codec we accept: a UAS answers 488 Not Acceptable Here."""

    error_id = "no-common-codec"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=488)


@dataclass
class OfferAnswer:
    """What this side accepts, and how it answers an offer (RFC 3264)."""

    address: str
    codecs: list[Codec] = field(default_factory=lambda: [Codec(0, "PCMU", 8000), Codec(8, "PCMA", 8000)])
    telephone_event: bool = True
    ptime: int = 20
    user: str = "callisto"

    def offer(
        self,
        port: int,
        session_id: str,
        version: int = 1,
        direction: Direction = Direction.SENDRECV,
    ) -> SessionDescription:
        codecs = list(self.codecs)
        if self.telephone_event:
            codecs.append(Codec(101, TELEPHONE_EVENT, 8000, None, "0-16"))
        media = Media("audio", port, "RTP/AVP", tuple(codecs), direction, self.ptime)
        return SessionDescription(
            self.user, session_id, version, self.address, (media,), connection=self.address
        )

    def answer(
        self, offer: SessionDescription, port: int, session_id: str, version: int = 1
    ) -> SessionDescription:
        """Answer with the first offered codec we accept (the offerer's order wins), telephone-event
        if both sides have it, and the mirrored direction; other media streams are refused (port 0)."""
        answered: list[Media] = []
        chosen_any = False
        for media in offer.media:
            if media.kind != "audio" or media.port == 0 or chosen_any:
                answered.append(replace(media, port=0, attributes=()))
                continue
            chosen = next((c for c in media.codecs if self._accepts(c)), None)
            if chosen is None:
                answered.append(replace(media, port=0, attributes=()))
                continue
            codecs = [chosen]
            event = media.telephone_event
            if self.telephone_event and event is not None:
                codecs.append(event)
            answered.append(
                Media(
                    "audio",
                    port,
                    media.protocol,
                    tuple(codecs),
                    media.direction.answer(),
                    media.ptime or self.ptime,
                )
            )
            chosen_any = True
        if not chosen_any:
            raise NoCommonCodec("no audio codec of the offer is acceptable")
        return SessionDescription(
            self.user, session_id, version, self.address, tuple(answered), connection=self.address
        )

    def _accepts(self, codec: Codec) -> bool:
        return any(
            c.name.lower() == codec.name.lower() and c.clock_rate == codec.clock_rate for c in self.codecs
        )


def hold(description: SessionDescription) -> SessionDescription:
    """The same session, held: sendonly where it was sendrecv (inactive where it was recvonly)."""
    held = tuple(
        replace(m, direction=Direction.INACTIVE if m.direction is Direction.RECVONLY else Direction.SENDONLY)
        if m.port
        else m
        for m in description.media
    )
    return replace(description, media=held, session_version=description.session_version + 1)


def resume(description: SessionDescription) -> SessionDescription:
    resumed = tuple(replace(m, direction=Direction.SENDRECV) if m.port else m for m in description.media)
    return replace(description, media=resumed, session_version=description.session_version + 1)
