"""Bus side of queue-manager: commands from call-manager and agents, events it follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from callisto_protocol import Envelope, Event
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.help import AcceptHelp, CancelHelp, CloseHelp, HelpStatus, RaiseHelp
from callisto_protocol.queues import (
    AgentStatus,
    CallbackAccepted,
    ConnectOutcome,
    Dequeue,
    Dequeued,
    Enqueue,
    Enqueued,
    RequestCallback,
    SetAgentState,
)
from callisto_protocol.telephony import RegistrationChanged
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.assistance import Help
from callisto_queue_manager.engine import Engine
from callisto_queue_manager.model import Agent, Call, CallStatus
from callisto_runtime import Bus, DurableConsumer


def agent_status(agent: Agent) -> AgentStatus:
    return AgentStatus(
        agent_id=agent.id, state=agent.state, reason=agent.reason, seq=agent.seq, call_id=agent.call_id
    )


def epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def callback_accepted(acd: Acd, call: Call) -> CallbackAccepted:
    waiting = call.status is CallStatus.WAITING
    position = acd.position(call) if waiting else None
    due = call.callback.due if call.callback else None
    return CallbackAccepted(
        callback_id=call.call_id,
        queue_id=call.queue_id,
        position=position,
        expected_wait_s=acd.expected_wait(call.queue_id, position) if position else None,
        not_before=datetime.fromtimestamp(due, UTC) if due else None,
    )


def request_callback(acd: Acd, command: RequestCallback, now: float) -> CallbackAccepted:
    call = acd.request_callback(
        command.queue_id, command.number, now, name=command.name, replaces=command.replaces_call_id,
        not_before=epoch(command.not_before), not_after=epoch(command.not_after), priority=command.priority,
        attempts=command.attempts, retry_after_s=command.retry_after_s,
    )  # fmt: skip
    return callback_accepted(acd, call)


async def subscribe(bus: Bus, engine: Engine) -> list[DurableConsumer]:
    async def enqueue(command: Enqueue, _: Envelope) -> Enqueued:
        def operation(acd: Acd, now: float) -> Enqueued:
            call = acd.enqueue(
                command.call_id,
                command.queue_id,
                now,
                caller=command.caller,
                priority=command.priority,
                skills=command.skills,
                personal_agent_id=command.personal_agent_id,
            )
            position = acd.position(call)
            return Enqueued(
                call_id=call.call_id,
                queue_id=call.queue_id,
                position=position,
                expected_wait_s=acd.expected_wait(call.queue_id, position),
            )

        return await engine.run(operation)

    async def dequeue(command: Dequeue, _: Envelope) -> Dequeued:
        def operation(acd: Acd, now: float) -> Dequeued:
            call = acd.dequeue(command.call_id, command.reason, now)
            return Dequeued(call_id=call.call_id, queue_id=call.queue_id, waited_s=round(call.waited(now), 3))

        return await engine.run(operation)

    async def agent_state(command: SetAgentState, env: Envelope) -> AgentStatus:
        by = await bus.asker(env)
        return await engine.run(
            lambda acd, now: agent_status(
                acd.request(command.agent_id, command.request, command.reason, now, by=by)
            )
        )

    async def callback(command: RequestCallback, _: Envelope) -> CallbackAccepted:
        return await engine.run(lambda acd, now: request_callback(acd, command, now))

    async def help_status(change: Callable[[Acd, float], Help]) -> HelpStatus:
        return await engine.run(lambda acd, now: HelpStatus(request=change(acd, now).view()))

    async def raise_help(command: RaiseHelp, _: Envelope) -> HelpStatus:
        return await help_status(
            lambda acd, now: acd.raise_help(command.agent_id, command.reason, command.call_id, now)
        )

    async def accept_help(command: AcceptHelp, _: Envelope) -> HelpStatus:
        return await help_status(
            lambda acd, now: acd.help.accept(command.request_id, command.supervisor_id, now)
        )

    async def cancel_help(command: CancelHelp, _: Envelope) -> HelpStatus:
        return await help_status(lambda acd, now: acd.help.cancel(command.request_id, command.agent_id, now))

    async def close_help(command: CloseHelp, _: Envelope) -> HelpStatus:
        return await help_status(lambda acd, now: acd.help.close(command.request_id, command.note, now))

    async def on_call_event(event: Event, _: Envelope) -> None:
        if isinstance(event, ConnectOutcome):
            await engine.run(
                lambda acd, now: acd.outcome(event.call_id, event.agent_id, event.offer_id, event.result, now)
            )
        elif isinstance(event, CallStateChanged) and event.state is CallState.ENDED:
            await engine.run(lambda acd, now: acd.call_ended(event.call_id, now, unreached=event.failed))
        elif isinstance(event, RegistrationChanged):
            await engine.run(lambda acd, now: acd.phone_changed(event.agent_id, event.registered, now))
        elif isinstance(event, CallStateChanged) and event.state is CallState.RINGING:
            await engine.run(lambda acd, now: acd.left_agent(event.call_id, event.agent_id, now))

    await bus.serve(Enqueue, enqueue, permission="qm.calls.enqueue", active_only=True)
    await bus.serve(Dequeue, dequeue, permission="qm.calls.dequeue", active_only=True)
    await bus.serve(RequestCallback, callback, permission="qm.callbacks.create", active_only=True)
    await bus.serve(RaiseHelp, raise_help, permission="qm.agents.{agent_id}.help", active_only=True)
    await bus.serve(CancelHelp, cancel_help, permission="qm.agents.{agent_id}.help", active_only=True)
    await bus.serve(AcceptHelp, accept_help, permission="qm.help.handle", active_only=True)
    await bus.serve(CloseHelp, close_help, permission="qm.help.handle", active_only=True)
    await bus.serve(
        SetAgentState, agent_state, permission="qm.agents.{agent_id}.state.update", active_only=True
    )
    return [
        DurableConsumer(bus, "queue-manager-connect", ConnectOutcome.subscription(), on_call_event),
        DurableConsumer(bus, "queue-manager-call-state", CallStateChanged.subscription(), on_call_event),
        DurableConsumer(bus, "queue-manager-registration", RegistrationChanged.subscription(), on_call_event),
    ]
