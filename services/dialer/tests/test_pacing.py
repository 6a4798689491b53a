"""Pacing as pure logic: progressive while it knows too little or the team is small, predictive
over-dialling that shrinks with customers waiting and stops at the abandon budget, the exact sum and
its normal approximation agreeing."""

from __future__ import annotations

import random

import pytest

from callisto_dialer import pacing as pacing_module
from callisto_dialer.pacing import Budget, Floor, Learning, Mode, Pacing, _Horizon

pytestmark = pytest.mark.unit


def learnt(answer_rate: float = 0.3, seed: int = 1) -> Learning:
    """What a morning teaches: 200 outcomes, times to answer about 12 s, talk about 150 s."""
    rng = random.Random(seed)
    learning = Learning()
    for _ in range(200):
        answered = rng.random() < answer_rate
        learning.outcome(answered, rng.uniform(6, 20) if answered else None)
    for _ in range(100):
        learning.call_handled(rng.lognormvariate(4.8, 0.6), 20)
    return learning


def test_few_agents_or_little_learnt_is_progressive() -> None:
    pacing = Pacing()
    small = pacing.decide(Floor(ready=3, talking=[30.0], ringing=[4.0]), learnt(), Budget())
    assert (small.mode, small.calls) == (Mode.PROGRESSIVE, 2)  # one call per ready agent, one rings
    fresh = pacing.decide(Floor(ready=10), Learning(), Budget())
    assert (fresh.mode, fresh.calls) == (Mode.PROGRESSIVE, 10)
    waiting = pacing.decide(Floor(ready=3, talking=[30.0] * 3, waiting=2), learnt(), Budget())
    assert waiting.calls == 1  # two of the ready agents are taken by customers waiting


def test_predictive_dials_more_than_ready_agents_and_less_with_customers_waiting() -> None:
    pacing = Pacing()
    knows = learnt()
    idle = pacing.decide(Floor(ready=10, talking=[60.0] * 10), knows, Budget())
    assert idle.mode is Mode.PREDICTIVE and idle.calls > 10  # 30 % answer: more calls than agents
    assert idle.risk <= idle.theta
    busy = pacing.decide(Floor(ready=10, talking=[60.0] * 10, waiting=4), knows, Budget())
    assert busy.calls < idle.calls
    ringing = pacing.decide(Floor(ready=10, talking=[60.0] * 10, ringing=[3.0] * 20), knows, Budget())
    assert ringing.calls < idle.calls
    richer = pacing.decide(Floor(ready=10, talking=[60.0] * 10), learnt(0.6), Budget())
    assert richer.calls < idle.calls  # customers answer more: fewer calls for the same agents


def test_a_spent_budget_allows_no_risk_and_little_spent_allows_more() -> None:
    pacing = Pacing()
    knows = learnt()
    floor = Floor(ready=10, talking=[60.0] * 10)
    spent = Budget(answered=1000, abandoned=35, answered_today=400, abandoned_today=14)
    stopped = pacing.decide(floor, knows, spent)
    assert stopped.theta == 0.0 and stopped.calls == 10  # exactly the ready agents: nobody can be abandoned
    assert (
        pacing.decide(floor, knows, Budget(answered=1000, answered_today=400)).calls
        > pacing.decide(
            floor, knows, Budget(answered=1000, abandoned=20, answered_today=400, abandoned_today=8)
        ).calls
    )
    yesterday_bad = Budget(answered=1000, abandoned=40, answered_today=0, abandoned_today=0)
    assert pacing.theta(yesterday_bad) == 0.0  # the policy's window counts, not only today


def test_the_exact_sum_and_the_normal_approximation_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    pacing = Pacing()
    knows = learnt()
    rng = random.Random(3)
    talking = [rng.uniform(0, 200) for _ in range(12)]
    floor = Floor(ready=2, talking=talking, ringing=[rng.uniform(0, 20) for _ in range(12)])
    exact = _Horizon(pacing, floor, knows, 12.0)
    monkeypatch.setattr(pacing_module, "EXACT_UP_TO", 0)
    approximate = _Horizon(pacing, floor, knows, 12.0)
    assert exact.exact and not approximate.exact
    for _ in range(8):
        assert abs(exact.abandon_chance() - approximate.abandon_chance()) < 0.05
        exact.add_new_call()
        approximate.add_new_call()
