"""Pacing: how many more calls to dial now, so that agents wait little and an answered customer almost
never finds no agent. Pure: the caller gives what it sees (a ``Floor``) and what it has learnt
(``Learning``); nothing here reads a clock or does I/O.

The model (README.md, "Pacing"):

- A call in flight is answered with probability ``p`` (an exponentially weighted mean of recent
  outcomes) after a time to answer drawn from the recent answers (an empirical distribution ``S``);
  a call ringing for ``e`` seconds is answered within ``τ`` more with
  ``p·(S(e) - S(e+τ)) / (p·S(e) + 1 - p)``.
- An agent talking for ``e`` seconds is free within ``τ`` with ``(F(e+τ-w) - F(e)) / (1 - F(e))``
  (``F`` the recent talk times, ``w`` the mean wrap-up); an agent in wrap-up when its time is up; a
  ready agent at once; one talking longer than every talk time seen is free with an exponential tail
  of the mean talk time.
- A new call, answered at ``τ`` (three quartiles of the time to answer, averaged), is abandoned when
  the customers before it (those waiting now, the calls in flight answered by then, the calls dialled
  before it in this decision) leave no agent free by ``τ`` plus the grace (2 s). Answers and frees are
  independent Bernoulli variables; their difference is summed exactly for a few of them and by a
  normal approximation (with continuity correction) beyond.
- Calls are added one at a time while the new call's chance of being abandoned, if answered, stays at
  or under ``θ``. Every call dialled had that chance at most ``θ``, so the expected abandon rate (of
  answered calls) is at most ``θ``, and in practice well under it. ``θ`` spends the abandon budget:
  with ``spent`` the higher of the policy window's rate and today's (each starting from 50 answered
  calls at half the limit), ``θ = limit * (1 + gain * (aim * limit - spent) / limit)``, between 0 and
  ``reach * limit``: the limit itself at half of it spent, more below, nothing from 70 % of it up.
- With fewer than ``min_agents`` agents or too little learnt: progressive, one call per ready agent.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

QUARTILES = (0.25, 0.5, 0.75)
EXACT_UP_TO = 24  # uncertain terms summed exactly; more: the normal approximation


class Mode(StrEnum):
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class Distribution:
    """The last ``size`` observations, kept sorted: P(X ≤ x) and quantiles by bisection."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._arrival: deque[float] = deque()
        self._sorted: list[float] = []
        self.total = 0.0

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, value: float) -> None:
        self._arrival.append(value)
        insort(self._sorted, value)
        self.total += value
        if len(self._arrival) > self.size:
            old = self._arrival.popleft()
            del self._sorted[bisect_right(self._sorted, old) - 1]
            self.total -= old

    def cdf(self, x: float) -> float:
        return bisect_right(self._sorted, x) / len(self._sorted) if self._sorted else 0.0

    def quantile(self, q: float) -> float:
        return self._sorted[min(len(self._sorted) - 1, int(q * len(self._sorted)))] if self._sorted else 0.0

    def mean(self) -> float:
        return self.total / len(self._sorted) if self._sorted else 0.0


