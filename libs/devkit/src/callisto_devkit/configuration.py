"""Writing a configuration document's next version straight into the store (``cc_config``), the way
core-bus's writer does once the owner validated it: tests use it to change a document under a running
service, or to write one past the validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import nats

from callisto_protocol.configuration import CONFIG_BUCKET, ConfigVersion


async def write_version(nats_url: str, document: str, body: dict[str, Any], comment: str) -> int:
    """Write ``body`` as the next version of ``document`` (which must exist) and return its version."""
    nc = await nats.connect(nats_url)
    try:
        kv = await nc.jetstream().key_value(CONFIG_BUCKET)
        current = await kv.get(document)
        value = ConfigVersion(body=body, by="u-admin", at=datetime.now(UTC), comment=comment)
        return int(await kv.update(document, value.model_dump_json().encode(), last=current.revision))
    finally:
        await nc.close()


async def read_version(nats_url: str, document: str) -> tuple[ConfigVersion, int]:
    """The newest version of ``document`` and its number."""
    nc = await nats.connect(nats_url)
    try:
        entry = await (await nc.jetstream().key_value(CONFIG_BUCKET)).get(document)
        assert entry.value is not None
        return ConfigVersion.model_validate_json(entry.value), int(entry.revision or 0)
    finally:
        await nc.close()


def document_figure(metrics: str, document: str, name: str = "callisto_config_version") -> float:
    """A service's own figure for one document in its ``/metrics`` text: the version it applied
    (``callisto_config_version``) or how many it refused (``callisto_config_refused_total``)."""
    prefix = f'{name}{{document="{document}"}} '
    return next((float(x.split()[-1]) for x in metrics.splitlines() if x.startswith(prefix)), 0.0)
