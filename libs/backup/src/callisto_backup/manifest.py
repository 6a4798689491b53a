"""The manifest at the head of a backup archive: what each part is, its size, checksum and counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

FORMAT: Literal["callisto-backup"] = "callisto-backup"
VERSION = 1
MANIFEST = "manifest.json"


class Part(BaseModel):
    name: str = Field(description="postgres, stream/<name>, redis")
    kind: Literal["postgres", "stream", "redis"]
    file: str = Field(description="its path in the archive")
    bytes: int
    sha256: str
    counts: dict[str, int] = Field(description="rows by table, messages and keys, keys by prefix")
    meta: dict[str, Any] = Field(default_factory=dict, description="a stream's configuration and state")


class Manifest(BaseModel):
    format: Literal["callisto-backup"] = FORMAT
    version: int = VERSION
    created_at: datetime
    software: str = Field(description="the Callisto version that wrote it")
    servers: dict[str, str] = Field(description="versions of the servers read (PostgreSQL, NATS, Redis)")
    parts: list[Part]
    left_out: dict[str, str] = Field(default_factory=dict, description="what is not in it, and why")

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)
