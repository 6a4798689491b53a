"""Desk benchmark: the ticket queue and its search with 100,000 tickets, and a year of 15-minute
buckets for a line of 20 queues in the report view, each measured in the browser (server + render).

    .venv/bin/python bench/desk.py [--tickets 100000] [--asks 40] [--calls-a-day 1500] [--days 364]

The whole suite as `make run` starts it (`callisto up`), snitch given a line of 20 queues
(``CALLISTO_SNITCH_DEFINITIONS_FILE``), and the built client in Debian's Chromium (headless).
helpdesk's ``tickets`` are filled with COPY: subjects and descriptions of a water utility's and an
IT desk's requests, every category of the tree, three quarters closed, the rest open in each state,
assigned among 20 agents or to nobody, created over a year, SLA standings and deadlines on the
open ones. snitch's history gets ``--calls-a-day`` calls a day for ``--days`` days spread over the
20 queues (entered, answered after a wait or abandoned, ended) and 20 agents' states (ready, on
call, wrap-up, not ready) for the same days, written with snitch's own statements (the queue log
and the summaries reports read).

In the page (supervisor1, who sees every ticket):
- list: a queue view's page (open tickets, most urgent first; pages 1 to 5 in turn, then other views
  and sorts): from the URL's hash changed to the frame after the table shows helpdesk's answer;
- search: words from the requests ("pressure", "invoice vpn" ...) on every ticket, some with a
  category or a state; the same measure;
- report: the line's year by 15 minutes (35,000 buckets, three charts): from the hash changed to
  the frame after the charts are drawn (data-ready); first and repeated views;
- bundle per route: the built client gzipped, what the desk's screens, the reports and the phone load.

Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from figures import percentile
from helpdesk import FILLER, PHRASES
from playwright.async_api import Page

from callisto_devkit.browser import chromium
from callisto_devkit.running import running_suite
from callisto_devkit.suite import SuiteState, repo_root
from callisto_snitch.history import END_STATES, INSERT_STATES, INSERT_STEPS, SUMMARISE_STEPS

GOALS = {"ticket_list_p95_ms": 150.0, "ticket_search_p95_ms": 150.0, "report_interactive_s": 1.0}
QUEUES = [f"q{n:02}" for n in range(1, 21)]
QUEUE_LIST = ",".join(QUEUES)
BATCH = 20_000
AGENTS = [f"agent-{n}" for n in range(1, 21)]
SEARCHES = ["pressure", "invoice", "vpn", "manhole cover", "meter", "brown water", "password",
            "printer jammed", "leak street", "payment not", "overcharged", "mailbox full",
            "sewer blocked", "flooding cellar"]  # fmt: skip
OPEN_STATES = ["new", "assigned", "in_progress", "pending", "resolved"]
# set the hash, wait until the element's data-<attribute> says a new answer is shown, then a frame
TIMED = """async ([hash, selector, attribute]) => {
  const seen = () => document.querySelector(selector)?.getAttribute(attribute) ?? null;
  const before = seen();
  const start = performance.now();
  location.hash = hash;
  await new Promise((resolve) => {
    const check = () => {
      const now = seen();
      if (now !== null && now !== before && now !== "") resolve(undefined); else requestAnimationFrame(check);
    };
    check();
  });
  await new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
  return performance.now() - start;
}"""


def bundle_per_route() -> dict[str, float]:
    """The built client gzipped (-9), by what a route loads: the desk's screens (tickets, contacts,
    settings) are in the main chunk; reports add the chart chunk; the phone its own."""
    assets = repo_root(Path(__file__).parent) / "clients" / "operator" / "dist" / "assets"
    sizes = {
        f.name: len(gzip.compress(f.read_bytes(), 9)) / 1024
        for f in assets.iterdir()
        if f.suffix in (".js", ".css")
    }
    main = sum(size for name, size in sizes.items() if name.startswith("index-"))
    chart = sum(size for name, size in sizes.items() if name.startswith("Chart-"))
    phone = sum(size for name, size in sizes.items() if name.startswith("phone-"))
    return {"bundle_desk_kb": round(main, 1), "bundle_reports_kb": round(main + chart, 1),
            "bundle_phone_kb": round(phone, 1)}  # fmt: skip


def definitions(folder: Path) -> Path:
    """The demo's KPI definitions with 20 more queues and a line of them."""
    demo = repo_root(Path(__file__).parent) / "services" / "snitch" / "src" / "callisto_snitch" / "kpi.yaml"
    data = yaml.safe_load(demo.read_text())
    data["queues"].update({q: {"name": f"Bench queue {q}"} for q in QUEUES})
    data["lines"]["bench"] = {"name": "Twenty queues", "queues": QUEUES}
    path = folder / "kpi.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def text(rng: random.Random, category: str) -> tuple[str, str]:
    phrases = PHRASES[category]
    subject = rng.choice(phrases).capitalize() + (f", {rng.choice(FILLER)}" if rng.random() < 0.5 else "")
    description = " ".join(rng.sample(phrases, k=min(2, len(phrases))) + rng.sample(FILLER, k=3))
    return subject[:200], description


