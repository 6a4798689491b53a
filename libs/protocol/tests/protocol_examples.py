"""One example of every message; the contract tests require an example for each registered class."""

from __future__ import annotations

from datetime import UTC, datetime

from callisto_protocol import Message
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.auth import (
    AuditRecorded,
    GetJwks,
    GetSipCredentials,
    IssueServiceToken,
    Jwks,
    ServiceToken,
    SipCredentials,
    UserChanged,
)
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged, EndedBy
from callisto_protocol.configuration import ConfigChanged, ConfigValid, ValidateConfig
from callisto_protocol.contacts import ContactCard, ContactChanged, ContactMatch, LookupContact
from callisto_protocol.control import (
    DrainInstance,
    DrainStarted,
    GetSuiteHealth,
    HealthStatus,
    ListServices,
    ServiceHealth,
    ServiceList,
    SuiteHealth,
)
from callisto_protocol.deadletters import DeadLetter
from callisto_protocol.dialer import (
    CampaignFigures,
    CampaignList,
    CampaignState,
    CampaignStateChanged,
    CampaignSummary,
    DialMode,
    ListCampaigns,
    PreviewOffered,
)
from callisto_protocol.help import (
    AcceptHelp,
    CancelHelp,
    CloseHelp,
    HelpRequest,
    HelpRequestChanged,
    HelpState,
    HelpStatus,
    RaiseHelp,
)
from callisto_protocol.lists import (
    AgentEntry,
    AgentList,
    AgentListDelta,
    AgentListSnapshot,
    CallEntry,
    CallList,
    CallListDelta,
    CallListSnapshot,
    GetAgentList,
    GetCallList,
)
from callisto_protocol.messages import ErrorReply
from callisto_protocol.queues import (
    AgentRequest,
    AgentStatus,
    CallbackAccepted,
    CallDisposed,
    ConnectAccepted,
    ConnectCall,
    ConnectOutcome,
    ConnectResult,
    Dequeue,
    Dequeued,
    Enqueue,
    Enqueued,
    QueueCallEvent,
    QueueCallKind,
    RequestCallback,
    SetAgentState,
)
from callisto_protocol.recordings import (
    RecordingAvailable,
    RecordingDeleted,
    RecordingHeld,
    RecordingQuarantined,
    RecordingRefused,
    RecordingStorageChanged,
    StorageLevel,
)
from callisto_protocol.registry import (
    InstanceRole,
    InstanceState,
    InstanceStatus,
    ServiceChanged,
    ServiceGone,
    ServiceHeartbeat,
    ServiceRegistered,
)
from callisto_protocol.telephony import (
    CallControlled,
    CancelConnect,
    ChangeListener,
    HangupCall,
    HoldCall,
    IvrInput,
    ListCalls,
    ListenerChanged,
    ListenerMode,
    ListenerState,
    ListenToCall,
    LiveCalls,
    OriginateCall,
    RecordAction,
    RecordCall,
    RegistrationChanged,
    TransferCall,
    TransferKind,
)
from callisto_protocol.tickets import TicketChanged, TicketNotification

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
DESCRIPTION = dict(
    service="queue-manager",
    instance="qm-1",
    version="1.2.3",
    host="node-a",
    http_url="http://10.0.0.5:8103",
    role=InstanceRole.STANDBY,
    ready=True,
    draining=False,
    checks={"nats": True, "redis": True},
    started_at=T0,
)
STATUS = InstanceStatus(**DESCRIPTION, state=InstanceState.ALIVE, first_seen=T0, last_seen=T0)
AGENT = AgentEntry(
    agent_id="agent-7",
    name="Alma Ruiz",
    state=AgentState.ON_CALL,
    since=T0,
    call_id="c-1",
    queues=["water-leaks", "billing"],
)
CALL = CallEntry(
    call_id="c-1",
    state=CallState.CONNECTED,
    since=T0,
    direction=CallDirection.INBOUND,
    caller="+15551230000",
    dialled="311",
    queue_id="water-leaks",
    agent_id="agent-7",
)

HELP = HelpRequest(
    request_id="h-1",
    agent_id="agent-7",
    state=HelpState.ACCEPTED,
    reason="caller threatens legal action",
    call_id="c-42",
    raised_at=T0,
    deadline=T0,
    supervisor_id="agent-1",
    accepted_at=T0,
)

CARD = ContactCard(
    contact_id="k-1", name="Vera Vasquez", vip=True, personal_agent_id="agent-1", account="4471"
)

