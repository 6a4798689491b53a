"""A text classifier for tickets: multinomial naive Bayes over words and word pairs (any script),
trained on resolved tickets' subjects and descriptions with their final categories. Pure.

Scoring keeps, per word, only the classes it was seen in: a ticket of 30 words over 60 categories
costs a few hundred additions, well under a millisecond. The confidence is the posterior of the
best class; it routes a ticket on its own only at or above the threshold.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

WORD = re.compile(r"[^\W\d_]{2,}|\d{3,}")
ENGLISH_STOPWORDS = (
    "the and for with from that this have has not are was were you your our out but all can will there "
    "their they them what when which who how its into since please hello thanks thank dear"
)
RUSSIAN_STOPWORDS = (
    "и в во не на что с со как а то по из за от у к о же бы ли для до мы вы они он она это уже нет "  # noqa: RUF001
    "здравствуйте пожалуйста спасибо"
)
STOPWORDS = frozenset(f"{ENGLISH_STOPWORDS} {RUSSIAN_STOPWORDS}".split())
ALPHA = 0.5


def words(text: str) -> list[str]:
    """Lower-case words without stop words, then the pairs of neighbours."""
    found = [w for w in WORD.findall(text.lower()) if w not in STOPWORDS]
    return found + [f"{a} {b}" for a, b in pairwise(found)]


@dataclass(frozen=True)
class Suggestion:
    category_id: str
    confidence: float
    threshold: float
    alternatives: tuple[tuple[str, float], ...] = ()

    @property
    def confident(self) -> bool:
        return self.confidence >= self.threshold

    def shown(self, routed: bool) -> dict[str, Any]:
        return {
            "category_id": self.category_id, "confidence": round(self.confidence, 3), "routed": routed,
            "alternatives": [{"category_id": c, "confidence": round(p, 3)} for c, p in self.alternatives],
        }  # fmt: skip


@dataclass
class Model:
    classes: list[str]
    prior: list[float]
    unseen: list[float]  # log P(word | class) of a word never seen in the class
    seen: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # word -> (class, gain)
    threshold: float = 0.9

    def scores(self, text: str) -> list[float]:
        tokens = [t for t in words(text) if t in self.seen]
        score = [p + len(tokens) * u for p, u in zip(self.prior, self.unseen, strict=True)]
        for token in tokens:
            for index, gain in self.seen[token]:
                score[index] += gain
        return score

    def suggest(self, text: str) -> Suggestion | None:
        """The best category with its posterior; None when the text has no word the model knows."""
        if not any(t in self.seen for t in words(text)):
            return None
        score = self.scores(text)
        top = max(score)
        weights = [math.exp(s - top) for s in score]
        total = sum(weights)
        ranked = sorted(range(len(score)), key=score.__getitem__, reverse=True)[:3]
        best = ranked[0]
        return Suggestion(
            self.classes[best],
            weights[best] / total,
            self.threshold,
            tuple((self.classes[i], weights[i] / total) for i in ranked[1:]),
        )


def train(samples: Iterable[tuple[str, str]], threshold: float = 0.9) -> Model:
    """``samples``: (text, category). Laplace-smoothed counts; priors from the class frequencies."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    documents: Counter[str] = Counter()
    for text, label in samples:
        counts[label].update(words(text))
        documents[label] += 1
    classes = sorted(counts)
    if not classes:
        raise ValueError("no samples to learn from")
    vocabulary = set().union(*counts.values())
    size = len(vocabulary)
    total_documents = sum(documents.values())
    prior = [math.log(documents[c] / total_documents) for c in classes]
    totals = [sum(counts[c].values()) + ALPHA * size for c in classes]
    unseen = [math.log(ALPHA / t) for t in totals]
    seen: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for index, label in enumerate(classes):
        for token, n in counts[label].items():
            seen[token].append((index, math.log((n + ALPHA) / totals[index]) - unseen[index]))
    return Model(classes, prior, unseen, dict(seen), threshold)


def held_out(key: str, share: int = 5) -> bool:
    """One sample in ``share`` is kept out of training to measure the model (stable by key)."""
    return zlib.crc32(key.encode()) % share == 0


@dataclass(frozen=True)
class Evaluation:
    samples: int
    held_out: int
    accuracy: float | None  # of the best guess on the held-out samples
    routed_share: float | None  # of held-out samples at or above the threshold
    routed_accuracy: float | None  # of those


def evaluate(samples: Sequence[tuple[str, str, str]], threshold: float) -> Evaluation:
    """Train on the samples not held out ((key, text, category)), measure on the rest."""
    learn = [(text, label) for key, text, label in samples if not held_out(key)]
    test = [(text, label) for key, text, label in samples if held_out(key)]
    if not learn or not test:
        return Evaluation(len(samples), len(test), None, None, None)
    model = train(learn, threshold)
    right = routed = routed_right = 0
    for text, label in test:
        guess = model.suggest(text)
        hit = guess is not None and guess.category_id == label
        right += hit
        if guess is not None and guess.confident:
            routed += 1
            routed_right += hit
    return Evaluation(
        len(samples),
        len(test),
        right / len(test),
        routed / len(test),
        routed_right / routed if routed else None,
    )
