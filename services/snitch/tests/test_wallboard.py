"""The wallboard and the reports page in headless Chromium (Debian's, driven by Playwright): live
figures with their colours, "unreachable since" within 3 s when NATS or snitch itself goes away, and
recovery without anyone touching the screen. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from snitch_testing import a_morning, at, publisher, snitch, step

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.servers import NatsServer, RedisServer
from callisto_protocol.queues import QueueCallKind

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is installed by bootstrap"),
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
UNREACHABLE = re.compile(r"Contact center unreachable since \d\d:\d\d:\d\d")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def unreachable_within(page: Page, seconds: float) -> float:
    started = time.monotonic()
    await expect(page.locator("#status")).to_have_text(UNREACHABLE, timeout=seconds * 1000)
    return time.monotonic() - started


async def test_the_wallboard_live_then_unreachable_then_back(
    browser: Browser, private_nats: NatsServer, redis_server: RedisServer, postgres_database: str,
    token_issuer: TestIssuer,
) -> None:  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/8"
    port = free_port()
    async with publisher(private_nats.url) as bus:
        for event in a_morning():
            await bus.publish(event)
    page = await browser.new_page(viewport={"width": 1600, "height": 900})
    async with snitch(private_nats.url, redis_url, postgres_database, port=port) as (http, _, base):
        assert (await http.get("/wallboard", params={"lines": "nope"})).status_code == 404
        await page.goto(f"{base}/wallboard?lines=water,billing")
        water = page.locator('[data-line="water"]')
        await expect(water.locator('[data-kpi="waiting"] .value')).to_have_text("1")
        await expect(water.locator('[data-kpi="service_level"] .value')).to_have_text("33 %")
        await expect(water.locator('[data-kpi="service_level"]')).to_have_class(re.compile("red"))
        await expect(water.locator('[data-agents="on_call"] b')).to_have_text("1")
        await expect(page.locator('[data-line="billing"] h2')).to_contain_text("Billing line")
        # pushed every second: a new caller shows up without a reload
        async with publisher(private_nats.url) as bus:
            await bus.publish(step(QueueCallKind.ENQUEUED, "c9", 598))
        await expect(water.locator('[data-kpi="waiting"] .value')).to_have_text("2", timeout=3000)
        await expect(page.locator("#status")).to_be_hidden()
        await page.screenshot(path=str(ARTIFACTS / "wallboard.png"))

        # NATS goes away: snitch is up, its figures are not live any more
        await asyncio.to_thread(private_nats.stop)
        assert await unreachable_within(page, 3) < 3
        await page.screenshot(path=str(ARTIFACTS / "wallboard-unreachable.png"))
        await asyncio.to_thread(private_nats.start)
        await expect(page.locator("#status")).to_be_hidden(timeout=15000)

    # snitch itself goes away: the page notices the silence, then reconnects by itself
    assert await unreachable_within(page, 3) < 3
    async with snitch(private_nats.url, redis_url, postgres_database, port=port):
        await expect(page.locator("#status")).to_be_hidden(timeout=15000)
        await expect(page.locator('[data-line="water"] [data-kpi="waiting"] .value')).to_have_text("2")


async def test_the_reports_page_shows_a_chart_and_a_table(
    browser: Browser, private_nats: NatsServer, redis_server: RedisServer, postgres_database: str,
    token_issuer: TestIssuer,
) -> None:  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    token = token_issuer.token("snitch.reports.read")
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/9"
    async with snitch(private_nats.url, redis_url, postgres_database) as (http, _, base):
        async with publisher(private_nats.url) as bus:
            for event in a_morning():
                await bus.publish(event)
        span: dict[str, Any] = {
            "from": at(-1800).strftime("%Y-%m-%dT%H:%M"),
            "to": at(1800).strftime("%Y-%m-%dT%H:%M"),
        }
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(100):
            reply = await http.get(
                "/api/v1/reports/lines/water", params={**span, "interval": "15min"}, headers=headers
            )
            if sum(r["offered"] for r in reply.json()["rows"]) == 5:
                break
            await asyncio.sleep(0.2)
        page = await browser.new_page(viewport={"width": 1300, "height": 900})
        await page.add_init_script(f"sessionStorage.setItem('callisto-token', {token!r})")
        query = httpx.QueryParams(kind="lines", id="water", interval="15min", compare="week", **span)
        await page.goto(f"{base}/reports?{query}")
        await expect(page.locator("#chart svg .service-level")).to_have_count(1)
        await expect(page.locator("#rows tr")).to_have_count(len(reply.json()["rows"]) + 1)
        await page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        await page.fill("#token", "not-a-token")
        await page.click("button[type=submit]")
        await expect(page.locator("#error")).not_to_be_empty()
