"""The operator client as people use it: the whole suite (`callisto up`), core-bus serving the built
client, Debian's Chromium. An operator signs in, starts their shift and goes ready and not ready
(queue-manager through core-bus's proxy, with the operator's own token); a supervisor's page sees
each change live through the gateway; a wrong password is refused; the Russian strings are there.
The page's phone registers with the person's access token; a trunk call (sipp, through the IVR and
the queue) rings in the operator's page with the caller's card popped up, is answered there (Alt+A),
held and resumed (the supervisor's page follows), and hung up by the operator (Alt+H)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from suite_testing import running_suite

from callisto_devkit.browser import chromium
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.sipp import scenario, start_sipp
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
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with chromium(tmp_path) as launched:
        yield launched


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


async def test_an_operator_answers_a_call_in_the_page(
    suite: SuiteState, browser: Browser, tmp_path: Path
) -> None:
    base = suite.urls["core-bus"]
    operator = await signed_in(browser, base, "operator2")  # Omar: water only, so the call is his
    supervisor = await signed_in(browser, base, "supervisor1")
    await expect(operator.get_by_test_id("phone-registration")).to_have_text("Phone ready", timeout=15_000)
    mine = operator.get_by_test_id("my-state")
    if "Logged out" in await mine.inner_text():
        await operator.get_by_role("button", name="Log in").click()
        await expect(mine).to_contain_text("Not ready")
    await operator.get_by_role("button", name="Ready", exact=True).click()
    await expect(mine).to_contain_text("Ready")
    host, port = suite.urls["sip"].removeprefix("sip:").split(":")
    ivan = scenario("caller_stays", tmp_path, NUMBER=311, CALLER="+79165551234", KEY=1, KEY_AT_MS=3500)
    caller = await start_sipp(
        ivan, tmp_path, f"{host}:{port}", "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
    )
    line = operator.get_by_test_id("line")
    await expect(line).to_have_attribute("data-state", "ringing", timeout=30_000)
    # the screen pop: helpdesk's demo contact with that number, before the answer
    await expect(operator.get_by_test_id("screen-pop")).to_contain_text("Ivan Petrov")
    await operator.keyboard.press("Alt+a")  # the answer shortcut
    await expect(line).to_have_attribute("data-state", "talking")
    await expect(supervisor.get_by_test_id("calls")).to_contain_text("Talking")
    await expect(operator.get_by_test_id("my-calls")).to_contain_text("+79165551234")
    await operator.get_by_role("button", name="Hold").click()  # with the operator's own token
    await expect(line).to_have_attribute("data-state", "held")
    await expect(supervisor.get_by_test_id("calls")).to_contain_text("On hold")
    await operator.get_by_role("button", name="Resume").click()
    await expect(line).to_have_attribute("data-state", "talking")
    ARTIFACTS.mkdir(exist_ok=True)
    await operator.screenshot(path=ARTIFACTS / "operator-in-call.png")
    await operator.keyboard.press("Alt+h")  # the hang-up shortcut
    code, errors = await caller.result(30)
    assert code == 0, errors  # the caller got the operator's BYE
    await expect(line).to_have_count(0)
    await operator.get_by_role("button", name="Log out").click()
