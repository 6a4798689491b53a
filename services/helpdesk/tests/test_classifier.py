"""The ticket classifier: pure learning and scoring, then live against real PostgreSQL and NATS:
trained from the deployment's own resolved tickets, its held-out accuracy reported, confident
guesses routed, the rest left in triage as a suggestion; the trends view."""

from __future__ import annotations

import random
from typing import Any

from helpdesk_testing import helpdesk, ticket_when

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer
from callisto_helpdesk.classifier import evaluate, held_out, train, words

VOCABULARY = {
    "no-water": ["no water", "tap dry", "water stopped", "nothing from the tap", "water supply off"],
    "bill-amount": ["bill too high", "wrong amount", "overcharged", "invoice doubled", "charge disputed"],
    "password-reset": ["forgot password", "reset my password", "password expired", "cannot log in"],
    "printer": ["printer jammed", "printer offline", "cannot print", "toner empty", "paper jam"],
}
NOISE = ["since this morning", "please help", "at the office", "flat 12", "urgent", "again today", "call me"]


def corpus(n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        category = rng.choice(sorted(VOCABULARY))
        text = f"{rng.choice(VOCABULARY[category])} {rng.choice(NOISE)} {rng.choice(NOISE)}"
        rows.append((f"t-{i}", text, category))
    return rows


def test_words_in_any_script_without_stop_words() -> None:
    assert words("No water at the Office, since 6 o'clock!") == [
        "no", "water", "at", "office", "clock", "no water", "water at", "at office", "office clock"
    ]  # fmt: skip
    assert words("Нет воды в квартире 1204") == ["воды", "квартире", "1204", "воды квартире", "квартире 1204"]


def test_it_learns_scores_and_holds_out_a_fifth() -> None:
    samples = corpus(500)
    held = [s for s in samples if held_out(s[0])]
    assert 0.15 < len(held) / len(samples) < 0.25
    evaluation = evaluate(samples, threshold=0.9)
    assert evaluation.accuracy is not None and evaluation.accuracy > 0.95
    assert evaluation.routed_share is not None and evaluation.routed_share > 0.5
    model = train([(text, label) for _, text, label in samples])
    guess = model.suggest("the printer says paper jam")
    assert guess is not None and guess.category_id == "printer" and guess.confident
    assert model.suggest("zzz qqq") is None  # no word it knows: no guess
    vague = model.suggest("please help urgent")
    assert vague is None or not vague.confident


async def test_it_learns_from_resolved_tickets_and_routes_the_confident(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    admin = token_issuer.bearer("helpdesk.#")
    async with helpdesk(private_nats.url, postgres_database, classifier_min_samples=40) as (http, _, _):
        untrained = (await http.get("/api/v1/classifier", headers=admin)).json()
        assert untrained["active"] is False
        for _, text, category in corpus(160):  # every phrase several times in any four fifths
            body = {"subject": text, "category_id": category, "assignee": "agent-1"}
            opened = await http.post("/api/v1/tickets", json=body, headers=admin)
            tid = opened.json()["ticket_id"]
            resolved = await http.post(
                f"/api/v1/tickets/{tid}/actions", json={"action": "resolve"}, headers=admin
            )
            assert resolved.status_code == 200
        trained = (await http.post("/api/v1/classifier/retrain", headers=admin)).json()
        assert trained["trained"] is True and trained["active"] is True
        run: dict[str, Any] = trained["last_run"]
        # ticket ids are random, so which fifth is held out varies (with 80 tickets a phrase seen only
        # there was missed now and then: 0.72 once)
        assert run["samples"] == 160 and run["held_out"] > 15 and run["accuracy"] > 0.85

        routed = (await http.post("/api/v1/tickets", json={"subject": "Tap dry since this morning"},
                                  headers=admin)).json()  # fmt: skip
        assert (routed["category_id"], routed["department"]) == ("no-water", "water-network")
        assert routed["suggestion"]["routed"] is True and routed["suggestion"]["confidence"] >= 0.9
        measured = await ticket_when(http, routed["ticket_id"], admin, lambda t: bool(t["sla_policy_id"]))
        assert measured["sla_policy_id"] == "no-water"  # the engine looked at it, under its category's policy
        unsure = (await http.post("/api/v1/tickets", json={"subject": "Please help, urgent"},
                                  headers=admin)).json()  # fmt: skip
        assert unsure["category_id"] == "triage"
        assert unsure["suggestion"] is None or unsure["suggestion"]["routed"] is False
        mine = {"subject": "Printer jammed", "category_id": "it-other"}
        chosen = (await http.post("/api/v1/tickets", json=mine, headers=admin)).json()
        assert chosen["category_id"] == "it-other"  # an operator's choice stands
        tried = (
            await http.post("/api/v1/classifier/suggest", json={"text": "toner empty"}, headers=admin)
        ).json()
        assert tried["category_id"] == "printer"

        trends = (await http.get("/api/v1/trends", params={"period": "day", "top": 3}, headers=admin)).json()
        [today] = trends
        assert today["tickets"] == 163
        assert len(today["categories"]) == 3 and today["categories"][0]["tickets"] >= 40
        assert today["terms"] and today["terms"][0]["tickets"] >= 10
        assert today["sla_measured"] >= 1 and 0 <= today["sla_met"] <= 1  # the SLA engine measured them
        backwards = {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
        bad = await http.get("/api/v1/trends", params=backwards, headers=admin)
        assert bad.status_code == 400
        metrics = (await http.get("/metrics")).text
        assert 'callisto_helpdesk_classified_total{routed="true"}' in metrics
