"""Encryption at rest: a recording sealed with AES-256-GCM in chunks, so a range of it is read
without the rest.

Each recording has its own data key; the data key is wrapped (AES-256-GCM) by a master key and kept
in the recording's row with the master key's id. Rotating the master key rewraps data keys only:
the audio is never encrypted again. The sealed file:

    header   b"CLSTREC1", salt (8 bytes), plain size (8 bytes, big-endian)
    chunks   CHUNK bytes of audio each (the last shorter), each followed by its 16-byte tag

Chunk ``i`` is sealed with the nonce ``salt + i`` (4 bytes, big-endian) and, as associated data,
``i`` and whether it is the last: chunks cannot be reordered, dropped or the file cut short unseen."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callisto_recording.errors import SealBroken

MAGIC = b"CLSTREC1"
HEADER = len(MAGIC) + 8 + 8
CHUNK = 64 * 1024
TAG = 16
SEALED_CHUNK = CHUNK + TAG


@dataclass(frozen=True)
class DataKey:
    key: bytes
    key_id: str  # the master key that wrapped it
    wrapped: bytes


class MasterKeys:
    """Master keys by id (32 bytes each); ``current`` wraps new data keys, any unwraps."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current master key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"master key {key_id!r} is not 32 bytes")
        self.keys = dict(keys)
        self.current = current

    def new_data_key(self) -> DataKey:
        key = AESGCM.generate_key(bit_length=256)
        return DataKey(key, self.current, self._wrap(self.current, key))

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.keys[key_id]).encrypt(nonce, key, key_id.encode())

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        master = self.keys.get(key_id)
        if master is None:
            raise SealBroken(f"master key {key_id!r} is not configured", {"key_id": key_id})
        try:
            return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], key_id.encode())
        except Exception as exc:
            raise SealBroken(f"a data key does not unwrap with master key {key_id!r}", {}) from exc

    def rewrap(self, key_id: str, wrapped: bytes) -> DataKey:
        """The same data key wrapped by the current master key."""
        key = self.unwrap(key_id, wrapped)
        return DataKey(key, self.current, self._wrap(self.current, key))


def _nonce(salt: bytes, index: int) -> bytes:
    return salt + struct.pack(">I", index)


def _aad(index: int, last: bool) -> bytes:
    return struct.pack(">I?", index, last)


def chunks_of(size: int) -> int:
    """How many chunks ``size`` bytes of audio are sealed in (an empty file: one, empty)."""
    return max(1, -(-size // CHUNK))


def seal(source: Path, target: Path, key: bytes) -> int:
    """Write ``source`` sealed to ``target`` (fsynced); the sealed size."""
    size = source.stat().st_size
    salt = os.urandom(8)
    cipher = AESGCM(key)
    chunks = chunks_of(size)
    with source.open("rb") as reader, target.open("wb") as writer:
        writer.write(MAGIC + salt + struct.pack(">Q", size))
        for index in range(chunks):
            plain = reader.read(CHUNK)
            writer.write(cipher.encrypt(_nonce(salt, index), plain, _aad(index, index == chunks - 1)))
        writer.flush()
        os.fsync(writer.fileno())
    return target.stat().st_size


@dataclass(frozen=True)
class Header:
    salt: bytes
    size: int  # of the audio

    @classmethod
    def parse(cls, raw: bytes) -> Header:
        if len(raw) < HEADER or raw[: len(MAGIC)] != MAGIC:
            raise SealBroken("not a sealed recording", {})
        return cls(raw[len(MAGIC) : len(MAGIC) + 8], struct.unpack(">Q", raw[len(MAGIC) + 8 : HEADER])[0])

    @property
    def chunks(self) -> int:
        return chunks_of(self.size)

    def open_chunk(self, cipher: AESGCM, index: int, sealed: bytes) -> bytes:
        """Chunk ``index``'s audio; SealBroken when it was changed, moved or cut off."""
        try:
            return cipher.decrypt(_nonce(self.salt, index), sealed, _aad(index, index == self.chunks - 1))
        except Exception as exc:
            raise SealBroken(f"chunk {index} of a sealed recording does not open", {"chunk": index}) from exc


def sealed_span(header: Header, start: int, end: int) -> tuple[int, int, int]:
    """For audio bytes [start, end): the first chunk and the sealed bytes [from, to) holding them."""
    first, last = start // CHUNK, (end - 1) // CHUNK
    until = min(HEADER + (last + 1) * SEALED_CHUNK, HEADER + header.size + header.chunks * TAG)
    return first, HEADER + first * SEALED_CHUNK, until


def opened(header: Header, key: bytes, first: int, sealed: bytes, start: int, end: int) -> Iterator[bytes]:
    """The audio bytes [start, end) out of the sealed chunks from ``first`` on."""
    cipher = AESGCM(key)
    for n, at in enumerate(range(0, len(sealed), SEALED_CHUNK)):
        index = first + n
        plain = header.open_chunk(cipher, index, sealed[at : at + SEALED_CHUNK])
        offset = index * CHUNK
        piece = plain[max(0, start - offset) : max(0, end - offset)]
        if piece:
            yield piece


def unseal(source: Path, target: Path, key: bytes) -> None:
    """The whole audio of a sealed file, to ``target``."""
    with source.open("rb") as reader, target.open("wb") as writer:
        header = Header.parse(reader.read(HEADER))
        cipher = AESGCM(key)
        for index in range(header.chunks):
            writer.write(header.open_chunk(cipher, index, reader.read(SEALED_CHUNK)))
