"""Who is calling: helpdesk's caller lookup over the bus, for the IVR's ``lookup`` step. Helpdesk
away or slow means "unknown": the call goes on without it."""

from __future__ import annotations

import logging

from callisto_protocol.contacts import ContactCard, ContactMatch, LookupContact
from callisto_runtime import Bus, CallistoError

log = logging.getLogger(__name__)


class CallerLookup:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def __call__(self, caller: str, timeout_s: float) -> ContactCard | None:
        if not caller or caller == "anonymous":
            return None
        try:
            match = await self.bus.call(LookupContact(number=caller[:64]), ContactMatch, timeout=timeout_s)
        except CallistoError as exc:
            log.info("caller lookup of %s failed (%s): going on without it", caller, exc.error_id)
            return None
        return match.contact
