"""A discrete-event simulation of an outbound campaign's floor, for bench/dialer.py: customers answer
with a given rate after a log-normal time to answer (mean 12 s) or ring out at 25 s, talk a log-normal
150 s, agents wrap up 20 s; an answered customer who finds no agent within 2 s is abandoned (hears the
message). Three pacers on the same seeds: Callisto's (callisto_dialer.pacing), progressive (one call
per ready agent) and a VICIdial-style adaptive dial level (a ratio of lines per ready agent, moved every
15 s by the drop rate since midnight)."""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from callisto_dialer.pacing import Budget, Decision, Floor, Learning, Mode, Pacing

TALK_MEAN_S, TALK_SIGMA = 150.0, 0.6
ANSWER_MEAN_S, ANSWER_SIGMA = 12.0, 0.4
WRAP_S = 20.0
NO_ANSWER_S = 25.0
GRACE_S = 2.0
DAY_S = 8 * 3600.0
TICK_S = 1.0


def lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


@dataclass
class Agent:
    state: str = "ready"  # ready, talking, wrapping, away
    since: float = 0.0
    talk_s: float = 0.0
    leaving: bool = False


@dataclass
class Day:
    answered: int = 0
    abandoned: int = 0
    dialled: int = 0
    talk_s: float = 0.0
    busy_s: float = 0.0
    logged_s: float = 0.0
    bins: dict[int, list[int]] = field(default_factory=dict)  # 10-s bin: [answered, abandoned]

    @property
    def abandon_pct(self) -> float:
        return 100.0 * self.abandoned / self.answered if self.answered else 0.0

    @property
    def talk_min_per_hour(self) -> float:
        return (self.talk_s / 60) / (self.logged_s / 3600) if self.logged_s else 0.0

    @property
    def occupancy(self) -> float:
        return self.busy_s / self.logged_s if self.logged_s else 0.0


Pacer = Callable[["Floor", "Learning", "Budget", "Campaign"], Decision]


class Campaign:
    """One pacer's campaign over days: what it learnt and the abandons of its window carry over."""

    def __init__(self, pacer: str, seed: int, limit_window_days: int = 30) -> None:
        self.pacer = pacer
        self.pacing = Pacing()
        self.learning = Learning()
        self.history: deque[tuple[int, int]] = deque(maxlen=limit_window_days - 1)  # past days' counts
        self.seed = seed
        self.level = 1.0  # the adaptive ratio's dial level
        self.decisions = 0

    def decide(self, floor: Floor, today: Day) -> Decision:
        self.decisions += 1
        if self.pacer == "progressive":
            return Decision(max(0, floor.ready - len(floor.ringing) - floor.waiting), Mode.PROGRESSIVE)
        if self.pacer == "vici":
            return Decision(max(0, round(self.level * floor.ready) - len(floor.ringing)), Mode.PREDICTIVE)
        past_answered = sum(a for a, _ in self.history)
        past_abandoned = sum(b for _, b in self.history)
        budget = Budget(
            answered=past_answered + today.answered, abandoned=past_abandoned + today.abandoned,
            answered_today=today.answered, abandoned_today=today.abandoned,
        )  # fmt: skip
        return self.pacing.decide(floor, self.learning, budget)

    def adapt(self, floor: Floor, today: Day) -> None:
        """VICIdial's adaptive mode, in spirit: drops since midnight against the target, agents waiting."""
        drop = today.abandoned / today.answered if today.answered else 0.0
        if drop > self.pacing.limit:
            self.level = max(1.0, self.level - 0.3)
        elif drop > 0.8 * self.pacing.limit:
            self.level = max(1.0, self.level - 0.05)
        elif floor.ready > 0:
            self.level = min(5.0, self.level + 0.1)


