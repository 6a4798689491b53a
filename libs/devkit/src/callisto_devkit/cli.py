"""``callisto``: run the whole suite locally.

callisto up       NATS, Redis, PostgreSQL, rtpengine and every service under services/, on the ports of
                  ARCHITECTURE.md; data and logs under .callisto/ (or --home)
callisto status   a table of processes and of the services' health
callisto demo     softphones for the demo agents, a burst of calls through IVR, queues and agents, and
                  what became of each call (needs ``up`` first)
callisto restart  stop one service and start it again as ``up`` did (same command, environment, port)
callisto down     stop exactly what ``up`` started (PID and start time both checked)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from callisto_backup import BackupError, Manifest, TargetNotEmpty, Targets, take
from callisto_backup import restore as restore_backup
from callisto_backup.archive import read_manifest
from callisto_devkit import __version__
from callisto_devkit.demo import DEMO_USER, CallReport, run_demo
from callisto_devkit.processes import DevkitError, ManagedProcess, free_port, wait_until
from callisto_devkit.servers import NatsServer, PostgresServer, RedisServer, RtpEngine
from callisto_devkit.suite import (
    HA_PORT_STEP,
    ServiceSpec,
    SuiteState,
    discover_services,
    postgres_data_dir,
    repo_root,
)
from callisto_protocol.access import BACKUP_TOOL

app = typer.Typer(help="Run the Callisto suite on this machine.", no_args_is_help=True, add_completion=False)
console = Console()

HomeOption = Annotated[
    Path | None, typer.Option("--home", envvar="CALLISTO_HOME", help="data, logs and state [.callisto]")
]
READY_TIMEOUT_S = 60.0
# the operator client's example of an embedded CRM (clients/operator/public/assets/crm-example.html)
CRM_EXAMPLE = "/assets/crm-example.html?caller={caller}&call={call_id}&contact={contact_id}&agent={agent_id}"


def _home(home: Path | None) -> Path:
    return (home or repo_root() / ".callisto").resolve()


@app.command()
def up(
    home: HomeOption = None,
    nats_port: Annotated[int, typer.Option(help="NATS client port")] = 4222,
    nats_monitor_port: Annotated[int, typer.Option(help="NATS monitoring port")] = 8222,
    redis_port: Annotated[int, typer.Option(help="Redis port")] = 6379,
    pg_port: Annotated[int, typer.Option(help="PostgreSQL port")] = 5432,
    rtpengine_port: Annotated[int, typer.Option(help="rtpengine's NG control port")] = 2223,
    sip_port: Annotated[int, typer.Option(help="call-manager's SIP port (UDP and TCP)")] = 5060,
    sip_ws_port: Annotated[int, typer.Option(help="SIP over WebSocket, for browsers' phones")] = 5066,
    sip_wss_port: Annotated[int, typer.Option(help="SIP over secure WebSocket (self-signed)")] = 7443,
    port_offset: Annotated[int, typer.Option(help="added to every service's HTTP port")] = 0,
    ha: Annotated[
        bool, typer.Option("--ha", help="two instances of each singleton: one active, one standby")
    ] = False,
) -> None:
    """Start NATS, Redis, PostgreSQL and every service; return when all are ready."""
    root = repo_root()
    folder = _home(home)
    state = SuiteState.load(folder)
    running = [p for p in state.processes if p.alive()]
    if running:
        names = ", ".join(p.name for p in running)
        console.print(f"[yellow]already running ({names}); `callisto down` first[/yellow]")
        raise typer.Exit(1)
    state.clear()
    logs = folder / "logs"
    try:
        services = discover_services(root)
        nats = NatsServer.closed(  # each service logs in as itself, with only its own subjects
            (spec.name for spec in services),
            observers=(DEMO_USER,),
            operators=(BACKUP_TOOL,),
            port=nats_port,
            monitor_port=nats_monitor_port,
            store_dir=folder / "nats",
            log_path=logs / "nats.log",
        )
        _started(state, "nats", nats.start().process, nats.url)
        demo_secret = folder / "nats" / f"{DEMO_USER}.password"
        demo_secret.write_text(nats.password(DEMO_USER))
        demo_secret.chmod(0o600)
        backup_secret = folder / "nats" / f"{BACKUP_TOOL}.password"
        backup_secret.write_text(nats.password(BACKUP_TOOL))
        backup_secret.chmod(0o600)
        redis = RedisServer(port=redis_port, data_dir=folder / "redis", log_path=logs / "redis.log")
        redis.data_dir.mkdir(parents=True, exist_ok=True)
        _started(state, "redis", redis.start().process, redis.url)
        pg = PostgresServer(port=pg_port, data_dir=postgres_data_dir(folder), log_path=logs / "postgres.log")
        _started(state, "postgres", pg.start().process, pg.dsn)
        media = RtpEngine(
            port=rtpengine_port, port_min=30000, port_max=34999, work_dir=folder / "rtpengine",
            log_path=logs / "rtpengine.log",
        )  # fmt: skip
        _started(state, "rtpengine", media.start().process, f"udp://127.0.0.1:{rtpengine_port}")
        mail_port = free_port()
        catcher = ManagedProcess.spawn(
            "mail", [sys.executable, "-m", "callisto_devkit.mailcatcher", "--port", str(mail_port),
                     "--folder", str(folder / "mail")], logs / "mail.log", cwd=root,
        )  # fmt: skip
        _started(state, "mail", catcher, f"smtp://127.0.0.1:{mail_port}")
        state.urls["sip"] = f"sip:127.0.0.1:{sip_port}"
        state.urls["sip-ws"] = f"ws://127.0.0.1:{sip_ws_port}"
        state.urls["sip-wss"] = f"wss://127.0.0.1:{sip_wss_port}"
        telephony = {"RTPENGINE_PORT": str(rtpengine_port), "DTMF_PORT": str(media.dtmf_port),
                     "SIP_PORT": str(sip_port), "PROMPTS_DIR": str(folder / "prompts"),
                     "SIP_WS_PORT": str(sip_ws_port), "SIP_WSS_PORT": str(sip_wss_port),
                     "TLS_DIR": str(folder / "tls")}  # fmt: skip
        started: list[str] = []
        client = {
            "CLIENT_DIR": str(root / "clients" / "operator" / "dist"),
            "CLIENT_SIP_URL": state.urls["sip-ws"],
            "CLIENT_CRM_URL": CRM_EXAMPLE,
        }
        for spec in services:
            if spec.name == "snitch":
                client["CLIENT_WALLBOARD_URL"] = f"http://127.0.0.1:{spec.port + port_offset}/wallboard"
        for spec in services:
            copies = 2 if ha and spec.singleton else 1
            for copy in range(copies):
                name = spec.name if copy == 0 else f"{spec.name}#2"
                port = spec.port + port_offset + copy * HA_PORT_STEP
                env = _service_env(spec, port, nats.url, redis.url, pg.dsn)
                env[spec.env_prefix + "INSTANCE_ID"] = f"{spec.name}-local" + ("-2" if copy else "")
                env[spec.env_prefix + "NATS_PASSWORD"] = nats.password(spec.name)
                env.update({spec.env_prefix + key: value for key, value in telephony.items()})
                env.update({spec.env_prefix + key: value for key, value in client.items()})
                if spec.name == "helpdesk":
                    env[spec.env_prefix + "SMTP_PORT"] = str(mail_port)
                if spec.name == "call-manager":  # the demo's calls are recorded
                    env[spec.env_prefix + "RECORD_ANSWERED"] = "true"
                if spec.name == "core-bus":  # backups on request (POST /api/v1/backups), none scheduled
                    env[spec.env_prefix + "BACKUP_DIR"] = str(folder / "backups")
                    env[spec.env_prefix + "BACKUP_DATABASE_URL"] = pg.dsn
                    env[spec.env_prefix + "BACKUP_REDIS_URL"] = redis.url
                if spec.name == "recording":
                    env[spec.env_prefix + "CAPTURE_DIR"] = str(media.recording_dir)
                    env[spec.env_prefix + "STORE_DIR"] = str(folder / "recordings")
                    env[spec.env_prefix + "WORK_DIR"] = str(folder / "recording-work")
                process = ManagedProcess.spawn(
                    name,
                    [sys.executable, "-m", spec.module],
                    logs / f"{name.replace('#', '-')}.log",
                    env={**os.environ, **env},
                    cwd=root,
                )
                _started(state, name, process, f"http://127.0.0.1:{port}")
                started.append(name)
                if copy == 0 and copies > 1:  # the first one takes the lease: it is the active one
                    _wait_ready(state, name)
        for name in started:
            _wait_ready(state, name)
    except (DevkitError, OSError) as exc:
        console.print(f"[red]callisto up failed: {exc}[/red]")
        _stop_all(state)
        raise typer.Exit(1) from None
    _print_processes(state)
    console.print(f"\nAll up. Data and logs: {folder}")
    console.print(f"Mail helpdesk sends (notifications, customers' confirmation links): {folder / 'mail'}")
    if "core-bus" in state.urls:
        base = state.urls["core-bus"]
        console.print(
            f"Operator client: {base}/  (demo people: operator1..3, supervisor1, password callisto)"
        )
        console.print(
            f"Registry: {base}/api/v1/services   Health: {base}/api/v1/health   API docs: {base}/docs"
        )
    console.print("`callisto status` shows health; `callisto down` stops everything.")


def _read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:  # an open NATS (a suite started by an older release)
        return None


def _service_env(spec: ServiceSpec, port: int, nats_url: str, redis_url: str, dsn: str) -> dict[str, str]:
    p = spec.env_prefix
    return {
        f"{p}NATS_URL": nats_url,
        f"{p}REDIS_URL": redis_url,
        f"{p}DATABASE_URL": dsn,
        f"{p}HTTP_PORT": str(port),
        f"{p}MODE": "development",
        f"{p}LOG_JSON": "true",
    }


def _started(state: SuiteState, name: str, process: ManagedProcess | None, url: str) -> None:
    if process is None:
        raise DevkitError(f"{name} did not start")
    state.processes.append(process)
    state.urls[name] = url
    state.save()
    console.print(f"started {name:<14} pid {process.pid:<8} {url}")


def _wait_ready(state: SuiteState, name: str) -> None:
    process = next(p for p in state.processes if p.name == name)
    url = state.urls[name] + "/readyz"

    def ready() -> bool:
        if not process.alive():
            raise DevkitError(f"{name} exited; last lines of {process.log_path}:\n{process.tail(20)}")
        try:
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, READY_TIMEOUT_S, f"{name} to be ready at {url}", interval=0.2)


def _stop_all(state: SuiteState) -> list[str]:
    stopped: list[str] = []
    for process in reversed(state.processes):
        if process.alive():
            process.stop(sig=signal.SIGINT if process.name == "postgres" else signal.SIGTERM)
            stopped.append(process.name)
    state.clear()
    return stopped


def _print_processes(state: SuiteState) -> bool:
    table = Table(title="Callisto processes")
    for column in ("name", "pid", "process", "ready", "role", "url"):
        table.add_column(column)
    all_ok = True
    for process in state.processes:
        alive = process.alive()
        ready = role = "-"
        if alive and state.urls.get(process.name, "").startswith("http"):
            try:
                reply = httpx.get(state.urls[process.name] + "/readyz", timeout=1.0)
                body = reply.json()
                ready, role = body.get("status", str(reply.status_code)), body.get("role", "-")
            except (httpx.HTTPError, ValueError):
                ready = "no answer"
            all_ok = all_ok and ready == "ready"
        all_ok = all_ok and alive
        table.add_row(
            process.name,
            str(process.pid),
            "[green]running[/green]" if alive else "[red]stopped[/red]",
            ready,
            role,
            state.urls.get(process.name, ""),
        )
    console.print(table)
    return all_ok


def _login(state: SuiteState, user: str, password: str) -> dict[str, str]:
    """Bearer headers for ``user`` from the suite's auth (none when auth is not part of it)."""
    base = state.urls.get("auth")
    if not base:
        return {}
    reply = httpx.post(f"{base}/api/v1/token", json={"username": user, "password": password}, timeout=10.0)
    if reply.status_code != 200:
        console.print(f"[red]login as {user} refused: {reply.text}[/red]")
        return {}
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


