"""Bus subscriptions of core-bus: thin, each calls the suite."""

from __future__ import annotations

from callisto_core_bus.suite import Suite
from callisto_protocol import Envelope
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.control import GetSuiteHealth, ListServices, ServiceList, SuiteHealth
from callisto_protocol.lists import AgentList, CallList, GetAgentList, GetCallList
from callisto_protocol.registry import ServiceHeartbeat
from callisto_runtime import Bus


async def subscribe(bus: Bus, suite: Suite) -> None:
    async def on_heartbeat(beat: ServiceHeartbeat, _: Envelope) -> None:
        await suite.heartbeat(beat)

    async def on_agent_state(event: AgentStateChanged, _: Envelope) -> None:
        await suite.agent_state(event)

    async def on_call_state(event: CallStateChanged, _: Envelope) -> None:
        await suite.call_state(event)

    async def list_services(command: ListServices, _: Envelope) -> ServiceList:
        return ServiceList(instances=suite.instances(command.service))

    async def get_health(_: GetSuiteHealth, __: Envelope) -> SuiteHealth:
        return suite.health()

    async def get_agents(_: GetAgentList, __: Envelope) -> AgentList:
        return AgentList(seq=suite.agents.seq, agents=suite.agents.entries())

    async def get_calls(_: GetCallList, __: Envelope) -> CallList:
        return CallList(seq=suite.calls.seq, calls=suite.calls.entries())

    await bus.subscribe(ServiceHeartbeat, on_heartbeat)
    await bus.follow(AgentStateChanged, on_agent_state)
    await bus.follow(CallStateChanged, on_call_state)
    await bus.serve(ListServices, list_services, permission="core-bus.services.read")
    await bus.serve(GetSuiteHealth, get_health, permission="core-bus.health.read")
    await bus.serve(GetAgentList, get_agents, permission="core-bus.agents.read")
    await bus.serve(GetCallList, get_calls, permission="core-bus.calls.read")
