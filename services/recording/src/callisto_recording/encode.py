"""Stereo PCM to a file and back: Opus in Ogg for storage, WAV and MP3 rendered on request (PyAV:
FFmpeg's libopus and LAME). A stored file is decoded back before its capture may go: its length
must be the call's within 1 %.

Opus codes the two channels as independent mono streams (channel mapping family 255, 8 kbit/s
each, about 7 MB an hour): a coupled stereo stream at 16 kbit/s folds the agent's voice into the
customer's channel (measured with two tones), and at a rate that keeps them apart it is 10 MB an
hour."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import av
import numpy as np
import numpy.typing as npt

from callisto_recording.errors import ConversionFailed
from callisto_recording.mixdown import RATE, Stereo

Format = Literal["opus", "wav", "mp3"]
# libopus's complexity (0-10) for recordings: measured on conversation-like audio at 8 kbit/s a
# channel, 1 encodes 3.2 times as fast as 10 with a log-spectral distance 0.3 dB worse (7.9 against
# 7.6 dB); frames of 60 ms (a recording needs no low delay) cost less and weigh about 12 % less
OPUS_COMPLEXITY = 1
OPUS_FRAME_MS = 60
Channels = Literal["stereo", "mono"]
CODEC: dict[Format, tuple[str, str, int | None]] = {  # container, codec, bit rate
    "opus": ("ogg", "libopus", 16_000),
    "wav": ("wav", "pcm_s16le", None),
    "mp3": ("mp3", "libmp3lame", 32_000),
}
MEDIA_TYPE: dict[Format, str] = {"opus": "audio/ogg", "wav": "audio/wav", "mp3": "audio/mpeg"}


def mixed(block: Stereo) -> npt.NDArray[np.int16]:
    """Both parties in one channel (summed: they seldom talk at once; clipped when they do)."""
    both: npt.NDArray[np.int16] = np.clip(block[:, 0].astype(np.int32) + block[:, 1], -32768, 32767).astype(
        np.int16
    )
    return both


class Encoder:
    """Blocks of stereo samples into ``path`` (written whole, then fsynced on close), as they are or
    mixed into one channel."""

    def __init__(
        self,
        path: Path,
        format: Format = "opus",
        channels: Channels = "stereo",
        complexity: int = OPUS_COMPLEXITY,
    ) -> None:
        container, codec, bit_rate = CODEC[format]
        self.path = path
        self.channels = channels
        self.out = av.open(str(path), "w", format=container)
        self.stream: av.AudioStream = self.out.add_stream(codec, rate=RATE, layout=channels)  # type: ignore[assignment]
        if bit_rate:
            self.stream.bit_rate = bit_rate if channels == "stereo" else bit_rate // 2
        if codec == "libopus":
            family = {"mapping_family": "255"} if channels == "stereo" else {}
            self.stream.options = {
                "application": "voip", "compression_level": str(complexity),
                "frame_duration": str(OPUS_FRAME_MS), **family,
            }  # fmt: skip
        self.samples = 0

    def write(self, block: Stereo) -> None:
        if len(block) == 0:
            return
        samples = np.ascontiguousarray(block if self.channels == "stereo" else mixed(block))
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout=self.channels)
        frame.sample_rate = RATE
        frame.pts = self.samples
        self.samples += len(block)
        for packet in self.stream.encode(frame):
            self.out.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.out.mux(packet)
        self.out.close()
        with self.path.open("rb") as written:
            os.fsync(written.fileno())


def encode_all(
    blocks: Iterable[Stereo], path: Path, format: Format = "opus", channels: Channels = "stereo",
    complexity: int = OPUS_COMPLEXITY,
) -> int:  # fmt: skip
    """Every block into ``path``; on any failure no file is left behind."""
    encoder = Encoder(path, format, channels, complexity)
    try:
        for block in blocks:
            encoder.write(block)
        encoder.close()
    except BaseException:
        encoder.out.close()
        path.unlink(missing_ok=True)
        raise
    return encoder.samples


def decoded_seconds(path: Path) -> float:
    """How long the file plays, decoded to the last frame."""
    with av.open(str(path)) as media:
        stream = media.streams.audio[0]
        samples = sum(frame.samples for frame in media.decode(stream))
        return samples / stream.rate if stream.rate else 0.0


def verify(path: Path, expected_s: float) -> float:
    """The file decodes back to ``expected_s`` within 1 % (and 0.1 s for a short call)."""
    seconds = decoded_seconds(path)
    if abs(seconds - expected_s) > max(0.01 * expected_s, 0.1):
        raise ConversionFailed(
            f"{path.name} plays {seconds:.2f} s, the call {expected_s:.2f} s",
            {"file": path.name, "decoded_s": seconds, "expected_s": expected_s},
        )
    return seconds


def blocks_of(path: Path) -> Iterable[Stereo]:
    """A stored file's samples back as stereo blocks at 8 kHz (to render another format)."""
    with av.open(str(path)) as media:
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
        for frame in media.decode(audio=0):
            for out in resampler.resample(frame):
                yield out.to_ndarray().astype(np.int16).reshape(-1, 2)
        for out in resampler.resample(None):
            yield out.to_ndarray().astype(np.int16).reshape(-1, 2)