@app.command()
def status(
    home: HomeOption = None,
    user: Annotated[str, typer.Option(envvar="CALLISTO_USER", help="who reads the health")] = "admin",
    password: Annotated[
        str, typer.Option(envvar="CALLISTO_PASSWORD", help="[the demo password of development mode]")
    ] = "callisto",
) -> None:
    """Show the processes ``up`` started and the health the registry reports."""
    state = SuiteState.load(_home(home))
    if not state.processes:
        console.print("nothing is running (no state); `callisto up` starts the suite")
        raise typer.Exit(1)
    ok = _print_processes(state)
    base = state.active_urls().get("core-bus")
    if base:
        try:
            reply = httpx.get(f"{base}/api/v1/health", timeout=2.0, headers=_login(state, user, password))
            if reply.status_code in (401, 403):
                raise ValueError(f"{reply.status_code}: {reply.json().get('title', '')}")
            health = reply.json()
            table = Table(title=f"Suite health: {health['status']}")
            for column in ("service", "status", "alive", "ready", "active", "standby", "gone"):
                table.add_column(column)
            for svc in health["services"]:
                table.add_row(
                    *(
                        str(svc[c])
                        for c in ("service", "status", "alive", "ready", "active", "standby", "gone")
                    )
                )
            console.print(table)
            ok = ok and health["status"] == "ok"
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            console.print(f"[red]core-bus does not answer: {exc}[/red]")
            ok = False
    raise typer.Exit(0 if ok else 1)


