"""Routing strategies: which of the ready agents who may take a call gets it. Pure functions over
candidates the ACD has already filtered (ready, qualified, not the ones who just missed this call);
every choice is deterministic but for ``random``, and ties fall to the agent id."""

from __future__ import annotations

import random
from collections.abc import Sequence

from callisto_queue_manager.model import Agent, QueueConfig, Strategy


class RoundRobin:
    """Remembers, per queue, the last agent given a call: the next one in id order follows it."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}

    def pick(self, queue_id: str, candidates: Sequence[Agent]) -> Agent:
        ordered = sorted(candidates, key=lambda a: a.id)
        last = self.last.get(queue_id)
        chosen = next((a for a in ordered if last is None or a.id > last), ordered[0])
        self.last[queue_id] = chosen.id
        return chosen


def fit(agent: Agent, queue: QueueConfig, extra: dict[str, int]) -> int:
    """How far the agent's levels exceed what the call needs (best fit prefers the highest)."""
    needed = {**queue.skills, **extra}
    return sum(agent.profile.skills.get(skill, 0) for skill in needed)


def choose(
    queue: QueueConfig,
    candidates: Sequence[Agent],
    extra_skills: dict[str, int],
    round_robin: RoundRobin,
    rng: random.Random,
) -> list[Agent]:
    """The agents to offer the call to: one, or every candidate for ring-all. ``candidates`` is not
    empty."""
    strategy = queue.strategy
    if strategy is Strategy.RING_ALL:
        return sorted(candidates, key=lambda a: a.id)
    if strategy is Strategy.ROUND_ROBIN:
        return [round_robin.pick(queue.id, candidates)]
    if strategy is Strategy.RANDOM:
        return [rng.choice(sorted(candidates, key=lambda a: a.id))]
    if strategy is Strategy.FEWEST_CALLS:
        return [min(candidates, key=lambda a: (a.calls_handled, a.idle_since, a.id))]
    if strategy is Strategy.BEST_FIT:
        return [min(candidates, key=lambda a: (-fit(a, queue, extra_skills), a.idle_since, a.id))]
    return [min(candidates, key=lambda a: (a.idle_since, a.id))]  # longest idle
