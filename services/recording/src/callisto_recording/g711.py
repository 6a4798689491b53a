"""G.711 µ-law and A-law decoded to 16-bit linear PCM through 256-entry tables (numpy; the stdlib's
audioop is gone in Python 3.13)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PCMU, PCMA = 0, 8
CODEC_NAMES = {0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 18: "G729"}


def _ulaw(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return -(magnitude - 0x84) if sign else magnitude - 0x84


def _alaw(byte: int) -> int:
    byte ^= 0x55
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if sign else -magnitude


TABLES: dict[int, npt.NDArray[np.int16]] = {
    PCMU: np.array([_ulaw(b) for b in range(256)], dtype=np.int16),
    PCMA: np.array([_alaw(b) for b in range(256)], dtype=np.int16),
}


def decode(payload_type: int, payload: bytes) -> npt.NDArray[np.int16]:
    return TABLES[payload_type][np.frombuffer(payload, dtype=np.uint8)]


def encode_ulaw(samples: npt.NDArray[np.int16]) -> bytes:
    """Linear PCM to µ-law (for tests and tones sent as RTP): the nearest table entry."""
    order = np.argsort(TABLES[PCMU])
    ordered = TABLES[PCMU][order].astype(np.int32)
    wanted = samples.astype(np.int32)
    index = np.clip(np.searchsorted(ordered, wanted), 0, 255)
    below = np.clip(index - 1, 0, 255)
    nearer = np.where(np.abs(ordered[below] - wanted) < np.abs(ordered[index] - wanted), below, index)
    return bytes(order[nearer].astype(np.uint8))
