"""The archive: an uncompressed tar whose first member is the manifest, then one file per part
(the parts are compressed already: pg_dump's custom format, JetStream's s2 snapshots).

Written to ``<file>.partial`` and renamed when complete, so a file named as asked is always whole.
Reading checks, before anything is restored, that the manifest is a Callisto backup of a version this
code reads and that every part is present with the size and SHA-256 the manifest gives."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

from pydantic import ValidationError

from callisto_backup.errors import ArchiveCorrupt
from callisto_backup.manifest import FORMAT, MANIFEST, VERSION, Manifest

BLOCK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def write(folder: Path, manifest: Manifest, target: Path) -> None:
    """``manifest`` first, then each part's file from ``folder``; fsynced, then renamed into place."""
    partial = target.with_name(target.name + ".partial")
    body = manifest.model_dump_json(indent=1).encode()
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mtime = int(manifest.created_at.timestamp())
        tar.addfile(info, io.BytesIO(body))
        for part in manifest.parts:
            tar.add(folder / part.file, arcname=part.file, recursive=False)
    with partial.open("rb") as f:
        os.fsync(f.fileno())
    partial.replace(target)


def read_manifest(source: Path) -> Manifest:
    try:
        with tarfile.open(source, "r:") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise ArchiveCorrupt(f"{source} does not begin with a Callisto backup manifest")
            extracted = tar.extractfile(first)
            assert extracted is not None
            raw = extracted.read()
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveCorrupt(f"{source} is not a readable backup archive: {exc}") from exc
    try:
        manifest = Manifest.model_validate_json(raw)
    except ValidationError as exc:
        raise ArchiveCorrupt(f"{source}: the manifest is not a {FORMAT} manifest of version {VERSION}: "
                             f"{exc.errors()[0]['msg']}") from exc  # fmt: skip
    if manifest.version > VERSION:
        raise ArchiveCorrupt(f"{source} is version {manifest.version}; this Callisto reads up to {VERSION}")
    return manifest


def extract(source: Path, into: Path) -> Manifest:
    """Unpack every part into ``into`` and check it against the manifest; nothing else is touched."""
    manifest = read_manifest(source)
    expected = {part.file: part for part in manifest.parts}
    try:
        with tarfile.open(source, "r:") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in expected or not member.isfile():
                    raise ArchiveCorrupt(f"{source} holds {member.name!r}, which its manifest does not name")
                tar.extract(member, into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveCorrupt(f"{source} cannot be read to its end: {exc}") from exc
    for name, part in expected.items():
        path = into / name
        if not path.is_file():
            raise ArchiveCorrupt(f"{source} lacks the part {part.name} ({name})")
        if path.stat().st_size != part.bytes or sha256_of(path) != part.sha256:
            raise ArchiveCorrupt(f"{source}: the part {part.name} does not match its checksum")
    return manifest