@app.command()
def switchover(
    service: Annotated[str, typer.Argument(help="a singleton: queue-manager, core-bus, ...")],
    home: HomeOption = None,
    user: Annotated[str, typer.Option(envvar="CALLISTO_USER", help="an administrator")] = "admin",
    password: Annotated[
        str, typer.Option(envvar="CALLISTO_PASSWORD", help="[the demo password of development mode]")
    ] = "callisto",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the new active")] = 15.0,
) -> None:
    """Hand SERVICE over by hand: its active instance releases the lease and a standby takes it."""
    state = SuiteState.load(_home(home))
    base = state.active_urls().get("core-bus")
    if not base:
        console.print("[red]no core-bus in this suite: nothing knows the instances[/red]")
        raise typer.Exit(1)
    headers = _login(state, user, password)

    def instances() -> list[dict[str, Any]]:
        reply = httpx.get(f"{base}/api/v1/services", headers=headers, timeout=5.0)
        reply.raise_for_status()
        return [i for i in reply.json() if i["service"] == service and i["state"] != "gone"]

    try:
        active = [i for i in instances() if i["role"] == "active"]
        if not active:
            console.print(f"[red]{service} has no active instance[/red]")
            raise typer.Exit(1)
        old = active[0]
        handed = httpx.post(f"{old['http_url']}/api/v1/lease/hand-over", headers=headers, timeout=5.0)
        if handed.status_code != 200:
            console.print(f"[red]{old['instance']} refused: {handed.text}[/red]")
            raise typer.Exit(1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [i for i in instances() if i["role"] == "active" and i["instance"] != old["instance"]]
            if new:
                console.print(f"{service}: {old['instance']} handed over to {new[0]['instance']}")
                return
            time.sleep(0.2)
    except httpx.HTTPError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"[red]no other {service} instance became active within {timeout:g} s (a standby running?)[/red]"
    )
    raise typer.Exit(1)


