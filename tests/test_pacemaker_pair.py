"""The Pacemaker pair's resource agent (deploy/pacemaker) against a real queue-manager whose lease
follows the agent's gate: `ocf-tester` passes, and a one-node Pacemaker (Debian's corosync and
pacemakerd in the foreground, no systemd) promotes the clone, which makes the local singleton active,
and promotes it again after ``crm_resource --fail``; the time to the new promotion is printed.

Pacemaker keeps its configuration in /var/lib/pacemaker/cib (one place per machine): the test runs
only as root with no cluster running, sets the folder aside and puts it back after."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from test_queue_manager_failover import LEASE_TTL, role, start

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, wait_until
from callisto_devkit.servers import NatsServer, RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "deploy" / "pacemaker" / "resource.d" / "callisto"
OCF_PROVIDER = Path("/usr/lib/ocf/resource.d/callisto")
CIB_DIR = Path("/var/lib/pacemaker/cib")
TOOLS = ("corosync", "pacemakerd", "ocf-tester", "crm_mon", "cibadmin", "crm_resource", "crm_attribute",
         "xmllint", "curl")  # fmt: skip
CLONE = "callisto-role"

COROSYNC_CONF = """totem {
  version: 2
  cluster_name: callisto-test
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 1000
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    name: node1
    nodeid: 1
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_stderr: yes
  to_syslog: no
  to_logfile: no
}
"""


def require_pacemaker() -> None:
    if os.geteuid() != 0:
        pytest.skip("Pacemaker runs as root")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, (
        f"{', '.join(missing)} missing: make test installs pacemaker, corosync, resource-agents and "
        "libxml2-utils"
    )


@contextlib.contextmanager
def agent_installed() -> Iterator[None]:
    """The agent as Pacemaker finds it (ocf:callisto:node): a link to this checkout's folder."""
    if OCF_PROVIDER.is_symlink() and OCF_PROVIDER.resolve() != AGENTS.resolve():
        OCF_PROVIDER.unlink()  # a link left by another checkout's run
    if OCF_PROVIDER.exists() and not OCF_PROVIDER.is_symlink():
        pytest.skip(f"{OCF_PROVIDER} is installed on this machine: not replaced by a test")
    made = not OCF_PROVIDER.exists()
    if made:
        OCF_PROVIDER.symlink_to(AGENTS, target_is_directory=True)
    try:
        yield
    finally:
        if made:
            OCF_PROVIDER.unlink()


@contextlib.contextmanager
def one_node_cluster(folder: Path) -> Iterator[None]:
    """corosync and pacemakerd in the foreground, with a CIB made beforehand (no fencing, no quorum
    policy, a 2-s DC dead time); the machine's own CIB folder is put back after."""
    if subprocess.run(["pgrep", "-x", "corosync|pacemakerd"], capture_output=True).returncode == 0:
        pytest.skip("a cluster already runs on this machine")
    saved = folder / "cib-saved"
    shutil.copytree(CIB_DIR, saved)
    for old in CIB_DIR.iterdir():
        old.unlink()
    cib = folder / "cib.xml"
    cib.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    for name, value in (("stonith-enabled", "false"), ("no-quorum-policy", "ignore"), ("dc-deadtime", "2s")):
        subprocess.run(["crm_attribute", "--type", "crm_config", "--name", name, "--update", value],
                       env={**os.environ, "CIB_file": str(cib)}, check=True, capture_output=True)  # fmt: skip
    shutil.copy(cib, CIB_DIR / "cib.xml")
    shutil.chown(CIB_DIR / "cib.xml", "hacluster", "haclient")
    (CIB_DIR / "cib.xml").chmod(0o600)
    (folder / "corosync.conf").write_text(COROSYNC_CONF)
    corosync = ManagedProcess.spawn("corosync", ["corosync", "-f", "-c", str(folder / "corosync.conf")],
                                    folder / "corosync.log")  # fmt: skip
    pacemaker: ManagedProcess | None = None
    try:
        wait_until(lambda: _quorate(), 15, "corosync's membership")
        pacemaker = ManagedProcess.spawn(
            "pacemakerd", ["pacemakerd", "-f"], folder / "pacemakerd.log",
            env={**os.environ, "PCMK_logfile": str(folder / "pacemaker.log")},
        )  # fmt: skip
        wait_until(lambda: "Current DC: node1" in crm_mon(), 30, "pacemaker elects node1 DC")
        yield
    finally:
        if pacemaker is not None:
            pacemaker.stop(timeout=30)
        corosync.stop(timeout=15)
        for made in CIB_DIR.iterdir():
            made.unlink()
        for kept in saved.iterdir():
            shutil.copy2(kept, CIB_DIR / kept.name)
            shutil.chown(CIB_DIR / kept.name, "hacluster", "haclient")


