"""The runner: what the active instance does every tick for each campaign, and with each call it made.

Every tick (a second): a scheduled campaign whose start has come is started; for each running
progressive or predictive campaign, the floor (its queue's agents from queue-manager's events, its
calls ringing and its customers waiting) and its abandon budget go to the pacing, the hopper plans that
many attempts (written before they are dialled) and each is originated through call-manager with the
attempt's id as the call's, into the campaign's queue. A campaign with nothing left to call, or past
its end with no call left, is completed; billing is told of completed campaigns (webhooks.py).

Each dialler call's events (``cc.call.<dl-…>``, a durable consumer while active): queued means the
customer answered; if no agent takes them within the policy's time (2 s), they are taken out of the
queue and hear the campaign's message, then the line is cleared (an abandoned call); connected means
an agent took them; ended gives the outcome (answered, abandoned, busy, no answer, failed) and the
hopper moves the contact on. A running campaign's figures are published every 5 s
(``CampaignFigures``). What is learnt (answer rate, times to answer, talk and wrap-up times)
feeds the pacing. A preview campaign offers each ready agent one contact's card at a time
(``PreviewOffered``); the agent dials it (their phone first, then the customer's) or skips it. An
agentless campaign places its ``lines`` calls at once; call-manager says its message to whoever answers
(an answered attempt) and puts them through to the queue when they press its key."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter

from callisto_dialer.campaign_desk import CampaignDesk
from callisto_dialer.campaigns import Action
from callisto_dialer.errors import NotOffered
from callisto_dialer.figures import figures_of
from callisto_dialer.floor import Floors
from callisto_dialer.hopper import ATTEMPT_PREFIX, Hopper
from callisto_dialer.pacing import Budget, Floor, Learning, Pacing
from callisto_dialer.policies import POLICIES
from callisto_dialer.scheduling import Outcome, outcome_of
from callisto_dialer.store import DialerStore
from callisto_dialer.webhooks import Webhooks
from callisto_protocol import Envelope, Event
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.dialer import CampaignState, DialMode, PreviewOffered
from callisto_protocol.lists import AgentList, GetAgentList
from callisto_protocol.queues import Dequeue, Dequeued
from callisto_protocol.telephony import CallControlled, HangupCall, OriginateCall
from callisto_runtime import CallistoError, Service
from callisto_runtime.consumer import DurableConsumer

log = logging.getLogger(__name__)
RING_S = 25.0  # a customer's phone rings this long (every policy asks at least 15 s)
ABANDON_MESSAGE = "outbound-abandoned"  # call-manager's prompt, when a campaign names none
MESSAGE_LEAD_S = 0.5  # the message is asked for this long before the policy's time is up
STRANDED_AFTER = timedelta(seconds=RING_S + 60)
FIGURES_EVERY = timedelta(seconds=5)


@dataclass
class CampaignRun:
    """What the runner keeps of one campaign while it is active: what it learnt, its waiting calls."""

    learning: Learning = field(default_factory=Learning)
    waiting: dict[str, asyncio.Task[None]] = field(default_factory=dict)  # answered, no agent yet
    told: datetime | None = None  # when its figures were last published


class Runner:
    def __init__(
        self, service: Service, store: DialerStore, hopper: Hopper, desk: CampaignDesk, webhooks: Webhooks
    ) -> None:
        self.service = service
        self.webhooks = webhooks
        self.store = store
        self.hopper = hopper
        self.desk = desk
        self.floors = Floors()
        self.runs: dict[str, CampaignRun] = {}
        self.consumer = DurableConsumer(
            service.bus, "dialer-calls", "cc.call.>", self.on_call, deliver_new_only=True
        )
        self.calls = Counter(
            "callisto_dialer_calls", "Campaign calls: dialled, refused by call-manager, abandoned",
            ["event"], registry=service.metrics_registry,
        )  # fmt: skip

    def run_of(self, campaign_id: str) -> CampaignRun:
        return self.runs.setdefault(campaign_id, CampaignRun())

    # the active instance's work ------------------------------------------------------------------
    async def start(self) -> None:
        """Every instance follows the agents (a standby that takes over knows the floor at once)."""
        await self.service.bus.subscribe(AgentStateChanged, self.on_agent)

    async def activate(self) -> None:
        """Became active: the agents as they are now, the calls' events from where they stopped."""
        try:
            agents = await self.service.bus.call(GetAgentList(), AgentList, timeout=5)
            self.floors.load(agents.agents)
        except CallistoError as exc:
            log.warning("dialer: no agent list from core-bus yet (%s); events will tell", exc)
        self.consumer.start()

    async def deactivate(self) -> None:
        await self.consumer.stop()
        for run in self.runs.values():
            for task in run.waiting.values():
                task.cancel()
            run.waiting.clear()

    async def tick(self) -> None:
        if not self.service.is_active:
            return
        now = datetime.now(UTC)
        for stranded in await self.hopper.stranded(now - STRANDED_AFTER):
            await self.hopper.finish(stranded, Outcome.FAILED, now)
        for campaign in await self.store.campaigns(finished=False):
            try:
                await self._campaign(campaign, now)
            except CallistoError as exc:  # one campaign's trouble never stops the others
                log.warning("dialer: campaign %s: %s", campaign["id"], exc)
        await self.webhooks.deliver_due(now)

    async def _campaign(self, campaign: dict[str, Any], now: datetime) -> None:
        state = CampaignState(campaign["state"])
        if state is CampaignState.SCHEDULED and campaign["starts_at"] and campaign["starts_at"] <= now:
            await self.desk.act(campaign["id"], Action.START, "system", "its start time came")
            return
        if state is not CampaignState.RUNNING:
            return
        run = self.run_of(campaign["id"])
        if run.told is None or now - run.told >= FIGURES_EVERY:
            run.told = now
            await self.service.bus.publish(await figures_of(campaign, self.hopper, self.floors, now))
        flying = await self.hopper.in_flight(campaign["id"])
        over = campaign["ends_at"] is not None and campaign["ends_at"] <= now
        if not flying and (over or campaign["remaining"] == 0):
            reason = "its end time passed" if over else "nothing is left to call"
            await self.desk.act(campaign["id"], Action.COMPLETE, "system", reason)
            return
        mode = DialMode(campaign["mode"])
        if over:
            return
        if mode is DialMode.AGENTLESS:  # no agents to pace by: so many lines at once
            for attempt in await self.hopper.take(campaign["id"], campaign["lines"] - len(flying), now):
                await self._dial(campaign, attempt, now)
            return
        if mode is DialMode.PREVIEW:
            await self._preview(campaign, now)
            return
        calling_back = await self._callbacks(campaign, now)
        team = self.floors.team(campaign["queue_id"], now)
        floor = Floor(
            ready=max(0, team.ready - calling_back), talking=team.talking, wrapping=team.wrapping,
            ringing=[(now - a["dialled_at"]).total_seconds() for a in flying
                     if a["answered_at"] is None and a["dialled_at"] is not None],
            waiting=sum(1 for a in flying if a["answered_at"] is not None and a["connected_at"] is None),
        )  # fmt: skip
        policy = POLICIES[campaign["policy"]]
        pacing = Pacing(limit=policy.abandon_limit, grace_s=policy.message_within_s, no_answer_s=RING_S)
        if mode is DialMode.PROGRESSIVE:
            pacing = Pacing(limit=policy.abandon_limit, min_agents=1_000_000)  # never predictive
        budget = await self._budget(campaign["id"], policy.abandon_window_h, now)
        decision = pacing.decide(floor, run.learning, budget)
        if decision.calls <= 0:
            return
        for attempt in await self.hopper.take(campaign["id"], decision.calls, now):
            await self._dial(campaign, attempt, now)

    async def _preview(self, campaign: dict[str, Any], now: datetime) -> None:
        """Each ready agent of the campaign's queue is offered one contact's card at a time; an offer
        to an agent who is no longer ready is withdrawn (the contact goes to someone else)."""
        ready = self.floors.ready_agents(campaign["queue_id"])
        engaged = await self.hopper.engaged(campaign["id"])
        for agent, (attempt_id, state) in engaged.items():
            if state == "offered" and agent not in ready:
                await self.hopper.finish(attempt_id, Outcome.SKIPPED, now)
        for agent in sorted(ready - set(engaged)):
            for offer in await self.hopper.take(campaign["id"], 1, now, agent_id=agent):
                await self.service.bus.publish(
                    PreviewOffered(
                        agent_id=agent, attempt_id=offer["id"], campaign_id=campaign["id"],
                        external_id=offer["external_id"], name=offer["name"], number=offer["number"],
                        amount_owed=str(offer["amount_owed"]) if offer["amount_owed"] is not None else None,
                        due_date=offer["due_date"], attributes=json.loads(offer["attributes"]),
                    )
                )  # fmt: skip

    async def decide_preview(self, attempt: dict[str, Any], dial: bool, now: datetime) -> None:
        """The agent read the card: dial it (their phone first, then the customer's), or skip it."""
        if attempt["state"] != "offered":
            raise NotOffered(
                f"attempt {attempt['id']} is {attempt['state']}, not offered", {"attempt_id": attempt["id"]}
            )
        if not dial:
            await self.hopper.finish(attempt["id"], Outcome.SKIPPED, now)
            return
        planned = await self.hopper.to_dial(attempt["id"])
        if planned is None:
            raise NotOffered("the offer was withdrawn meanwhile", {"attempt_id": attempt["id"]})
        await self._agent_first(await self.store.campaign(attempt["campaign_id"]), attempt, now)

    async def _agent_first(self, campaign: dict[str, Any], attempt: dict[str, Any], now: datetime) -> None:
        """Ring the attempt's agent, then the customer (a preview dialled, a call-back promised)."""
        command = OriginateCall(
            number=attempt["number"], agent_id=attempt["agent_id"], caller_id=campaign["caller_id"],
            ring_timeout_s=RING_S, call_id=attempt["id"], campaign_id=campaign["id"],
        )  # fmt: skip
        try:
            await self.service.bus.call(command, CallControlled, timeout=5)
        except CallistoError:
            await self.hopper.finish(attempt["id"], Outcome.SKIPPED, now)  # never dialled
            raise
        self.calls.labels("dialled").inc()
        await self.hopper.dialling(attempt["id"], attempt["id"], now)

    async def _callbacks(self, campaign: dict[str, Any], now: datetime) -> int:
        """The call-backs ready agents promised, due now: their phone rung first. How many were placed."""
        engaged = await self.hopper.engaged(campaign["id"])
        placed = 0
        for agent in sorted(self.floors.ready_agents(campaign["queue_id"]) - set(engaged)):
            for attempt in await self.hopper.take(campaign["id"], 1, now, agent, callbacks=True):
                try:
                    await self._agent_first(campaign, {**attempt, "agent_id": agent}, now)
                    placed += 1
                except CallistoError as exc:
                    log.warning("dialer: call-back %s for %s not placed: %s", attempt["id"], agent, exc)
        return placed

    async def _budget(self, campaign_id: str, window_h: int, now: datetime) -> Budget:
        _, answered, abandoned = await self.hopper.counts(campaign_id, now - timedelta(hours=window_h))
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        _, today_answered, today_abandoned = await self.hopper.counts(campaign_id, midnight)
        return Budget(answered, abandoned, today_answered, today_abandoned)

    async def _dial(self, campaign: dict[str, Any], attempt: dict[str, Any], now: datetime) -> None:
        agentless = DialMode(campaign["mode"]) is DialMode.AGENTLESS
        command = OriginateCall(
            number=attempt["number"], queue_id=campaign["queue_id"], caller_id=campaign["caller_id"],
            ring_timeout_s=RING_S, call_id=attempt["id"], campaign_id=campaign["id"],
            message=campaign["message_prompt"] if agentless else None,
            press_key=campaign["press_key"] if agentless else None,
        )  # fmt: skip
        try:
            await self.service.bus.call(command, CallControlled, timeout=5)
        except CallistoError as exc:
            self.calls.labels("refused").inc()
            log.warning("dialer: attempt %s to %s not placed: %s", attempt["id"], attempt["number"], exc)
            await self.hopper.finish(attempt["id"], Outcome.FAILED, now)
            return
        self.calls.labels("dialled").inc()
        await self.hopper.dialling(attempt["id"], attempt["id"], now)

    # events ------------------------------------------------------------------------------------
    async def on_agent(self, event: AgentStateChanged, _: Envelope) -> None:
        self.floors.apply(event)

    async def on_call(self, event: Event, _: Envelope) -> None:
        if not isinstance(event, CallStateChanged) or not event.call_id.startswith(ATTEMPT_PREFIX):
            return  # not a call the dialler made
        attempt = await self.hopper.attempt(event.call_id)
        if attempt is None or attempt["state"] == "ended":
            return
        run = self.run_of(attempt["campaign_id"])
        agentless = DialMode(attempt["mode"]) is DialMode.AGENTLESS
        if event.state is CallState.IVR and agentless:  # answered: the message is being said
            if await self.hopper.answered(event.call_id, event.since) is not None:
                run.learning.outcome(
                    True, (event.since - (attempt["dialled_at"] or attempt["planned_at"])).total_seconds()
                )
        elif event.state is CallState.QUEUED:
            answered = await self.hopper.answered(event.call_id, event.since)
            if answered is not None:
                started = answered["dialled_at"] or answered["planned_at"]
                run.learning.outcome(True, (event.since - started).total_seconds())
                run.waiting[event.call_id] = asyncio.create_task(
                    self._abandon_unless_taken(event.call_id, event.since), name=f"abandon-{event.call_id}"
                )
        elif (
            event.state is CallState.CONNECTED
            and attempt["agent_first"]
            and attempt["agent_answered_at"] is None
        ):
            await self.hopper.agent_answered(event.call_id, event.since)  # the customer is rung next
        elif event.state is CallState.CONNECTED:
            if attempt["agent_first"]:  # the customer answered, the agent on the line
                await self.hopper.answered(event.call_id, event.since)
            if await self.hopper.connected(event.call_id, event.agent_id, event.since):
                waiting = run.waiting.pop(event.call_id, None)
                if waiting is not None:
                    waiting.cancel()
        elif event.state is CallState.ENDED:
            waiting = run.waiting.pop(event.call_id, None)
            if waiting is not None:
                waiting.cancel()
            reached = attempt["answered_at"] is not None
            connected = attempt["connected_at"]
            outcome = outcome_of(reached, connected is not None or agentless, event.sip_status)
            if attempt["agent_first"] and attempt["agent_answered_at"] is None:
                outcome = Outcome.SKIPPED  # the agent's phone never answered: the customer was not rung
            if not reached and outcome is not Outcome.SKIPPED:
                run.learning.outcome(False)
            if connected is not None:
                run.learning.call_handled(
                    (event.since - connected).total_seconds(), self.floors.default_wrap_s
                )
            if outcome is Outcome.ABANDONED:
                self.calls.labels("abandoned").inc()
            await self.hopper.finish(event.call_id, outcome, event.since)

    async def _abandon_unless_taken(self, call_id: str, answered_at: datetime) -> None:
        """No agent within the policy's time: out of the queue, the message, the line cleared."""
        try:
            await self._abandon(call_id, answered_at)
        except asyncio.CancelledError:
            raise
        except Exception:  # a task of its own: its failure is logged here, never lost
            log.exception("dialer: %s: abandoning failed", call_id)

    async def _abandon(self, call_id: str, answered_at: datetime) -> None:
        attempt = await self.hopper.attempt(call_id)
        if attempt is None:
            return
        policy = POLICIES[attempt["policy"]]
        due = answered_at + timedelta(seconds=policy.message_within_s - MESSAGE_LEAD_S)
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        try:
            await self.service.bus.call(Dequeue(call_id=call_id, reason="abandoned"), Dequeued, timeout=2)
        except CallistoError as exc:  # an agent is being rung for it already: theirs
            log.info("dialer: %s not taken out of its queue (%s): left to the agent", call_id, exc)
            return
        try:
            prompt = attempt["message_prompt"] or ABANDON_MESSAGE
            await self.service.bus.call(HangupCall(call_id=call_id, prompt=prompt), CallControlled)
        except CallistoError as exc:
            log.warning("dialer: %s: the message could not be said: %s", call_id, exc)