async def seed_tickets(dsn: str, count: int, rng: random.Random) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "helpdesk"})
    try:
        for _ in range(300):  # helpdesk has seeded its category tree
            departments = dict(await conn.fetch("SELECT id, department FROM categories"))
            if len(departments) >= 50:
                break
            await asyncio.sleep(0.2)
        now = datetime.now(UTC)
        categories = sorted(PHRASES)
        rows = []
        for n in range(count):
            category = rng.choice(categories)
            subject, description = text(rng, category)
            created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            closed = rng.random() < 0.75
            state = "closed" if closed else rng.choice(OPEN_STATES)
            urgency, impact = rng.randint(1, 3), rng.randint(1, 3)
            assignee = None if state == "new" or rng.random() < 0.1 else rng.choice(AGENTS)
            standing = "ok" if closed else rng.choices(["ok", "warning", "breached"], [80, 10, 10])[0]
            due = None if closed or state in ("pending", "resolved") else created + timedelta(hours=48)
            rows.append((
                f"bench-{n}", subject, description, category, "phone", urgency, impact,
                min(5, urgency + impact - 1), state, departments.get(category, "triage"), assignee,
                "bench", created, created + timedelta(hours=rng.uniform(0, 72)),
                created + timedelta(days=2) if closed else None, standing, due, None,
            ))  # fmt: skip
        await conn.copy_records_to_table(
            "tickets", records=rows,
            columns=["id", "subject", "description", "category_id", "channel", "urgency", "impact",
                     "priority", "state", "department", "assignee", "created_by", "created_at",
                     "updated_at", "closed_at", "sla_standing", "resolution_due", "sla_check_at"],
        )  # fmt: skip
        await conn.execute("ANALYZE tickets")
    finally:
        await conn.close()


def log_row(
    at: datetime, queue: str, call: str, name: str, agent: str | None = None, waited: float = 0.0
) -> tuple[Any, ...]:
    """A queue log row as snitch writes it (message id, ..., priority, target, reason)."""
    return (uuid.uuid4().hex, at, queue, call, name, agent, waited, 0, None, None)


