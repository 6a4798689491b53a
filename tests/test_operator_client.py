"""The operator client as people use it: the whole suite (`callisto up`), core-bus serving the built
client, Debian's Chromium. An operator signs in, starts their shift and goes ready and not ready
(queue-manager through core-bus's proxy, with the operator's own token); a supervisor's page sees
each change live through the gateway; a wrong password is refused; the Russian strings are there."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from suite_testing import running_suite

from callisto_devkit.browser import CHROMIUM_ARGS
from callisto_devkit.suite import SuiteState

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is installed by bootstrap"),
]
ARTIFACTS = Path(__file__).parent / "artifacts"
RUSSIAN = {"not ready": "Не готов", "sign out": "Выйти", "sign in": "Войти"}  # noqa: RUF001


@pytest.fixture(scope="module")
def suite() -> Iterator[SuiteState]:
    with running_suite("client") as (state, _):
        yield state


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def signed_in(browser: Browser, base: str, username: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(base + "/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill("callisto")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("who")).to_have_text(username)
    return page


async def test_an_operator_changes_state_and_a_supervisor_sees_it_live(
    suite: SuiteState, browser: Browser
) -> None:
    base = suite.urls["core-bus"]
    operator = await signed_in(browser, base, "operator1")
    supervisor = await signed_in(browser, base, "supervisor1")
    mine = operator.get_by_test_id("my-state")
    row = supervisor.get_by_test_id("agents").locator('tr[data-agent="agent-1"]')
    if "Logged out" in await mine.inner_text():
        await operator.get_by_role("button", name="Log in").click()
        await expect(mine).to_contain_text("Not ready")
    await operator.get_by_role("button", name="Ready", exact=True).click()
    await expect(mine).to_contain_text("Ready")
    await expect(row).to_contain_text("Ready")
    await operator.get_by_label("Reason").select_option("lunch")
    await operator.get_by_role("button", name="Not ready").click()
    await expect(mine).to_contain_text("Not ready")
    await expect(row).to_contain_text("Not ready (Lunch)")
    ARTIFACTS.mkdir(exist_ok=True)
    await operator.screenshot(path=ARTIFACTS / "operator-desk.png")
    await supervisor.screenshot(path=ARTIFACTS / "supervisor-view.png")
    await operator.get_by_label("language").select_option("ru")
    await expect(mine).to_contain_text(RUSSIAN["not ready"])
    await operator.get_by_role("button", name=RUSSIAN["sign out"]).click()
    await expect(operator.get_by_role("button", name=RUSSIAN["sign in"])).to_be_visible()


async def test_a_wrong_password_is_refused(suite: SuiteState, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(suite.urls["core-bus"] + "/")
    await page.get_by_label("User name").fill("operator1")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong user name or password")
