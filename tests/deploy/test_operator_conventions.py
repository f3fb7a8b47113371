"""Conventions an operator expects of the manifests: the autoscalers own the replica counts, every
object says its release and installation, a Gateway API route beside the Ingress, a pinned NATS chart."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from passerelle.runtime.service import load_services

from .test_kubernetes import DEPLOY, OVERLAYS, ROOT, of_kind, rendered


def test_no_deployment_sets_replicas_since_each_has_an_autoscaler() -> None:
    for overlay in OVERLAYS:
        scaled = {
            hpa["spec"]["scaleTargetRef"]["name"]
            for hpa in of_kind(overlay, "HorizontalPodAutoscaler").values()
        }
        for name, deployment in of_kind(overlay, "Deployment").items():
            assert "replicas" not in deployment["spec"], f"{overlay}: {name}"
            assert name in scaled, f"{overlay}: {name} has no HorizontalPodAutoscaler"


def test_every_object_and_pod_names_its_version_and_instance_but_no_selector_does() -> None:
    for overlay in OVERLAYS:
        for document in rendered(overlay):
            labels = document["metadata"].get("labels", {})
            where = f"{overlay}: {document['kind']} {document['metadata']['name']}"
            assert labels.get("app.kubernetes.io/version") == "0.1.0", where
            assert labels.get("app.kubernetes.io/instance"), where
        for deployment in of_kind(overlay, "Deployment").values():
            assert "app.kubernetes.io/version" in deployment["spec"]["template"]["metadata"]["labels"]
            assert "app.kubernetes.io/version" not in deployment["spec"]["selector"]["matchLabels"]


def with_component(tmp_path: Path, component: str) -> list[dict[str, Any]]:
    """The base with one of deploy/components, rendered as an operator's overlay renders it."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [os.path.relpath(DEPLOY / "base", overlay)],
                "components": [os.path.relpath(DEPLOY / "components" / component, overlay)],
            }
        )
    )
    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
    output = subprocess.run(
        [kubectl, "kustomize", str(overlay)], check=True, capture_output=True, text=True
    ).stdout
    return [document for document in yaml.safe_load_all(output) if document]


def test_the_gateway_api_component_routes_what_the_ingress_routes_and_replaces_it(tmp_path: Path) -> None:
    documents = with_component(tmp_path, "gateway-api")
    assert not [d for d in documents if d["kind"] == "Ingress"]
    [route] = [d for d in documents if d["kind"] == "HTTPRoute"]
    assert len(route["spec"]["rules"]) <= 16  # Gateway API's limit
    routed = {
        (match["path"]["value"], rule["backendRefs"][0]["name"])
        for rule in route["spec"]["rules"]
        for match in rule["matches"]
    }
    [ingress] = of_kind("prod", "Ingress").values()
    expected = {
        (path["path"], path["backend"]["service"]["name"])
        for path in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert routed == expected, (
        "deploy/components/gateway-api/httproute.yaml must route what the Ingress routes"
    )


def test_the_nats_chart_version_is_pinned_where_it_is_installed() -> None:
    values = (DEPLOY / "nats" / "values.yaml").read_text()
    assert "--version 1.3.0" in values and "--version 1.3.0" in (ROOT / "docs" / "kubernetes.md").read_text()
    assert yaml.safe_load(values)["promExporter"] == {"enabled": True}


def test_compose_runs_nats_postgresql_the_provisioning_and_every_installed_service() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert {"nats", "postgres", "provision"} <= set(compose)
    for definition in load_services():
        service = compose[definition.name]
        assert service["command"] == ["serve", definition.name]
        assert service["environment"]["PASSERELLE_DATABASE_URL"].endswith(f"/passerelle_{definition.name}")
        assert service["depends_on"]["provision"] == {"condition": "service_completed_successfully"}
    ports = [service["ports"][0] for service in compose.values() if "ports" in service]
    assert len(ports) == len(set(ports))


def test_prometheus_may_scrape_every_pod_and_the_podmonitor_component_does_with_the_token(
    tmp_path: Path,
) -> None:
    policy = of_kind("prod", "NetworkPolicy")["passerelle-metrics-from-prometheus"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "passerelle"}}
    assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    [monitor] = [d for d in with_component(tmp_path, "podmonitor") if d["kind"] == "PodMonitor"]
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert endpoint["authorization"]["credentials"]["name"] == "passerelle-metrics"