def _quorate() -> bool:
    shown = subprocess.run(["corosync-quorumtool", "-s"], capture_output=True, text=True)
    return "Quorate" in shown.stdout


def crm_mon() -> str:
    return subprocess.run(["crm_mon", "-1"], capture_output=True, text=True).stdout


def promoted() -> bool:
    """The clone's instance on node1 is promoted and not failed, as crm_mon's XML says."""
    shown = subprocess.run(["crm_mon", "-1", "--output-as=xml"], capture_output=True, text=True).stdout
    try:
        resources = ElementTree.fromstring(shown).iter("resource")
    except ElementTree.ParseError:
        return False
    return any(
        r.get("id") == "role" and r.get("role") == "Promoted" and r.get("failed") == "false"
        for r in resources
    )


def clone_xml(base: str, gate: Path, state: Path) -> str:
    params = {"services": base, "gate": str(gate), "state": str(state)}
    nvpairs = "".join(f'<nvpair id="role-{k}" name="{k}" value="{v}"/>' for k, v in params.items())
    return (
        f'<clone id="{CLONE}"><meta_attributes id="{CLONE}-meta">'
        '<nvpair id="m-promotable" name="promotable" value="true"/>'
        '<nvpair id="m-promoted-max" name="promoted-max" value="1"/>'
        '<nvpair id="m-clone-max" name="clone-max" value="2"/>'
        '<nvpair id="m-clone-node-max" name="clone-node-max" value="1"/></meta_attributes>'
        '<primitive id="role" class="ocf" provider="callisto" type="node">'
        f'<instance_attributes id="role-params">{nvpairs}</instance_attributes><operations>'
        '<op id="role-monitor-p" name="monitor" interval="2s" role="Promoted" timeout="10s"/>'
        '<op id="role-monitor-u" name="monitor" interval="3s" role="Unpromoted" timeout="10s"/>'
        '<op id="role-promote" name="promote" interval="0s" timeout="30s"/>'
        '<op id="role-demote" name="demote" interval="0s" timeout="30s"/>'
        "</operations></primitive></clone>"
    )


@pytest.fixture
def gated(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A queue-manager whose lease follows the gate file (as call-manager's on a pair): its URL, the gate."""
    require_pacemaker()
    token_issuer.service_permissions["queue-manager"] = ["cm.#", "helpdesk.contacts.read"]
    gate = tmp_path / "run" / "active"
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/13"
    process, base = start(private_nats, redis_url, "qm-node1", tmp_path, lease_gate=str(gate))
    try:
        yield base, gate
    finally:
        process.stop()


def test_the_resource_agent_passes_ocf_tester_and_moves_the_lease(
    gated: tuple[str, Path], tmp_path: Path
) -> None:
    base, gate = gated
    time.sleep(LEASE_TTL * 2)  # a gate never opened: the instance must not have taken the lease
    assert role(base) == "standby"
    tested = subprocess.run(
        ["ocf-tester", "-n", "callisto-role", "-o", f"services={base}", "-o", f"gate={gate}",
         "-o", f"state={tmp_path / 'run' / 'started'}", str(AGENTS / "node")],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "passed all tests" in tested.stdout
    assert role(base) == "standby" and not gate.exists()  # ocf-tester ends with a stop


def test_a_one_node_cluster_promotes_the_role_and_promotes_it_again_after_a_failure(
    gated: tuple[str, Path], tmp_path: Path
) -> None:
    base, gate = gated
    with agent_installed(), one_node_cluster(tmp_path):
        created = subprocess.run(
            ["cibadmin", "--create", "-o", "resources", "--xml-text",
             clone_xml(base, gate, tmp_path / "run" / "started")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        wait_until(promoted, 30, "the clone promoted on node1", interval=0.1)
        assert role(base) == "active" and gate.exists()  # promote returns once the lease is held

        failed = time.monotonic()
        subprocess.run(["crm_resource", "--fail", "--resource", "role", "--node", "node1"],
                       check=True, capture_output=True)  # fmt: skip
        wait_until(lambda: not promoted(), 10, "the failure seen", interval=0.02)
        wait_until(promoted, 30, "the clone promoted again", interval=0.02)
        again = time.monotonic() - failed
        assert role(base) == "active"
        print(f"re-promotion after crm_resource --fail: {again:.2f} s")
        history = subprocess.run(["crm_mon", "-1", "--include=failcounts"], capture_output=True,
                                 text=True).stdout  # fmt: skip
        assert "Simulated failure" in history, history  # the failure Pacemaker recovered from
        log = (tmp_path / "qm-node1.log").read_text()
        assert "no longer eligible, releasing it" in log  # the demotion released the lease
