"""The deployment files, checked offline (no Docker engine, no cluster needed; issue 14):

- ``deploy/Dockerfile`` passes hadolint (also in ``make lint``) and builds every service;
- ``deploy/compose.yaml`` is valid against the Compose specification (check-jsonschema's vendored
  ``compose-spec.json``) and publishes only the provider callbacks beyond loopback;
- ``deploy/k8s`` renders with kustomize (kubectl's) for both overlays, every object is valid
  against the Kubernetes 1.37 schemas (kubernetes-validate, strict) and the KEDA ScaledObjects
  against KEDA's models (cloudcoil-models-keda); and what the issue asks holds in the rendered
  output: probes, resources, non-root, grace period, PDBs, an Ingress for callbacks only, the api
  closed by NetworkPolicy, secrets referenced never inlined, KEDA max replicas ≤ partitions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
SERVICES = {
    "webhook-ingress": 8080,
    "api": 8084,
    "flow-runner": 8081,
    "dialer": 8082,
    "cdr-sink": 8083,
    "notifier": 8085,
}
K8S_VERSION = "1.37.0"


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    assert path, f"{name} is not installed (a dev dependency)"
    return str(path)


def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [tool("kubectl"), "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module", params=["dev", "prod"])
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_has_a_non_root_target_with_a_health_check_per_service() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    targets = {s.split()[2]: s for s in stages if " AS " in s.split("\n")[0]}
    for name, port in [*SERVICES.items(), ("provider-sim", 8090)]:
        stage = targets[name]
        assert "USER 10001" in stage and f"127.0.0.1:{port}/health" in stage and "HEALTHCHECK" in stage, name
        assert "uv" not in stage.split("\n", 1)[1].replace("uvicorn", ""), f"{name}: uv in the final image"
    assert "tzdata" in targets["base"] and "uv sync --frozen --no-dev" in text and "tools" in targets


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_apache_kafka_in_kraft_and_publishes_only_the_callbacks() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert {"migrate", "topics", *SERVICES} <= set(services)
    assert services["provider-sim"]["profiles"] == ["sim"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert name == "webhook-ingress" or str(port).startswith("127.0.0.1:"), (name, port)


def test_every_rendered_object_is_valid_kubernetes(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    for doc in docs:
        if doc["apiVersion"].startswith("keda.sh/"):
            ScaledObject.model_validate(doc)
        else:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_a_broken_object_is_refused_by_the_validator() -> None:
    """The validation above can fail: an unknown field or a wrong type is refused."""
    deployment = of_kind(render("dev"), "Deployment")["api"]
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    with pytest.raises(ValueError):
        ScaledObject.model_validate({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "spec": {"triggers": 3}})


def max_drain_s() -> float:
    """The largest ``SB_DRAIN_S`` the services accept (its ``le`` bound)."""
    from switchboard.settings import ServiceSettings

    (bound,) = [m.le for m in ServiceSettings.model_fields["drain_s"].metadata if getattr(m, "le", None)]
    return float(bound)


def test_deployments_have_probes_resources_non_root_and_a_grace_period(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    deployments = of_kind(docs, "Deployment")
    assert set(SERVICES) <= set(deployments)
    for name, d in deployments.items():
        pod = d["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        assert c["readinessProbe"]["httpGet"]["path"] in ("/ready", "/health") and c["livenessProbe"], name
        assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], name
        assert c["securityContext"]["runAsNonRoot"] and not c["securityContext"]["allowPrivilegeEscalation"], name
        if name in SERVICES:
            # (a Service's pods: preStop pause while the endpoints drop the pod) → SIGTERM →
            # requests in flight get up to SB_DRAIN_S (at most 40 s) → consumers commit, the sink
            # flushes: the grace period covers the pause and the longest drain the setting allows
            pause = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            assert pod["terminationGracePeriodSeconds"] > pause + max_drain_s(), name
        if name in ("webhook-ingress", "api"):  # behind a Service: new connections until endpoints drop it
            assert c["lifecycle"]["preStop"]["sleep"]["seconds"] >= 5, name


def test_secrets_are_referenced_never_inlined(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    assert of_kind(docs, "Secret") == {}
    config = of_kind(docs, "ConfigMap")
    assert not any("SECRET" in k or "PASSWORD" in k or "API_KEY" in k for c in config.values() for k in c["data"])
    refs = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for d in of_kind(docs, "Deployment").values()
        for e in d["spec"]["template"]["spec"]["containers"][0].get("env", [])
        if "valueFrom" in e
    }
    assert {"database-url", "callback-secret"} <= refs


def test_only_the_provider_callbacks_are_public(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    (ingress,) = of_kind(docs, "Ingress").values()
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"webhook-ingress"}
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in of_kind(docs, "Service").values())
    policies = of_kind(docs, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"]["ingress"] == []
    api_from = policies["api-from-clients-only"]["spec"]["ingress"][0]["from"]
    assert all("switchboard.io/api-client" in str(peer) for peer in api_from)


def test_consumers_scale_on_lag_within_the_partitions_and_http_services_on_cpu(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    partitions = int(of_kind(docs, "ConfigMap")["switchboard-config"]["data"]["SB_KAFKA_PARTITIONS"])
    scaled = of_kind(docs, "ScaledObject")
    assert set(scaled) == {"flow-runner", "dialer", "cdr-sink"}
    for name, so in scaled.items():
        assert so["spec"]["maxReplicaCount"] <= partitions, name
        (trigger,) = so["spec"]["triggers"]
        assert trigger["type"] == "kafka" and trigger["metadata"]["consumerGroup"] == name
    assert set(of_kind(docs, "HorizontalPodAutoscaler")) == {"webhook-ingress", "api"}
    assert set(of_kind(docs, "PodDisruptionBudget")) >= set(SERVICES)
    assert {"switchboard-migrate", "switchboard-topics"} <= set(of_kind(docs, "Job"))


def test_alerts_and_dashboard_use_only_metrics_the_services_export() -> None:
    """Every metric an alert rule or a dashboard panel reads is one ``switchboard.metrics`` defines."""
    from prometheus_client import REGISTRY

    import switchboard.metrics  # noqa: F401  (registers the metrics)

    suffixes = ("", "_total", "_bucket", "_count", "_sum")
    exported = {family.name + suffix for family in REGISTRY.collect() for suffix in suffixes}
    rules = yaml.safe_load((DEPLOY / "observability" / "alerts.yaml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = yaml.safe_load((DEPLOY / "observability" / "grafana-dashboard.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bswitchboard_[a-z_]+", e)}
    assert used and used <= exported, used - exported