@app.command()
def demo(
    home: HomeOption = None,
    calls: Annotated[int, typer.Option(min=1, max=200, help="calls in the burst")] = 6,
    talk_ms: Annotated[int, typer.Option(min=500, max=60000, help="how long agents talk")] = 4000,
) -> None:
    """Register the demo agents' softphones (sipp), make them ready, place a burst of calls through
    the IVR and the queues, and tell what became of each call."""
    folder = _home(home)
    state = SuiteState.load(folder)
    missing = [
        name for name in ("nats", "auth", "queue-manager", "call-manager", "sip") if name not in state.urls
    ]
    if missing or not all(p.alive() for p in state.processes):
        console.print("[red]the suite is not running: `callisto up` (or `make run`) first[/red]")
        raise typer.Exit(1)
    host, _, port = state.urls["sip"].removeprefix("sip:").rpartition(":")
    console.print(f"{calls} calls to 311 through sip:{host}:{port}; the agents talk {talk_ms / 1000:g} s ...")
    (folder / "demo").mkdir(parents=True, exist_ok=True)
    try:
        reports = asyncio.run(
            run_demo(
                state.active_urls(),
                (host, int(port)),
                folder / "demo",
                calls=calls,
                talk_ms=talk_ms,
                nats_password=_read_secret(folder / "nats" / f"{DEMO_USER}.password"),
            )
        )
    except DevkitError as exc:
        console.print(f"[red]callisto demo failed: {exc}[/red]")
        raise typer.Exit(1) from None
    _print_reports(reports)
    answered = sum(1 for r in reports if r.answered_by)
    console.print(f"\n{answered} of {calls} calls answered.")
    if answered < calls:
        raise typer.Exit(1)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _print_reports(reports: list[CallReport]) -> None:
    table = Table(title="What happened to each call")
    for column in ("call", "caller", "queue", "waited", "answered by", "talked", "ended by", "queue steps"):
        table.add_column(column)
    for r in reports:
        table.add_row(
            r.call_id[:8], r.caller, r.queue_id or "-", _seconds(r.waited_s), r.answered_by or "-",
            _seconds(r.talked_s), r.ended_by or "-", " > ".join(r.steps),
        )  # fmt: skip
    console.print(table)