EXAMPLES: list[Message] = [
    ServiceHeartbeat(**DESCRIPTION, interval_s=1.0),
    ServiceRegistered(service="queue-manager", instance="qm-1", status=STATUS),
    ServiceChanged(service="queue-manager", instance="qm-1", status=STATUS),
    ServiceGone(service="queue-manager", instance="qm-1", last_seen=T0),
    ListServices(service="queue-manager"),
    ServiceList(instances=[STATUS]),
    GetSuiteHealth(),
    SuiteHealth(
        status=HealthStatus.DEGRADED,
        checked_at=T0,
        services=[
            ServiceHealth(
                service="queue-manager",
                status=HealthStatus.DEGRADED,
                alive=2,
                ready=1,
                active=1,
                standby=1,
                draining=0,
                gone=1,
                failing_checks=["redis"],
            )
        ],
    ),
    DrainInstance(service="queue-manager", instance="qm-1", reason="rolling upgrade"),
    DrainStarted(service="queue-manager", instance="qm-1", already_draining=False),
    AgentStateChanged(
        agent_id="agent-7",
        seq=12,
        state=AgentState.ON_CALL,
        previous=AgentState.RESERVED,
        since=T0,
        name="Alma Ruiz",
        call_id="c-1",
        queues=["water-leaks"],
    ),
    CallStateChanged(
        call_id="c-1",
        seq=4,
        state=CallState.CONNECTED,
        since=T0,
        caller="+15551230000",
        dialled="311",
        queue_id="water-leaks",
        agent_id="agent-7",
    ),
    CallStateChanged(
        call_id="c-1",
        seq=7,
        state=CallState.ENDED,
        since=T0,
        caller="+15551230000",
        dialled="311",
        trunk="city-gateway",
        ended_by=EndedBy.CALLER,
        sip_status=200,
    ),
    AgentListSnapshot(seq=40, agents=[AGENT]),
    AgentListDelta(seq=41, upserted=[AGENT], removed=["agent-9"]),
    GetAgentList(),
    AgentList(seq=41, agents=[AGENT]),
    CallListSnapshot(seq=7, calls=[CALL]),
    CallListDelta(seq=8, upserted=[CALL], removed=["c-0"]),
    GetCallList(),
    CallList(seq=8, calls=[CALL]),
    AuditRecorded(
        action="login-failed",
        actor="anonymous",
        target="operator1",
        source="10.1.2.3",
        at=T0,
        details={"failures": 3},
    ),
    GetJwks(),
    Jwks(
        keys=[
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k1"}
        ]
    ),
    IssueServiceToken(client_id="call-manager", client_secret="s3cret-from-the-vault"),
    ServiceToken(access_token="eyJhbGciOiJFZERTQSJ9.e30.c2ln", expires_in=300),
    GetSipCredentials(username="operator1"),
    SipCredentials(
        username="operator1",
        realm="callisto",
        ha1_md5="939e7578ed9e3c518a452acee763bce9",
        ha1_sha256="0" * 64,
        user_id="u-1",
        agent_id="agent-1",
    ),
    UserChanged(
        user_id="u-1",
        login="operator1",
        display_name="Olga Operator",
        roles=["operator"],
        agent_id="agent-1",
        active=True,
        change="updated",
        by="u-admin",
    ),
    Enqueue(call_id="c-42", queue_id="water-leaks", caller="+4930123456", priority=2, skills={"german": 5}),
    Enqueued(call_id="c-42", queue_id="water-leaks", position=3, expected_wait_s=95.5),
    Dequeue(call_id="c-42", reason="abandoned"),
    Dequeued(call_id="c-42", queue_id="water-leaks", waited_s=41.2),
    SetAgentState(agent_id="agent-7", request=AgentRequest.NOT_READY, reason="lunch"),
    AgentStatus(agent_id="agent-7", state=AgentState.NOT_READY, reason="lunch", seq=12),
    QueueCallEvent(
        queue_id="water-leaks",
        step=QueueCallKind.OFFERED,
        call_id="c-42",
        at=T0,
        caller="+4930123456",
        agent_id="agent-7",
        waited_s=12.5,
    ),
    CallDisposed(
        call_id="c-42",
        queue_id="water-leaks",
        agent_id="agent-7",
        disposition="crew_sent",
        note="burst main on Elm St",
        at=T0,
        by="u-olga",
    ),
    ConnectCall(call_id="c-42", agent_id="agent-7", offer_id="o-1", ring_timeout_s=15),
    ConnectAccepted(call_id="c-42", agent_id="agent-7"),
    ConnectOutcome(call_id="c-42", agent_id="agent-7", offer_id="o-1", result=ConnectResult.NO_ANSWER),
    ErrorReply(error_id="unknown-queue", message="no queue 'x'", details={"queue_id": "x"}),
    HangupCall(call_id="c-42"),
    HoldCall(call_id="c-42", hold=True),
    TransferCall(call_id="c-42", target_kind=TransferKind.QUEUE, target="billing"),
    OriginateCall(number="+15551230000", agent_id="agent-7", caller_id="1000"),
    OriginateCall(
        number="+15551230000", agent_id="agent-7", call_id="cb-1", offer_id="o-2", ring_timeout_s=15
    ),
    CancelConnect(call_id="c-42", offer_id="o-1"),
    ListCalls(),
    LiveCalls(calls=[CALL]),
    RequestCallback(
        queue_id="water-leaks", number="+4930123456", replaces_call_id="c-42", not_after=T0, attempts=2
    ),
    CallbackAccepted(callback_id="cb-1", queue_id="water-leaks", position=3, expected_wait_s=120.0),
    RaiseHelp(agent_id="agent-7", reason="caller threatens legal action", call_id="c-42"),
    AcceptHelp(request_id="h-1", supervisor_id="agent-1"),
    CancelHelp(request_id="h-1", agent_id="agent-7"),
    CloseHelp(request_id="h-1", note="calmed down"),
    HelpStatus(request=HELP),
    HelpRequestChanged(agent_id="agent-7", step="accepted", request=HELP),
    LookupContact(number="8 (912) 345-67-89"),
    ContactMatch(number="+79123456789", contact=CARD),
    ContactMatch(number=None),
    ContactChanged(contact_id="k-1", change="updated", card=CARD),
    TicketChanged(
        ticket_id="t-1",
        number=1042,
        action="assign",
        state="assigned",
        priority=2,
        category_id="no-water",
        department="water-network",
        assignee="engineer-4",
        contact_id="k-1",
        call_id="c-42",
        actor="u-7",
    ),
    TicketNotification(
        notification_id=7,
        ticket_id="t-1",
        number=1042,
        about="sla_warning",
        recipient="engineer-4",
        title="Ticket 1042: resolution due at 14:30",
        target="resolution",
    ),
    DeadLetter(
        service="helpdesk",
        consumer="helpdesk-calls",
        original_subject="cc.call.c-1.state",
        original_type="call.state",
        message_id="m-1",
        stream_sequence=42,
        reason="CharacterNotInRepertoireError: invalid byte sequence for encoding UTF8: 0x00",
        cause="failed",
        deliveries=5,
        failed_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        headers={"Cc-Message-Type": "call.state"},
        body_b64="eyJjYWxsX2lkIjoiYy0xIn0=",
    ),
    RecordingAvailable(
        recording_id="r-9", call_id="c-42", url="https://rec.example.org/r-9.opus", duration_s=184.2
    ),
    RecordingQuarantined(call_id="c-43", reason="the customer's audio is G729: only G.711 is converted"),
    RecordingHeld(
        recording_id="r-9", call_id="c-42", held=True, reason="complaint 2026-118, legal", by="quality1"
    ),
    RecordingDeleted(recording_id="r-9", call_id="c-42", reason="retention: class default, 365 days"),
    RecordingStorageChanged(
        instance="recording-1",
        level=StorageLevel.REFUSING,
        spool_free=0.03,
        store_free=0.4,
        reason="the capture spool has 3 % free (refusing below 5 %)",
    ),
    RecordingRefused(call_id="c-42", reason="the recording store has no room"),
    RecordCall(call_id="c-42", action=RecordAction.PAUSE),
    CallControlled(call_id="c-42", state=CallState.HELD),
    IvrInput(call_id="c-42", step="main-menu", digits="2"),
    ListenToCall(call_id="c-42", username="supervisor1", whisper=True),
    ChangeListener(call_id="c-42", listener_id="l-7", mode=ListenerMode.STOPPED),
    ListenerState(listener_id="l-7", call_id="c-42", username="supervisor1", mode=ListenerMode.WHISPERING),
    ListenerChanged(
        call_id="c-42",
        listener_id="l-7",
        username="supervisor1",
        mode=ListenerMode.LISTENING,
        by="alice",
        reason="hung-up",
    ),
    RegistrationChanged(
        agent_id="agent-7", username="operator7", registered=True, contacts=["sip:operator7@10.0.0.21:5060"]
    ),
    ValidateConfig(
        service="queue-manager",
        document="queue-manager.queues",
        body={"queues": [{"id": "billing", "strategy": "longest-idle"}]},
    ),
    ConfigValid(document="queue-manager.queues", summary="1 queue, 0 agents"),
    ConfigChanged(
        owner="queue-manager",
        document="queue-manager.queues",
        version=7,
        by="u-admin",
        comment="billing: longest idle first",
    ),
    CampaignStateChanged(
        campaign_id="debtors-december",
        state=CampaignState.RUNNING,
        previous=CampaignState.SCHEDULED,
        by="supervisor1",
        reason="",
    ),
    ListCampaigns(finished=True),
    PreviewOffered(
        agent_id="agent-7",
        attempt_id="dl-1f2e",
        campaign_id="debtors-december",
        external_id="A-1001",
        name="Ivan Petrov",
        number="+74951234567",
        amount_owed="1520.50",
        attributes={"contract": "C-77"},
    ),
    CampaignFigures(
        campaign_id="debtors-december",
        at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        dialled=412,
        answered=131,
        abandoned=3,
        abandon_rate=0.021,
        abandon_limit=0.03,
        ringing=9,
        waiting=0,
        agents=20,
        ready=2,
        dial_level=0.45,
        remaining=845,
    ),
    CampaignList(
        campaigns=[
            CampaignSummary(
                campaign_id="debtors-december",
                name="Debtors, December",
                state=CampaignState.PAUSED,
                mode=DialMode.PREDICTIVE,
                queue_id="collections",
                contacts=1200,
                remaining=845,
                updated_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
            )
        ]
    ),
]
