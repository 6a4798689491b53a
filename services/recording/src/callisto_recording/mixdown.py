"""Two legs laid side by side in time: the customer on the left channel, the agent on the right.

Each leg's samples are placed where their RTP timestamps put them, anchored at the arrival of the
stream's first packet (a new SSRC, or a timestamp that jumps away from the arrival time by more
than a second, is anchored again), so a pause, a lost packet or a late leg is silence at the right
place and times in the file match the call. Blocks of one second leave in order once the arrivals
have moved LAG seconds past them: memory stays bounded whatever the call's length. On the way,
20-ms frames are counted as talk or silence per channel and as overtalk when both talk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

RATE = 8000
BLOCK = RATE  # one second
LAG_S = 3.0
FRAME = 160  # 20 ms
TALK_RMS = 300.0  # about -40 dBFS
CUSTOMER, AGENT = 0, 1
Stereo = npt.NDArray[np.int16]  # (samples, 2)


@dataclass
class Anchor:
    position: int  # sample at which the stream's anchor timestamp plays
    timestamp: int


@dataclass
class Talk:
    """Frames of 20 ms per channel: talk, silence; both talking at once."""

    frames: int = 0
    talk: list[int] = field(default_factory=lambda: [0, 0])
    overtalk: int = 0

    def count(self, block: Stereo) -> None:
        whole = len(block) // FRAME * FRAME
        frames = block[:whole].astype(np.float32).reshape(-1, FRAME, 2)
        loud = np.sqrt((frames**2).mean(axis=1)) > TALK_RMS  # (frames, 2)
        self.frames += len(loud)
        self.talk[0] += int(loud[:, 0].sum())
        self.talk[1] += int(loud[:, 1].sum())
        self.overtalk += int((loud[:, 0] & loud[:, 1]).sum())

    def ratios(self) -> dict[str, float]:
        if not self.frames:
            return {"customer_talk": 0.0, "agent_talk": 0.0, "silence": 1.0, "overtalk": 0.0}
        either = self.talk[0] + self.talk[1] - self.overtalk
        return {
            "customer_talk": round(self.talk[0] / self.frames, 4),
            "agent_talk": round(self.talk[1] / self.frames, 4),
            "silence": round(1 - either / self.frames, 4),
            "overtalk": round(self.overtalk / self.frames, 4),
        }


class Mixdown:
    def __init__(self, start_at: float) -> None:
        self.start_at = start_at
        self.blocks: dict[int, Stereo] = {}
        self.emitted = 0  # the next block to leave
        self.anchors: dict[tuple[int, int], Anchor] = {}
        self.end = 0  # one past the last sample placed
        self.talk = Talk()
        self.late_samples = 0  # arrived after their second had left (dropped, counted)

    def place(
        self, channel: int, ssrc: int, at: float, timestamp: int, samples: npt.NDArray[np.int16]
    ) -> None:
        arrival = round((at - self.start_at) * RATE)
        anchor = self.anchors.get((channel, ssrc))
        if anchor is not None:
            delta = (timestamp - anchor.timestamp) & 0xFFFFFFFF
            delta = delta - (1 << 32) if delta >= 1 << 31 else delta
            position = anchor.position + delta
            if abs(position - arrival) > RATE:  # the stream's clock jumped: anchor again
                anchor = None
        if anchor is None:
            anchor = self.anchors[(channel, ssrc)] = Anchor(max(0, arrival), timestamp)
            position = anchor.position
        self._write(channel, position, samples)

    def _write(self, channel: int, position: int, samples: npt.NDArray[np.int16]) -> None:
        offset = 0
        while offset < len(samples):
            at = position + offset
            index, within = divmod(at, BLOCK)
            take = min(len(samples) - offset, BLOCK - within)
            if index < self.emitted:
                self.late_samples += take
            else:
                block = self.blocks.get(index)
                if block is None:
                    block = self.blocks[index] = np.zeros((BLOCK, 2), dtype=np.int16)
                block[within : within + take, channel] = samples[offset : offset + take]
                self.end = max(self.end, at + take)
            offset += take

    def ready(self, now: float) -> Iterator[Stereo]:
        """Blocks the arrivals have left LAG_S behind, in order (silence where nothing came)."""
        yield from self._emit(int(((now - self.start_at) - LAG_S) * RATE) // BLOCK)

    def rest(self) -> Iterator[Stereo]:
        """Every block still held, the last one cut at the last sample placed."""
        yield from self._emit(-(-self.end // BLOCK), cut=self.end)

    def _emit(self, until: int, cut: int | None = None) -> Iterator[Stereo]:
        while self.emitted < until:
            block = self.blocks.pop(self.emitted, None)
            if block is None:
                block = np.zeros((BLOCK, 2), dtype=np.int16)
            if cut is not None and cut - self.emitted * BLOCK < BLOCK:
                block = block[: cut - self.emitted * BLOCK]
            self.emitted += 1
            self.talk.count(block)
            yield block

    @property
    def duration_s(self) -> float:
        return self.end / RATE