@app.command()
def restart(
    name: Annotated[str, typer.Argument(help="a service as `status` names it: core-bus, snitch#2, ...")],
    home: HomeOption = None,
) -> None:
    """Stop NAME and start it again with the command, environment and folder it had (read from
    /proc before it stops), then wait until it is ready: a service restarted under load."""
    state = SuiteState.load(_home(home))
    old = next((p for p in state.processes if p.name == name and p.alive()), None)
    if old is None or name not in state.urls or not state.urls[name].startswith("http"):
        console.print(f"[red]no running service {name!r} in this suite[/red]")
        raise typer.Exit(1)
    _, argv, env, cwd = _spawn_args(old)
    old.stop()
    state.processes.remove(old)
    try:
        fresh = ManagedProcess.spawn(name, argv, Path(old.log_path), env=env, cwd=cwd)
        _started(state, name, fresh, state.urls[name])
        _wait_ready(state, name)
    except DevkitError as exc:
        console.print(f"[red]{name} did not come back: {exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{name} restarted and ready")


@app.command()
def down(home: HomeOption = None) -> None:
    """Stop exactly the processes ``up`` started, services first."""
    state = SuiteState.load(_home(home))
    if not state.processes:
        console.print("nothing to stop")
        return
    stopped = _stop_all(state)
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was still running'}")


SERVERS = ("nats", "redis", "postgres", "rtpengine", "mail")  # what `up` starts besides the services