async def seed_history(dsn: str, days: int, calls_a_day: int, rng: random.Random) -> int:
    """A year of the 20 queues' calls and the agents' states in snitch's history; queue log rows."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "history"})
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    log: list[tuple[Any, ...]] = []
    states: list[tuple[Any, ...]] = []
    try:
        for day in range(days):
            midnight = start + timedelta(days=day)
            for _ in range(calls_a_day):
                at = midnight + timedelta(seconds=rng.triangular(6 * 3600, 22 * 3600, 11 * 3600))
                queue, call = rng.choice(QUEUES), uuid.uuid4().hex
                waited = rng.expovariate(1 / 25)
                log.append(log_row(at, queue, call, "enqueued"))
                if rng.random() < 0.92:
                    agent = rng.choice(AGENTS)
                    answered = at + timedelta(seconds=waited)
                    log.append(
                        (uuid.uuid4().hex, answered, queue, call, "answered", agent, waited, 0, None, None)
                    )
                    ended = answered + timedelta(seconds=rng.uniform(60, 400))
                else:
                    gave_up = at + timedelta(seconds=waited)
                    log.append(
                        (uuid.uuid4().hex, gave_up, queue, call, "abandoned", None, waited, 0, None, None)
                    )
                    ended = at + timedelta(seconds=waited)
                log.append(log_row(ended, queue, call, "ended"))
            for agent in AGENTS:
                moment, seq = midnight + timedelta(hours=8), day * 1000
                while moment < midnight + timedelta(hours=20):
                    state = rng.choices(["ready", "on_call", "wrap_up", "not_ready"], [30, 50, 15, 5])[0]
                    states.append((agent, seq, state, moment, None, None, QUEUE_LIST, uuid.uuid4().hex))
                    moment += timedelta(seconds=rng.uniform(30, 900))
                    seq += 1
                states.append((agent, seq, "logged_out", moment, None, None, QUEUE_LIST, uuid.uuid4().hex))
        for first in range(0, len(log), BATCH):  # snitch's own writes: the log and its summaries
            columns = [list(c) for c in zip(*log[first : first + BATCH], strict=True)]
            await conn.execute(INSERT_STEPS, *columns)
            await conn.execute(SUMMARISE_STEPS, *(columns[i] for i in (1, 2, 3, 4, 6, 9)))
        for first in range(0, len(states), BATCH):
            columns = [list(c) for c in zip(*states[first : first + BATCH], strict=True)]
            await conn.execute(INSERT_STATES, *columns)
            await conn.execute(END_STATES, *columns[:2])
        await conn.execute("ANALYZE queue_log; ANALYZE agent_states")
    finally:
        await conn.close()
    return len(log)


async def signed_in(page: Page, base: str) -> None:
    await page.goto(base + "/")
    await page.get_by_label("User name").fill("supervisor1")
    await page.get_by_label("Password").fill("callisto")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_test_id("who").get_by_text("supervisor1").wait_for()


async def timed(page: Page, hash_: str, selector: str, attribute: str) -> float:
    took: float = await page.evaluate(TIMED, [hash_, selector, attribute])
    return took


async def measure(state: SuiteState, args: argparse.Namespace, rng: random.Random) -> dict[str, float]:
    base = state.urls["core-bus"]
    with tempfile.TemporaryDirectory() as folder:
        async with chromium(Path(folder)) as browser:
            page = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
            await signed_in(page, base)
            tickets = '[data-testid="tickets"]'
            await timed(page, "#/tickets?view=open", tickets, "data-loads")  # the first, not counted
            lists, searches = [], []
            views = ["view=open&page={n}", "view=all&sort=newest&page={n}", "view=breaching&page={n}",
                     "view=unassigned&sort=due&page={n}", "view=team&page={n}"]  # fmt: skip
            for i in range(args.asks):
                query = views[i % len(views)].format(n=1 + (i // len(views)) % 5)
                lists.append(await timed(page, f"#/tickets?{query}", tickets, "data-loads"))
            for i in range(args.asks):
                words = SEARCHES[i % len(SEARCHES)].replace(" ", "+")
                extra = ["", "&category=water", "&state=closed", "&priority=3"][i % 4]
                searches.append(
                    await timed(page, f"#/tickets?view=all&q={words}{extra}", tickets, "data-loads")
                )
            today = datetime.now(UTC).date()
            first = today - timedelta(days=args.days - 1)
            reports = []
            for n in range(3):  # a year by 15 minutes; the hash differs each time (hidden series)
                hide = ["", "handled", "occupancy"][n]
                query = f"kind=lines&id=bench&from={first}&to={today}&interval=15min&compare=none&hide={hide}"
                await page.goto(f"{base}/#/")
                await page.get_by_test_id("who").wait_for()
                reports.append(
                    await timed(page, f"#/reports?{query}", '[data-testid="reports"]', "data-ready")
                )
    p95 = lambda values: round(percentile(values, 95), 1)  # noqa: E731
    print(f"ticket list ({args.tickets:,}): p50 {percentile(lists, 50):.1f} ms, p95 {p95(lists)} ms")
    print(f"ticket search: p50 {percentile(searches, 50):.1f} ms, p95 {p95(searches)} ms")
    each = ", ".join(f"{r / 1000:.2f} s" for r in reports)
    print(f"report, a year by 15 min, 20 queues, to interactive: {each}")
    return {
        "ticket_list_p95_ms": p95(lists), "ticket_search_p95_ms": p95(searches),
        "report_interactive_s": round(sorted(reports)[1] / 1000, 2),
        "report_first_s": round(reports[0] / 1000, 2),
    }  # fmt: skip


async def api_figures(state: SuiteState, args: argparse.Namespace) -> dict[str, float]:
    """The same asks straight to helpdesk and snitch (server only), for the split."""
    async with httpx.AsyncClient(timeout=60) as http:
        login = await http.post(
            f"{state.urls['auth']}/api/v1/token", json={"username": "supervisor1", "password": "callisto"}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        took = []
        for i in range(args.asks):
            started = time.perf_counter()
            reply = await http.get(
                f"{state.urls['helpdesk']}/api/v1/tickets",
                params={"q": SEARCHES[i % len(SEARCHES)], "limit": 50}, headers=headers,
            )  # fmt: skip
            reply.raise_for_status()
            took.append((time.perf_counter() - started) * 1000)
        today = datetime.now(UTC).date()
        span = {"from": f"{today - timedelta(days=args.days - 1)}T00:00:00",
                "to": f"{today + timedelta(days=1)}T00:00:00", "interval": "15min"}  # fmt: skip
        started = time.perf_counter()
        report = await http.get(
            f"{state.urls['snitch']}/api/v1/reports/lines/bench", params=span, headers=headers
        )
        report.raise_for_status()
        report_s = time.perf_counter() - started
    print(f"server only: search p95 {percentile(took, 95):.1f} ms; the year's report {report_s:.2f} s, "
          f"{len(report.content) / 1e6:.1f} MB, {len(report.json()['rows']):,} buckets")  # fmt: skip
    return {"server_search_p95_ms": round(percentile(took, 95), 1), "server_report_s": round(report_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--asks", type=int, default=40)
    parser.add_argument("--calls-a-day", type=int, default=1500)
    parser.add_argument("--days", type=int, default=364)
    args = parser.parse_args()
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLISTO_SNITCH_DEFINITIONS_FILE"] = str(definitions(Path(folder)))
        with running_suite("desk") as (state, _):
            started = time.perf_counter()
            asyncio.run(seed_tickets(state.urls["postgres"], args.tickets, rng))
            rows = asyncio.run(seed_history(state.urls["postgres"], args.days, args.calls_a_day, rng))
            took = time.perf_counter() - started
            print(f"seeded {args.tickets:,} tickets and {rows:,} queue log rows in {took:.0f} s")
            server = asyncio.run(api_figures(state, args))
            figures = asyncio.run(measure(state, args, rng))
    bundles = bundle_per_route()
    desk, reports, phone = bundles.values()
    print(f"bundle (gzip): desk screens {desk} KB, with reports {reports} KB, the phone's chunk {phone} KB")
    print(json.dumps({**figures, **server, **bundles, **{f"goal_{k}": v for k, v in GOALS.items()}}))


if __name__ == "__main__":
    main()
