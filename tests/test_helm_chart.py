"""The Helm chart (deploy/k8s/callisto), proven offline: `helm lint`, `helm template` for the three value
sets (minimal, HA, development) through `kubernetes-validate --strict` for Kubernetes 1.33, and the
rendered manifests read: every service of this checkout present on its ARCHITECTURE.md port with the
command line its image runs, probes on /healthz and /readyz, requests and limits, pinned images, non-root
with no privilege escalation, secrets only by reference, the lease's pairs with disruption budgets, the
telephony pod on the node's network, Prometheus Operator objects naming the jobs the rules group by."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from callisto_devkit.suite import discover_services

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
CHART = K8S / "callisto"
HELM = ROOT / ".venv" / "bin" / "helm"
VALIDATE = ROOT / ".venv" / "bin" / "kubernetes-validate"
VALUE_SETS = ("minimal", "ha", "development")
SERVICES = discover_services(ROOT)
Manifest = dict[str, Any]


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    assert HELM.exists(), "helm is missing: make test's bootstrap installs it (deploy/k8s/tools)"
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, timeout=120, cwd=K8S)


def render(values: str, *extra: str) -> list[Manifest]:
    rendered = helm("template", "callisto", str(CHART), "-f", str(K8S / "values" / f"{values}.yaml"), *extra)
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def workloads(manifests: list[Manifest]) -> Iterator[Manifest]:
    yield from (m for m in manifests if m["kind"] in ("Deployment", "StatefulSet"))


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {item["name"]: item for item in container.get("env", [])}


def test_helm_lint_passes_for_the_defaults_and_every_value_set() -> None:
    for values in (None, *VALUE_SETS):
        chosen = ["-f", str(K8S / "values" / f"{values}.yaml")] if values else []
        linted = helm("lint", "--strict", str(CHART), *chosen)
        assert linted.returncode == 0, f"{values}: {linted.stdout}{linted.stderr}"
        assert "0 chart(s) failed" in linted.stdout


@pytest.mark.parametrize("values", VALUE_SETS)
def test_every_value_set_renders_what_kubernetes_1_33_accepts(values: str, tmp_path: Path) -> None:
    rendered = helm("template", "callisto", str(CHART), "-f", str(K8S / "values" / f"{values}.yaml"))
    assert rendered.returncode == 0, rendered.stderr
    manifests = tmp_path / f"{values}.yaml"
    manifests.write_text(rendered.stdout)
    assert VALIDATE.exists(), "kubernetes-validate is missing: make test installs it (requirements-dev.txt)"
    checked = subprocess.run([str(VALIDATE), "--strict", "-k", "1.33.0", "--quiet", str(manifests)],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    unknown = re.findall(r"Couldn't find schema for kind (\w+)", checked.stdout + checked.stderr)
    assert set(unknown) <= {"ServiceMonitor", "PrometheusRule"}  # the Prometheus Operator's, read below

    # the validator speaks: a field Kubernetes does not know is refused
    broken = tmp_path / "broken.yaml"
    broken.write_text(rendered.stdout.replace("readinessProbe:", "readinesProbe:", 1))
    refused = subprocess.run([str(VALIDATE), "--strict", "-k", "1.33.0", "--quiet", str(broken)],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode != 0 and "readinesProbe" in refused.stdout + refused.stderr


@pytest.mark.parametrize("values", VALUE_SETS)
def test_every_service_runs_on_its_port_with_probes_limits_pinned_images_and_no_root(values: str) -> None:
    manifests = render(values)
    deployments = of_kind(manifests, "Deployment")
    services = of_kind(manifests, "Service")
    for spec in SERVICES:
        pod = deployments[f"callisto-{spec.name}"]["spec"]["template"]["spec"]
        containers = [c for c in pod["containers"] if c["name"].startswith(spec.name)]
        assert containers, f"{spec.name} has no container"
        for container in containers:
            assert container["image"].endswith(f"/{spec.name}:0.1.0")
            assert "command" not in container and "args" not in container  # the image's CMD: callisto up's
            environment = env_of(container)
            port = int(environment[f"{spec.env_prefix}HTTP_PORT"]["value"])
            assert port == spec.port or (spec.singleton and port == spec.port + 100)  # the standby's
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert {"cpu", "memory"} <= set(container["resources"]["limits"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert environment[f"{spec.env_prefix}MODE"]["value"] == (
                "development" if values == "development" else "production"
            )
        service_ports = [p["port"] for p in services[f"callisto-{spec.name}"]["spec"]["ports"]]
        assert spec.port in service_ports
    for workload in workloads(manifests):
        pod = workload["spec"]["template"]["spec"]
        name = workload["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            image = container["image"]
            assert re.search(r":v?\d+(\.\d+)+[\w.-]*$", image) and not image.endswith(":latest"), image
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name


@pytest.mark.parametrize("values", ["minimal", "ha"])
def test_production_takes_every_secret_by_reference(values: str) -> None:
    manifests = render(values)
    assert not of_kind(manifests, "Secret")  # secrets.existingSecret: made beforehand
    for workload in workloads(manifests):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for name, item in env_of(container).items():
                if re.search(r"(SECRET|PASSWORD|MASTER_KEYS|SECRET_ACCESS_KEY)$", name):
                    assert "value" not in item, name
                    assert item["valueFrom"]["secretKeyRef"]["name"] == "callisto-secrets", name
                if name.endswith("_DATABASE_URL"):
                    assert "$(POSTGRES_PASSWORD)" in item["value"]  # the password from the Secret
    auth = of_kind(manifests, "Deployment")["callisto-auth"]["spec"]["template"]["spec"]
    (container,) = auth["containers"]
    folder = env_of(container)["CALLISTO_AUTH_SERVICE_SECRETS_DIR"]["value"]
    assert {"name": "service-accounts", "mountPath": folder, "readOnly": True} in container["volumeMounts"]
    (volume,) = (v for v in auth["volumes"] if v["name"] == "service-accounts")
    assert {item["path"]: item["key"] for item in volume["secret"]["items"]} == {
        spec.name: f"{spec.name}-service-secret" for spec in SERVICES
    }  # auth makes every service's account from the secret that service itself reads


def test_secrets_from_values_are_required_for_every_service_and_rendered_into_the_release_secret() -> None:
    without = render_failure("minimal", "--set", "secrets.existingSecret=")
    assert "secrets.serviceSecrets.auth" in without
    given = [f"secrets.serviceSecrets.{spec.name}=s-{spec.name}" for spec in SERVICES]
    manifests = render("minimal", "--set", "secrets.existingSecret=", "--set", ",".join(given),
                       "--set", "secrets.postgresPassword=pg-secret")  # fmt: skip
    (secret,) = of_kind(manifests, "Secret").values()
    assert secret["metadata"]["name"] == "callisto-secrets"
    data = secret["stringData"]
    assert {f"{spec.name}-service-secret" for spec in SERVICES} <= set(data)
    assert data["postgres-password"] == "pg-secret" and data["auth-service-secret"] == "s-auth"


def render_failure(values: str, *extra: str) -> str:
    rendered = helm("template", "callisto", str(CHART), "-f", str(K8S / "values" / f"{values}.yaml"), *extra)
    assert rendered.returncode != 0, "rendered although a required value was missing"
    return rendered.stderr


def test_ha_runs_each_singleton_twice_with_a_budget_and_a_standby_call_manager_beside_the_active() -> None:
    manifests = render("ha")
    deployments = of_kind(manifests, "Deployment")
    budgets = of_kind(manifests, "PodDisruptionBudget")
    for spec in SERVICES:
        deployment = deployments[f"callisto-{spec.name}"]
        if spec.name == "call-manager":
            pod = deployment["spec"]["template"]["spec"]
            assert pod["hostNetwork"] is True and deployment["spec"]["strategy"]["type"] == "Recreate"
            names = [c["name"] for c in pod["containers"]]
            assert names == ["rtpengine", "call-manager-a", "call-manager-b"]  # one rtpengine, two instances
            a, b = (env_of(c) for c in pod["containers"][1:])
            assert a["CALLISTO_CALL_MANAGER_INSTANCE_ID"]["value"] == "$(POD_NAME)-a"
            assert b["CALLISTO_CALL_MANAGER_INSTANCE_ID"]["value"] == "$(POD_NAME)-b"
            assert a["CALLISTO_CALL_MANAGER_SIP_PORT"] == b["CALLISTO_CALL_MANAGER_SIP_PORT"]
            assert a["CALLISTO_CALL_MANAGER_RTPENGINE_HOST"]["value"] == "127.0.0.1"
            continue
        if spec.singleton:
            assert deployment["spec"]["replicas"] == 2
            assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
        assert budgets[f"callisto-{spec.name}"]["spec"]["minAvailable"] == 1
    core_bus = deployments["callisto-core-bus"]["spec"]["template"]["spec"]
    environment = env_of(core_bus["containers"][0])  # scheduled backups onto a volume both pods mount
    assert environment["CALLISTO_CORE_BUS_BACKUP_DIR"]["value"] == "/var/lib/callisto/backups"
    assert "$(POSTGRES_PASSWORD)" in environment["CALLISTO_CORE_BUS_BACKUP_DATABASE_URL"]["value"]
    assert environment["CALLISTO_CORE_BUS_BACKUP_KEEP"]["value"] == "28"
    claim = of_kind(manifests, "PersistentVolumeClaim")["callisto-backups"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    mounted = {"name": "backups", "persistentVolumeClaim": {"claimName": "callisto-backups"}}
    assert mounted in core_bus["volumes"]
    scalers = of_kind(manifests, "HorizontalPodAutoscaler").values()
    autoscaled = {scaler["spec"]["scaleTargetRef"]["name"] for scaler in scalers}
    assert autoscaled == {f"callisto-{s.name}" for s in SERVICES if not s.singleton}


def test_the_prometheus_operator_objects_carry_the_checked_rules_and_the_jobs_they_group_by() -> None:
    rules = ROOT / "deploy" / "observability" / "prometheus" / "callisto-rules.yml"
    carried = CHART / "files" / "callisto-rules.yml"
    assert carried.read_text() == rules.read_text(), "copy deploy/observability/prometheus/callisto-rules.yml"
    manifests = render("ha")
    (rule,) = of_kind(manifests, "PrometheusRule").values()
    assert rule["spec"] == yaml.safe_load(rules.read_text())  # what promtool checked and tested
    monitors = of_kind(manifests, "ServiceMonitor")
    jobs = {
        endpoint["relabelings"][0]["replacement"]
        for monitor in monitors.values()
        for endpoint in monitor["spec"]["endpoints"]
    }
    assert jobs == {f"callisto-{spec.name}" for spec in SERVICES}
    call_manager = monitors["callisto-call-manager"]["spec"]["endpoints"]
    assert [e["port"] for e in call_manager] == ["http-a", "http-b"]  # the active and the standby
    assert not of_kind(render("minimal"), "ServiceMonitor")


def test_development_embeds_one_nats_redis_and_postgres_and_points_every_service_at_them() -> None:
    manifests = render("development")
    servers = of_kind(manifests, "StatefulSet")
    assert set(servers) == {"callisto-nats", "callisto-redis", "callisto-postgres"}
    assert "-js" in servers["callisto-nats"]["spec"]["template"]["spec"]["containers"][0]["args"]
    for workload in of_kind(manifests, "Deployment").values():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            environment = env_of(container)
            for name, item in environment.items():
                if name.endswith("_NATS_URL"):
                    assert item["value"] == "nats://callisto-nats:4222"
                if name.endswith("_REDIS_URL"):
                    assert item["value"] == "redis://callisto-redis:6379/0"
                if name.endswith("_DATABASE_URL"):
                    assert "@callisto-postgres:5432/callisto" in item["value"]
    assert not of_kind(manifests, "NetworkPolicy")


def test_network_policies_admit_the_release_and_the_named_namespaces_only() -> None:
    manifests = render("minimal")
    policies = of_kind(manifests, "NetworkPolicy")
    assert set(policies) == {f"callisto-{s.name}" for s in SERVICES if s.name != "call-manager"}
    for spec in SERVICES:
        if spec.name == "call-manager":  # on the node's network: the node's firewall guards it
            continue
        (http, *others) = policies[f"callisto-{spec.name}"]["spec"]["ingress"]
        assert http["ports"] == [{"port": spec.port, "protocol": "TCP"}]
        sources = http["from"]
        assert sources[0]["podSelector"]["matchLabels"]["app.kubernetes.io/part-of"] == "callisto"
        assert [s["namespaceSelector"]["matchLabels"] for s in sources[1:]] == [
            {"kubernetes.io/metadata.name": "monitoring"}, {"kubernetes.io/metadata.name": "ingress-nginx"}
        ]
        assert all(rule["ports"] == [{"port": 2525, "protocol": "TCP"}] for rule in others)
