"""The classifier of this deployment: learnt from its own resolved tickets (their final category),
measured on a held-out fifth, retrained on a schedule; each training is a row of
``classifier_runs``. Until enough tickets are resolved there is no model and nothing is suggested."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from callisto_helpdesk.classifier import Evaluation, Model, Suggestion, evaluate, train
from callisto_helpdesk.metrics import HelpdeskMetrics
from callisto_runtime.database import Database

log = logging.getLogger(__name__)

LEARN_FROM = """
SELECT id, subject || E'\\n' || description AS text, category_id FROM tickets
WHERE state IN ('resolved', 'awaiting_confirmation', 'closed') AND category_id <> 'triage'
ORDER BY updated_at DESC LIMIT $1
"""


class Classification:
    def __init__(
        self,
        database: Database,
        metrics: HelpdeskMetrics,
        threshold: float,
        min_samples: int,
        max_samples: int = 100_000,
    ) -> None:
        self.db = database
        self.metrics = metrics
        self.threshold = threshold
        self.min_samples = min_samples
        self.max_samples = max_samples
        self.model: Model | None = None

    def suggest(self, text: str) -> Suggestion | None:
        found = self.model.suggest(text) if self.model is not None else None
        if found is not None:
            self.metrics.classified.labels(str(found.confident).lower()).inc()
        return found

    async def retrain(self) -> dict[str, Any]:
        """Learn again from the resolved tickets; the report of the run."""
        rows = await self.db.pool.fetch(LEARN_FROM, self.max_samples)
        samples = [(r["id"], r["text"], r["category_id"]) for r in rows]
        if len(samples) < self.min_samples or len({s[2] for s in samples}) < 2:
            return {"trained": False, "samples": len(samples), "min_samples": self.min_samples}
        # training is CPU work of a second or so at most: off the event loop
        evaluation, model = await asyncio.to_thread(self._fit, samples)
        self.model = model
        if evaluation.accuracy is not None:
            self.metrics.classifier_accuracy.set(evaluation.accuracy)
        await self.db.pool.execute(
            "INSERT INTO classifier_runs (samples, held_out, accuracy, classes, threshold, routed_accuracy,"
            " routed_share) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            evaluation.samples, evaluation.held_out, evaluation.accuracy, len(model.classes), self.threshold,
            evaluation.routed_accuracy, evaluation.routed_share,
        )  # fmt: skip
        log.info("classifier trained on %d tickets: held-out accuracy %s", len(samples), evaluation.accuracy)
        return {"trained": True, **(await self.report())}

    def _fit(self, samples: list[tuple[str, str, str]]) -> tuple[Evaluation, Model]:
        evaluation = evaluate(samples, self.threshold)
        return evaluation, train(((text, label) for _, text, label in samples), self.threshold)

    async def report(self) -> dict[str, Any]:
        row = await self.db.pool.fetchrow("SELECT * FROM classifier_runs ORDER BY id DESC LIMIT 1")
        last = dict(row) if row else None
        return {
            "active": self.model is not None,
            "threshold": self.threshold,
            "classes": len(self.model.classes) if self.model else 0,
            "last_run": last,
        }

    async def retrain_quietly(self) -> None:
        await self.retrain()