def simulate_day(
    campaign: Campaign, agents: int, day: int, answer_rate: float | Callable[[float], float] = 0.3,
    length_s: float = DAY_S, breaks: bool = True,
) -> Day:  # fmt: skip
    """One day of the campaign with ``agents`` agents (a quarter away for an hour at midday when
    ``breaks``); ``answer_rate`` may change with the time of day (a step, for the recovery figure)."""
    rng = random.Random(campaign.seed * 100_003 + day)
    rate = answer_rate if callable(answer_rate) else (lambda _t, r=answer_rate: r)
    team = [Agent() for _ in range(agents)]
    today = Day()
    events: list[tuple[float, int, str, int]] = []
    seq = 0

    def at(t: float, kind: str, who: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, who))

    ringing: dict[int, float] = {}
    waiting: deque[tuple[int, float]] = deque()
    answered_at: dict[int, float] = {}
    next_call = 0
    for t in range(0, int(length_s), int(TICK_S)):
        at(float(t), "tick", 0)
    if breaks and agents >= 4:
        away = agents // 4
        at(length_s / 2, "leave", away)
        at(length_s / 2 + 3600, "join", away)

    def account(agent: Agent, until: float) -> None:
        if agent.state in ("talking", "wrapping"):
            spent = max(0.0, until - agent.since)
            today.busy_s += spent
            if agent.state == "talking":
                today.talk_s += spent

    def bin_of(t: float) -> list[int]:
        return today.bins.setdefault(int(t // 10), [0, 0])

    def connect(i: int, t: float) -> None:
        agent = team[i]
        agent.state, agent.since = "talking", t
        agent.talk_s = lognormal(rng, TALK_MEAN_S, TALK_SIGMA)
        at(t + agent.talk_s, "talk_end", i)

    def free_agent() -> int | None:
        return next((i for i, a in enumerate(team) if a.state == "ready"), None)

    def floor(t: float) -> Floor:
        return Floor(
            ready=sum(1 for a in team if a.state == "ready"),
            talking=[t - a.since for a in team if a.state == "talking" and not a.leaving],
            wrapping=[a.since + WRAP_S - t for a in team if a.state == "wrapping" and not a.leaving],
            ringing=[t - d for d in ringing.values()],
            waiting=len(waiting),
        )

    def dial(t: float) -> None:
        nonlocal next_call
        if t >= length_s:
            return
        seen = floor(t)
        decision = campaign.decide(seen, today)
        for _ in range(decision.calls):
            call = next_call
            next_call += 1
            ringing[call] = t
            today.dialled += 1
            if rng.random() < rate(t):
                to_answer = min(NO_ANSWER_S - 0.5, lognormal(rng, ANSWER_MEAN_S, ANSWER_SIGMA))
                at(t + to_answer, "answer", call)
            else:
                at(t + NO_ANSWER_S, "noanswer", call)

    while events:
        t, _, kind, who = heapq.heappop(events)
        if t > length_s + 600:
            break
        if kind == "tick":
            if campaign.pacer == "vici" and int(t) % 15 == 0:
                campaign.adapt(floor(t), today)
            dial(t)
        elif kind == "answer":
            dialled = ringing.pop(who)
            campaign.learning.outcome(True, t - dialled)
            today.answered += 1
            bin_of(t)[0] += 1
            i = free_agent()
            if i is not None:
                connect(i, t)
            else:
                waiting.append((who, t))
                answered_at[who] = t
                at(t + GRACE_S, "abandon", who)
        elif kind == "noanswer":
            ringing.pop(who)
            campaign.learning.outcome(False)
            dial(t)
        elif kind == "abandon":
            if who in answered_at:
                del answered_at[who]
                waiting.remove(next(w for w in waiting if w[0] == who))
                today.abandoned += 1
                bin_of(t)[1] += 1
        elif kind == "talk_end":
            agent = team[who]
            account(agent, min(t, length_s))
            agent.state, agent.since = "wrapping", t
            at(t + WRAP_S, "wrap_end", who)
        elif kind == "wrap_end":
            agent = team[who]
            account(agent, min(t, length_s))
            campaign.learning.call_handled(agent.talk_s, WRAP_S)
            if agent.leaving:
                agent.state, agent.leaving = "away", False
                if t < length_s:
                    today.logged_s -= length_s - t  # not logged in from now (given back on joining)
                continue
            agent.state, agent.since = "ready", t
            if waiting:
                call, _ = waiting.popleft()
                del answered_at[call]
                connect(who, t)
            else:
                dial(t)
        elif kind == "leave":
            for agent in [a for a in team if a.state != "away"][:who]:
                if agent.state == "ready":
                    agent.state = "away"
                    today.logged_s -= length_s - t
                else:
                    agent.leaving = True
        elif kind == "join":
            for agent in [a for a in team if a.state == "away"][:who]:
                agent.state, agent.since = "ready", t
                today.logged_s += length_s - t
            dial(t)
    today.logged_s += agents * length_s
    for agent in team:  # calls still going at the day's end count up to it
        if agent.state in ("talking", "wrapping") and agent.since < length_s:
            account(agent, length_s)
    campaign.history.append((today.answered, today.abandoned))
    return today
