"""What an instance that becomes active (or starts again) does with the calls left in Redis.

Every call rtpengine still relays is adopted: its dialogs are rebuilt from the saved legs, so either
side's BYE ends it cleanly and commands work. Then, by state:

- connected or held: kept as they are; the audio never stopped (rtpengine was untouched);
- queued: kept; queue-manager still has the call and offers it when an agent is free, the hold music
  plays on in rtpengine;
- ringing an agent: the INVITE belonged to the old process and is gone with it (an answer to it is
  acknowledged and hung up by the user agent), so the caller goes back to waiting and queue-manager
  hears ``interrupted`` (the agent is not blamed, the call is offered again);
- in the IVR: where the caller was in the menu lived only in the old process. Replaying the flow from
  its start would make them listen to the greeting and choose again; instead they go on to the queue
  the flow's default path leads to (what pressing nothing would have given), announced as usual. A
  flow whose default path reaches no queue says "sorry" and hangs up;
- anything rtpengine no longer relays, or a call whose caller was never reached (an outbound call
  still ringing the customer): ended.
"""

from __future__ import annotations

import logging
from collections import Counter

from callisto_call_manager.calls import Call, QueueRequest
from callisto_call_manager.ivr import queue_request
from callisto_call_manager.switchboard import Switchboard
from callisto_protocol.calls import CallState, EndedBy
from callisto_protocol.queues import ConnectResult

log = logging.getLogger(__name__)
S = CallState


def adopt_all(board: Switchboard, found: list[Call]) -> None:
    """Rebuild the dialogs of ``found`` (the calls in Redis), before the SIP port opens: a BYE that
    comes in then finds its call."""
    for call in found:
        board.adopt(call)


async def take_over(board: Switchboard, found: list[Call], media: set[str]) -> Counter[str]:
    """Settle the adopted calls ``found``, given the ids rtpengine still relays; counts by outcome."""
    outcome: Counter[str] = Counter()
    for call in found:
        if call.id not in media or call.caller_leg is None:
            await board.hangup(call, EndedBy.SYSTEM, 500)
            outcome["ended"] += 1
        elif call.state in (S.CREATED, S.IVR):
            board.spawn(call.id, _move_on(board, call), "ivr")
            outcome["moved-on"] += 1
        elif call.state is S.RINGING and call.agent_leg is None:
            board.spawn(call.id, _ring_again(board, call), "ring")
            outcome["ring-again"] += 1
        else:
            outcome["kept"] += 1
    if found:
        log.info("took over %d calls: %s", len(found), dict(outcome))
    return outcome


async def _move_on(board: Switchboard, call: Call) -> None:
    flow = board.plan.flow_for(call.dialled)
    step = flow.default_queue() if flow is not None else None
    if step is not None:
        await board.to_queue(call, queue_request(step))
        return
    await board.say(call, ["sorry"])
    await board.hangup(call, EndedBy.SYSTEM, 480)


async def _ring_again(board: Switchboard, call: Call) -> None:
    agent_id, offer_id = call.agent_id, call.offer_id
    await board.table.move(call, S.QUEUED, agent_id=None, offer_id=None)
    if agent_id and offer_id:  # queue-manager's offer: it offers the call again
        await board.notifier.connect_outcome(call.id, agent_id, offer_id, ConnectResult.INTERRUPTED)
    elif call.queue_id:  # a transfer to an agent from a queue: back to that queue
        await board.to_queue(call, QueueRequest(call.queue_id, announce=False))
    else:
        await board.say(call, ["sorry"])
        await board.hangup(call, EndedBy.SYSTEM, 480)
