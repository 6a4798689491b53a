"""Operator client benchmark: the screen pop, the gateway's fan-out, the bundle, the first load.

    .venv/bin/python bench/operator_client.py [--pages 20] [--calls 30] [--clients 500] [--events 40]

The whole suite as `make run` starts it (`callisto up`, demo data) and the built client in Debian's
Chromium (headless, fake audio devices).

- Screen pop: ``--pages`` operators (people in auth, agents with the water skill in queue-manager)
  sign in to the client, start their shift and go ready; a sipp trunk places ``--calls`` calls from
  helpdesk's demo contact Ivan Petrov through the IVR to the emergencies queue, one every 2 s, and
  each page answers what rings. Measured in each page: from the INVITE arriving on the phone's
  WebSocket to the frame after the caller's name was painted in the card (the page's own clock).
- Gateway fan-out: ``--clients`` WebSocket clients of core-bus's gateway, signed in as a supervisor
  (they see every agent), in this process; ``--events`` state changes of one agent asked of
  queue-manager's API, 200 ms apart. Measured: from the request sent to each client receiving the
  agent's event (every hop: queue-manager, NATS, core-bus's lists, the gateway, the socket).
- Bundle: the built client's JavaScript and CSS, gzipped (-9), without and with the phone library
  (JsSIP is a chunk of its own); first load: navigation start to the sign-in form shown, on loopback.

Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import tempfile
import time
from pathlib import Path

import httpx
from figures import percentile
from playwright.async_api import Browser, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout
from websockets.asyncio.client import ClientConnection, connect

from callisto_devkit.browser import chromium
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.running import running_suite
from callisto_devkit.sipp import scenario, start_sipp
from callisto_devkit.suite import SuiteState, repo_root

GOALS = {"screen_pop_p95_ms": 300.0, "gateway_event_p99_ms": 250.0, "bundle_gzip_kb": 150.0}
IVAN = "+79165551234"  # helpdesk's demo contact
PASSWORD = "bench-operator-2026"
# in each operator page: when an INVITE arrives on the phone's socket, and the frame after the
# caller's name is painted in the card
MEASURE = """
window.pops = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => {
      if (typeof e.data === "string" && e.data.startsWith("INVITE ")) window.offerAt = performance.now();
    });
  }
};
new MutationObserver(() => {
  const name = document.querySelector('[data-testid="screen-pop"] .name');
  if (window.offerAt === undefined || !name || !name.textContent.includes("Ivan Petrov")) return;
  const offered = window.offerAt;
  window.offerAt = undefined;
  requestAnimationFrame(() => window.pops.push(performance.now() - offered));
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def bundle_kb() -> tuple[float, float]:
    """The client's JS and CSS gzipped: without the phone chunk, and with it."""
    assets = repo_root(Path(__file__).parent) / "clients" / "operator" / "dist" / "assets"
    files = [f for f in assets.iterdir() if f.suffix in (".js", ".css")]
    sizes = {f.name: len(gzip.compress(f.read_bytes(), 9)) for f in files}
    phone = sum(size for name, size in sizes.items() if name.startswith("phone-"))
    total = sum(sizes.values())
    return round((total - phone) / 1024, 1), round(total / 1024, 1)


def token(state: SuiteState, login: str, password: str = "callisto") -> str:
    reply = httpx.post(
        f"{state.urls['auth']}/api/v1/token", json={"username": login, "password": password}, timeout=10
    )
    reply.raise_for_status()
    access: str = reply.json()["access_token"]
    return access


def add_operators(state: SuiteState, count: int) -> list[str]:
    admin = {"Authorization": f"Bearer {token(state, 'admin')}"}
    logins = []
    with httpx.Client(timeout=10, headers=admin) as http:
        for n in range(1, count + 1):
            agent, login = f"bench-{n:02}", f"benchop{n:02}"
            profile = {"id": agent, "name": f"Bench Operator {n}", "skills": {"water": 5}}
            http.put(f"{state.urls['queue-manager']}/api/v1/agents/{agent}", json=profile).raise_for_status()
            person = {"login": login, "display_name": profile["name"], "password": PASSWORD,
                      "roles": ["operator"], "agent_id": agent}  # fmt: skip
            http.post(f"{state.urls['auth']}/api/v1/users", json=person).raise_for_status()
            logins.append(login)
    return logins


async def first_load_ms(browser: Browser, base: str) -> float:
    page = await (await browser.new_context()).new_page()
    await page.goto(base + "/")
    await page.get_by_role("button", name="Sign in").wait_for()
    shown: float = await page.evaluate("performance.now()")
    await page.close()
    return shown


async def operator_page(browser: Browser, base: str, login: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.add_init_script(MEASURE)
    await page.goto(base + "/")
    await page.get_by_label("User name").fill(login)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_test_id("phone-registration").get_by_text("Phone ready").wait_for(timeout=20_000)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("button", name="Ready", exact=True).click()
    await page.get_by_test_id("my-state").get_by_text("Ready").wait_for()
    return page


async def answer_while(page: Page, running: asyncio.Event) -> int:
    answered = 0
    while running.is_set():
        with contextlib.suppress(PlaywrightTimeout):
            await page.get_by_role("button", name="Answer").click(timeout=1000)
            answered += 1
    return answered


async def screen_pops(
    state: SuiteState, pages: list[Page], calls: int, folder: Path
) -> tuple[list[float], int]:
    host, port = state.urls["sip"].removeprefix("sip:").split(":")
    ivan = scenario(
        "caller_talks", folder, NUMBER=311, CALLER=IVAN, KEY=1, KEY_AT_MS=3500, TALK_AT_MS=1000, HOLD_MS=4000
    )
    running = asyncio.Event()
    running.set()
    answering = [asyncio.create_task(answer_while(page, running)) for page in pages]
    caller = await start_sipp(
        ivan, folder, f"{host}:{port}", "-m", str(calls), "-r", "1", "-rp", "2000",
        "-p", str(free_port()), "-mp", str(free_media_port()),
    )  # fmt: skip
    code, errors = await caller.result(calls * 2 + 120)
    running.clear()
    answered = sum(await asyncio.gather(*answering))
    if code != 0:
        print(f"sipp: {code} (some calls failed) {errors[-500:]}")
    found: list[float] = []
    for page in pages:
        found += await page.evaluate("window.pops")
    return found, answered


async def listen(
    base: str, access: str, agent_id: str, got: list[list[float]]
) -> tuple[ClientConnection, asyncio.Task[None]]:
    """A gateway client; the times it received ``agent_id``'s events go to a new list in ``got``."""
    socket = await connect(base.replace("http", "ws", 1) + "/api/v1/ws", max_queue=None)
    await socket.send(json.dumps({"type": "auth", "token": access}))
    for _ in range(3):  # hello and the two snapshots
        await socket.recv()
    received: list[float] = []
    got.append(received)

    async def read() -> None:
        with contextlib.suppress(Exception):
            async for text in socket:
                message = json.loads(text)
                if message.get("stream") == "agents" and message["event"]["agent_id"] == agent_id:
                    received.append(time.time())

    return socket, asyncio.create_task(read())  # the caller keeps the task (the loop holds it weakly)


async def fan_out(state: SuiteState, clients: int, events: int) -> list[float]:
    base = state.urls["core-bus"]
    supervisor = token(state, "supervisor1")
    agent_id = "bench-01"
    got: list[list[float]] = []
    clients_and_readers = [await listen(base, supervisor, agent_id, got) for _ in range(clients)]
    sent: list[float] = []
    path = f"{state.urls['queue-manager']}/api/v1/agents/{agent_id}/state"
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {supervisor}"}) as http:
        for n in range(events):
            body = {"request": "not_ready", "reason": "break" if n % 2 else "lunch"}
            sent.append(time.time())
            (await http.post(path, json=body)).raise_for_status()
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)
    for socket, reader in clients_and_readers:
        await socket.close()
        await reader
    latencies = []
    for received in got:
        latencies += [(r - s) * 1000 for s, r in zip(sent, received, strict=False)]
    missing = clients * events - len(latencies)
    if missing:
        print(f"gateway: {missing} events never reached their client")
    return latencies


async def main(args: argparse.Namespace) -> None:
    without_phone, with_phone = bundle_kb()
    print(f"bundle gzipped: {without_phone} KB, {with_phone} KB with the phone library")
    with running_suite("bench-operator") as (state, _), tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        logins = add_operators(state, args.pages)
        async with chromium(folder) as browser:
            loaded = await first_load_ms(browser, state.urls["core-bus"])
            print(f"first load: {loaded:.0f} ms to the sign-in form")
            started = time.monotonic()
            pages = [await operator_page(browser, state.urls["core-bus"], login) for login in logins]
            print(f"{len(pages)} operators signed in and ready in {time.monotonic() - started:.1f} s")
            pops, answered = await screen_pops(state, pages, args.calls, folder)
        print(
            f"screen pop: {len(pops)} cards of {args.calls} calls ({answered} answer clicks): "
            f"p50 {percentile(pops, 50):.0f} ms, p95 {percentile(pops, 95):.0f} ms, max {max(pops):.0f} ms"
        )
        latencies = await fan_out(state, args.clients, args.events)
        print(
            f"gateway: {args.clients} clients x {args.events} events: "
            f"p50 {percentile(latencies, 50):.0f} ms, "
            f"p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms"
        )
    figures = {
        "screen_pop_p95_ms": round(percentile(pops, 95), 1),
        "goal_screen_pop_p95_ms": GOALS["screen_pop_p95_ms"],
        "gateway_event_p99_ms": round(percentile(latencies, 99), 1),
        "goal_gateway_event_p99_ms": GOALS["gateway_event_p99_ms"],
        "bundle_gzip_kb": without_phone,
        "goal_bundle_gzip_kb": GOALS["bundle_gzip_kb"],
        "bundle_with_phone_gzip_kb": with_phone,
        "first_load_ms": round(loaded, 1),
        "screen_pops": len(pops),
        "gateway_clients": args.clients,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    layout = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=layout)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--events", type=int, default=40)
    asyncio.run(main(parser.parse_args()))
