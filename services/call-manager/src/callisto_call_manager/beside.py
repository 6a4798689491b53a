"""Sessions beside a call (a supervisor listening or whispering, an agent consulting a colleague):
each is a SIP session of its own to a phone, carrying an rtpengine call or subscription that is not
the customer's."""

from __future__ import annotations

import asyncio
import logging

from callisto_call_manager.bindings import Binding
from callisto_call_manager.errors import CallManagerError
from callisto_sip.errors import SipError
from callisto_sip.ua import CallFailed, Dialog, DialogState, UserAgent

log = logging.getLogger(__name__)


async def ring_beside(
    ua: UserAgent, phone: Binding, offer: bytes, *, name: str, extra: dict[str, str], user: str,
    timeout_s: float, failure: type[CallManagerError],
) -> Dialog:  # fmt: skip
    """INVITE ``phone`` from ``sip:<user>@...`` shown as ``name``; ``failure`` when it does not take
    the session in time."""
    try:
        return await asyncio.wait_for(
            ua.call(phone.contact, phone.address, body=offer, protocol=phone.protocol,
                    from_uri=f"sip:{user}@{ua.endpoint.host}", from_name=name, extra=extra),
            timeout_s,
        )  # fmt: skip
    except (CallFailed, SipError, TimeoutError) as exc:
        raise failure(
            f"{phone.username}'s phone did not take the session: {exc!r}", {"username": phone.username}
        ) from None


def answered_sdp(dialog: Dialog) -> bytes:
    """What the phone answered with (its SDP)."""
    return dialog.answered.body if dialog.answered is not None else b""


async def end_session(dialog: Dialog) -> None:
    """BYE, unless the session ended already; a refusal is only logged (the goal is reached)."""
    if dialog.state is not DialogState.TERMINATED:
        try:
            await dialog.bye()
        except SipError as exc:
            log.info("BYE of a session beside a call: %s", exc.message)