def _backup_targets(state: SuiteState, folder: Path) -> Targets:
    if not {"nats", "redis", "postgres"} <= set(state.urls):
        console.print("nothing is running (no state); `callisto up` starts the suite")
        raise typer.Exit(1)
    password = _read_secret(folder / "nats" / f"{BACKUP_TOOL}.password")
    return Targets(state.urls["nats"], state.urls["redis"], state.urls["postgres"],
                   BACKUP_TOOL if password else None, password)  # fmt: skip


def _print_manifest(manifest: Manifest, title: str) -> None:
    table = Table(title=title)
    for column in ("part", "MB", "counts"):
        table.add_column(column)
    for part in manifest.parts:
        shown = ", ".join(f"{k} {v}" for k, v in list(part.counts.items())[:6])
        more = f" (+{len(part.counts) - 6})" if len(part.counts) > 6 else ""
        table.add_row(part.name, f"{part.bytes / 1e6:.2f}", shown + more)
    console.print(table)
    for what, why in manifest.left_out.items():
        console.print(f"  not in it: {what}: {why}")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="the archive to write")],
    home: HomeOption = None,
) -> None:
    """Back the running suite up into FILE: PostgreSQL (every schema), the JetStream streams and KV
    buckets (with consumers' positions), Redis, with a manifest of sizes, checksums and counts."""
    folder = _home(home)
    targets = _backup_targets(SuiteState.load(folder), folder)
    started = time.monotonic()
    try:
        manifest = asyncio.run(take(targets, file.resolve(), __version__))
    except BackupError as exc:
        console.print(f"[red]backup failed: {exc}[/red]")
        raise typer.Exit(1) from None
    took = time.monotonic() - started
    _print_manifest(manifest, f"{file} ({file.stat().st_size / 1e6:.2f} MB in {took:.1f} s)")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="an archive `callisto backup` wrote")],
    force: Annotated[bool, typer.Option(help="replace what the suite holds now")] = False,
    home: HomeOption = None,
) -> None:
    """Restore FILE into the suite's NATS, Redis and PostgreSQL. The archive is checked first; a suite
    holding data is refused unless --force, which stops the services, replaces their state with the
    backup's and starts them again."""
    folder = _home(home)
    state = SuiteState.load(folder)
    targets = _backup_targets(state, folder)
    try:
        manifest = read_manifest(file)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{file}: taken {manifest.created_at:%Y-%m-%d %H:%M:%S %Z} by Callisto {manifest.software}")
    services = [p for p in state.processes if p.name not in SERVERS and p.alive()] if force else []
    spawn = [_spawn_args(p) for p in services]
    for process in reversed(services):
        process.stop()
        state.processes.remove(process)
    state.save()
    failed = False
    try:
        restored = asyncio.run(restore_backup(targets, file, force=force))
    except TargetNotEmpty as exc:
        console.print(f"[red]{exc}[/red]")
        failed = True
    except BackupError as exc:
        console.print(f"[red]restore failed: {exc}[/red]")
        failed = True
    else:
        _print_manifest(restored.manifest, "restored")
        if restored.equal:
            console.print("every count read back equals the backup's")
        else:
            console.print(f"[red]counts differ from the backup's: {restored.differences}[/red]")
            failed = True
    for (name, argv, env, cwd), old in zip(spawn, services, strict=True):
        process = ManagedProcess.spawn(name, argv, Path(old.log_path), env=env, cwd=cwd)
        state.processes.append(process)
        state.save()
    for name, *_ in spawn:
        try:
            _wait_ready(state, name)
        except DevkitError as exc:
            console.print(f"[red]{name} did not come back: {exc}[/red]")
            failed = True
    if spawn:
        console.print(f"started again: {', '.join(name for name, *_ in spawn)}")
    raise typer.Exit(1 if failed else 0)


def _spawn_args(process: ManagedProcess) -> tuple[str, list[str], dict[str, str], Path]:
    """What starts ``process`` again as it is: its command, environment and folder (from /proc)."""
    environ = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    return process.name, process.argv, env, Path(os.readlink(f"/proc/{process.pid}/cwd"))


if __name__ == "__main__":
    app()