@dataclass
class Learning:
    """What live data says: the answer rate, times to answer, talk times, wrap-up."""

    answer_rate: float = 0.3
    outcomes: int = 0
    memory: int = 40  # outcomes: the answer rate's weighted mean forgets with this horizon
    to_answer: Distribution = field(default_factory=lambda: Distribution(300))
    talk: Distribution = field(default_factory=lambda: Distribution(300))
    wrap_s: float = 0.0
    handled: int = 0

    def outcome(self, answered: bool, to_answer_s: float | None = None) -> None:
        """A dialled call's end of ringing: answered (after ``to_answer_s``) or not."""
        self.outcomes += 1
        weight = max(1.0 / self.memory, 1.0 / self.outcomes)
        self.answer_rate += weight * ((1.0 if answered else 0.0) - self.answer_rate)
        if answered and to_answer_s is not None:
            self.to_answer.add(to_answer_s)

    def enough(self, outcomes: int) -> bool:
        """Enough to predict: ``outcomes`` ends of ringing, a tenth as many answers and talk times."""
        least = max(10, outcomes // 5)
        return self.outcomes >= outcomes and len(self.to_answer) >= least and len(self.talk) >= least

    def call_handled(self, talk_s: float, wrap_s: float) -> None:
        self.handled += 1
        self.talk.add(talk_s)
        self.wrap_s += max(1.0 / 50, 1.0 / self.handled) * (wrap_s - self.wrap_s)


@dataclass(frozen=True)
class Floor:
    """What the campaign's floor looks like now."""

    ready: int  # agents ready, nobody on the line
    talking: Sequence[float] = ()  # each talking agent: seconds into the call
    wrapping: Sequence[float] = ()  # each agent in wrap-up: seconds left (estimated)
    ringing: Sequence[float] = ()  # each call in flight: seconds since it was dialled
    waiting: int = 0  # answered customers waiting for an agent now

    @property
    def agents(self) -> int:
        return self.ready + len(self.talking) + len(self.wrapping)


@dataclass(frozen=True)
class Budget:
    """Abandons spent: over the policy's window and today (answered = live-answered calls)."""

    answered: int = 0
    abandoned: int = 0
    answered_today: int = 0
    abandoned_today: int = 0


@dataclass(frozen=True)
class Decision:
    calls: int
    mode: Mode
    theta: float = 0.0  # the abandon chance a new call was allowed
    risk: float = 0.0  # the abandon chance of the last call dialled


@dataclass(frozen=True)
class Pacing:
    limit: float = 0.03  # abandoned ÷ live-answered, the policy's
    aim: float = 0.5  # the abandon rate aimed at, as a share of the limit
    gain: float = 5.0  # how fast θ moves with the rate spent against the aim
    reach: float = 4.0  # θ at most this many times the limit (little spent)
    grace_s: float = 2.0  # an answered customer waits this long for an agent, then hears the message
    no_answer_s: float = 25.0
    min_agents: int = 5
    min_outcomes: int = 50
    max_ratio: float = 4.0  # never more calls in flight than this many per agent
    prior_answered: int = 50  # a day starts as if this many calls were answered at half the limit

    def theta(self, budget: Budget) -> float:
        prior_abandoned = self.prior_answered * self.limit / 2
        spent = max(
            (budget.abandoned + prior_abandoned) / (budget.answered + self.prior_answered),
            (budget.abandoned_today + prior_abandoned) / (budget.answered_today + self.prior_answered),
        )
        share = 1.0 + self.gain * (self.aim * self.limit - spent) / self.limit
        return self.limit * max(0.0, min(self.reach, share))

    def decide(self, floor: Floor, learnt: Learning, budget: Budget) -> Decision:
        agents = floor.agents
        if agents < self.min_agents or not learnt.enough(self.min_outcomes):
            return Decision(max(0, floor.ready - len(floor.ringing) - floor.waiting), Mode.PROGRESSIVE)
        theta = self.theta(budget)
        room = int(agents * self.max_ratio) - len(floor.ringing)
        if room <= 0:
            return Decision(0, Mode.PREDICTIVE, theta)
        horizons = [_Horizon(self, floor, learnt, learnt.to_answer.quantile(q)) for q in QUARTILES]
        calls, risk = 0, 0.0
        while calls < room:
            chance = sum(h.abandon_chance() for h in horizons) / len(horizons)
            if chance > theta + 1e-9:
                break
            calls, risk = calls + 1, chance
            for h in horizons:
                h.add_new_call()
        return Decision(calls, Mode.PREDICTIVE, theta, risk)


class _Horizon:
    """Demand (answers) against supply (free agents) by the time a new call is answered ``tau`` from
    now: D = answers before it - agents free by tau + grace. The new call is abandoned when D ≥ 0."""

    def __init__(self, pacing: Pacing, floor: Floor, learnt: Learning, tau: float) -> None:
        p = learnt.answer_rate
        by = tau + pacing.grace_s
        fixed = floor.waiting - floor.ready - sum(1 for left in floor.wrapping if left <= by)
        terms: list[float] = []  # +Bernoulli(x) for an answer, -Bernoulli(x) as a negative entry
        survive = learnt.to_answer
        for e in floor.ringing:
            if e >= pacing.no_answer_s:
                continue
            s_e = 1.0 - survive.cdf(e)
            s_end = 1.0 - survive.cdf(e + tau)
            still = p * s_e + (1.0 - p)
            if still > 0:
                _add(terms, p * (s_e - s_end) / still)
        talk, w = learnt.talk, learnt.wrap_s
        tail = talk.mean() or 1.0
        for e in floor.talking:
            f_e = talk.cdf(e)
            if f_e >= 1.0:  # longer than every talk time seen: a tail without memory, of the mean's length
                _add(terms, -(1.0 - math.exp(-max(0.0, by - w) / tail)))
                continue
            _add(terms, -max(0.0, talk.cdf(e + by - w) - f_e) / (1.0 - f_e))
        self.fixed = fixed
        self.new_call = p * survive.cdf(tau)  # a call dialled now, answered before this one
        self.exact = len(terms) <= EXACT_UP_TO
        if self.exact:
            self.offset, self.pmf = _pmf(terms)
        else:
            self.mean = sum(terms)
            self.variance = sum(abs(x) * (1.0 - abs(x)) for x in terms)

    def add_new_call(self) -> None:
        x = self.new_call
        if self.exact and len(self.pmf) > EXACT_UP_TO:  # many calls added: the approximation from here
            self.mean = sum((self.offset + i) * q for i, q in enumerate(self.pmf))
            self.variance = sum((self.offset + i - self.mean) ** 2 * q for i, q in enumerate(self.pmf))
            self.exact = False
        if self.exact:
            self.pmf = _convolve(self.pmf, x)
        else:
            self.mean += x
            self.variance += x * (1.0 - x)

    def abandon_chance(self) -> float:
        if self.exact:  # P(fixed + offset + i ≥ 0)
            first = max(0, -(self.fixed + self.offset))
            return sum(self.pmf[first:])
        mean = self.fixed + self.mean
        if self.variance <= 1e-12:
            return 1.0 if mean >= 0 else 0.0
        z = (-0.5 - mean) / math.sqrt(self.variance)
        return 0.5 * math.erfc(z / math.sqrt(2.0))


def _add(terms: list[float], x: float) -> None:
    if abs(x) > 1e-9:
        terms.append(max(-1.0, min(1.0, x)))


def _pmf(terms: list[float]) -> tuple[int, list[float]]:
    """The distribution of Σ ±Bernoulli(|x|) as (lowest value, probabilities from it up)."""
    offset = 0
    pmf = [1.0]
    for x in terms:
        if x >= 0:
            pmf = _convolve(pmf, x)
        else:
            offset -= 1
            pmf = _convolve(pmf, 1.0 + x)  # -B(q) = (1 - B(q)) - 1: shift down, add B(1 - q)
    return offset, pmf


def _convolve(pmf: list[float], x: float) -> list[float]:
    out = [v * (1.0 - x) for v in pmf]
    out.append(0.0)
    for i, v in enumerate(pmf):
        out[i + 1] += v * x
    return out
