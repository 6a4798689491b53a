"""Pure parts of call-manager: NG framing, the dial plan, the flood limiter, announcements."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callisto_call_manager.bencode import BencodeError, decode, encode
from callisto_call_manager.calls import Call
from callisto_call_manager.dialplan import DialPlan, load
from callisto_call_manager.dtmf import key_of
from callisto_call_manager.errors import ConfigError
from callisto_call_manager.prompts import announcement
from callisto_call_manager.rate import RateLimiter
from callisto_call_manager.settings import DEMO_CONFIG
from callisto_call_manager.switchboard import caller_headers, placeholder
from callisto_protocol.calls import CallDirection

pytestmark = pytest.mark.unit

values = st.recursive(
    st.integers() | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def as_bytes(value: object) -> object:
    if isinstance(value, dict):
        return {k: as_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_bytes(v) for v in value]
    return value


@given(values)
def test_bencode_round_trips(value: object) -> None:
    assert decode(encode(value)) == as_bytes(value)  # type: ignore[arg-type]


def test_bencode_examples_and_garbage() -> None:
    assert encode({"command": "ping", "b": [1, "x"]}) == b"d1:bli1e1:xe7:command4:pinge"
    assert decode(b"d6:result4:ponge") == {"result": b"pong"}
    for bad in (b"", b"i12", b"5:abc", b"d3:keye", b"l", b"x", b"i1ei2e", b"d1:ai1e"):
        with pytest.raises(BencodeError):
            decode(bad)


def test_demo_dial_plan_is_valid() -> None:
    plan = load(DEMO_CONFIG)
    assert plan.flow_for("311") is plan.flows["water"]
    assert plan.flow_for("999") is plan.flows["water"]  # the "*" entry
    trunk = plan.trunk_for("127.0.0.1")
    assert trunk is not None and trunk.name == "city-gateway"
    assert plan.trunk_for("192.0.2.1") is None


@pytest.mark.parametrize(
    ("plan", "complaint"),
    [
        ({"numbers": {"311": "nowhere"}}, "unknown flow"),
        ({"flows": {"f": {"start": "a", "steps": {"a": {"play": "p", "next": "b"}}}}, "prompts": {"p": "x"}},
         "not defined"),
        ({"flows": {"f": {"start": "a", "steps": {"a": {"play": "nothing"}}}}}, "have no text"),
        ({"flows": {"f": {"start": "a", "steps": {"a": {"menu": "hold", "options": {"12": "a"}}}}}},
         "one key"),
        ({"flows": {"f": {"start": "a", "steps": {"a": {"queue": "q", "play": "hold"}}}}}, "validation"),
        ({"trunks": [{"name": "t", "surprise": 1}]}, "extra"),
    ],
)  # fmt: skip
def test_bad_dial_plans_are_refused_with_the_reason(
    plan: dict[str, object], complaint: str, tmp_path: Path
) -> None:
    path = tmp_path / "plan.yaml"
    import yaml

    path.write_text(yaml.safe_dump(plan))
    with pytest.raises(ConfigError) as refused:
        load(path)
    assert complaint in str(refused.value).lower() or complaint in str(refused.value)


def test_empty_plan_refuses_every_number() -> None:
    assert DialPlan().flow_for("311") is None and DialPlan().outbound() is None


def test_rate_limiter_refuses_a_flood_and_recovers() -> None:
    now = [0.0]
    limiter = RateLimiter(10, burst=20, clock=lambda: now[0])
    assert sum(limiter.allow("10.0.0.1") for _ in range(100)) == 20
    assert limiter.allow("10.0.0.2")  # another source is not punished
    now[0] += 1.0
    assert sum(limiter.allow("10.0.0.1") for _ in range(100)) == 10


def test_announcement_speaks_position_and_minutes() -> None:
    assert announcement(12, 250) == [
        "position", "digit-1", "digit-2", "in-line", "wait", "digit-4", "minutes",
    ]  # fmt: skip
    assert announcement(1, 20)[-1] == "under-a-minute"
    assert announcement(3, None) == ["position", "digit-3", "in-line"]


def test_placeholder_points_the_agent_side_at_the_discard_port() -> None:
    offer = b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 40012 RTP/AVP 8 101\r\na=rtcp:40013\r\na=sendrecv\r\n"
    assert placeholder(offer) == b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 8 101\r\na=sendrecv\r\n"


def test_dtmf_keys() -> None:
    assert [key_of({"event": n}) for n in (0, 9, 10, 11, 12)] == ["0", "9", "*", "#", "A"]
    assert key_of({"event": 16}) is None and key_of({"event": "5"}) is None


def test_a_flows_default_queue_is_where_pressing_nothing_leads() -> None:
    plan = load(DEMO_CONFIG)
    water = plan.flows["water"].default_queue()
    assert water is not None  # the demo's menu falls through to a queue

    def flow(steps: dict[str, object]) -> DialPlan:
        return DialPlan.model_validate({"flows": {"f": {"start": "a", "steps": steps}}})

    through = flow({
        "a": {"play": "sorry", "next": "b"}, "b": {"lookup": "caller", "next": "c"},
        "c": {"menu": "sorry", "options": {"1": "x"}, "otherwise": "d"},
        "d": {"queue": "general", "priority": 5}, "x": {"queue": "billing"},
    })  # fmt: skip
    found = through.flows["f"].default_queue()
    assert found is not None and (found.queue, found.priority) == ("general", 5)
    for ending in ({"hangup": "sorry"}, {"transfer": "123"}, {"menu": "sorry", "options": {"1": "a"}}):
        assert flow({"a": ending}).flows["f"].default_queue() is None
    looping = flow({"a": {"play": "sorry", "next": "b"}, "b": {"play": "sorry", "next": "a"}})
    assert looping.flows["f"].default_queue() is None


def test_an_agents_invite_names_the_caller_the_ivr_recognised() -> None:
    call = Call(id="c1", direction=CallDirection.INBOUND, caller="+79123456789", dialled="311")
    assert caller_headers(call) == {}  # nobody recognised: the client looks the number up
    name = "\u0412\u0435\u0440\u0430"  # Cyrillic: SIP header values are UTF-8
    call.variables.update(contact_id="ct-7", contact_name=f"{name}\r\nVia: evil", vip="yes")
    said = caller_headers(call)  # no line breaks: nothing is smuggled into the INVITE
    assert said == {"X-Callisto-Contact": "ct-7", "X-Callisto-Caller-Name": f"{name}Via: evil"}
