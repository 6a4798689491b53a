"""The recording policy: the first rule that fits a call decides; a sampled share is decided by the
call's id alike everywhere and comes close to the share."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from callisto_call_manager.dialplan import DialPlan
from callisto_call_manager.recording_policy import RecordingPolicy, RecordingRule, sampled
from callisto_protocol.calls import CallDirection

pytestmark = pytest.mark.unit

IN, OUT = CallDirection.INBOUND, CallDirection.OUTBOUND
POLICY = RecordingPolicy(
    default="always",
    rules=[
        RecordingRule(mode="never", queues=["hr"]),
        RecordingRule(mode="always", campaigns=["debt-2026"]),
        RecordingRule(mode="sample", share=0.25, directions=[OUT]),
    ],
)


def test_the_first_rule_that_fits_decides_else_the_default() -> None:
    assert POLICY.records("c-1", "hr", None, IN) is False
    assert POLICY.records("c-1", "hr", "debt-2026", OUT) is False  # the queue's rule comes first
    assert POLICY.records("c-1", "billing", "debt-2026", OUT) is True
    assert POLICY.records("c-1", "billing", None, IN) is True  # no rule fits: the default
    assert RecordingPolicy().records("c-1", "billing", None, IN) is False


def test_a_sampled_share_is_the_same_for_a_call_everywhere_and_near_the_share() -> None:
    ids = [f"call-{n}" for n in range(4000)]
    chosen = [i for i in ids if POLICY.records(i, None, None, OUT)]
    assert len(chosen) / len(ids) == pytest.approx(0.25, abs=0.03)
    assert chosen == [i for i in ids if POLICY.records(i, "billing", None, OUT)]
    assert all(0 <= sampled(i) < 1 for i in ids[:100])


def test_the_dial_plan_carries_the_policy_and_refuses_a_wrong_one() -> None:
    plan = DialPlan.model_validate(
        {"recording": {"default": "never", "rules": [{"queues": ["emergencies"], "mode": "always"}]}}
    )
    assert plan.recording is not None and plan.recording.records("c", "emergencies", None, IN)
    with pytest.raises(ValidationError, match="share"):
        DialPlan.model_validate({"recording": {"rules": [{"mode": "sample", "share": 1.5}]}})
    with pytest.raises(ValidationError, match="mode"):
        DialPlan.model_validate({"recording": {"rules": [{"mode": "sometimes"}]}})
