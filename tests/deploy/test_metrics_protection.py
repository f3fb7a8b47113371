"""In production, /metrics answers only the scraper holding PASSERELLE_METRICS_TOKEN."""

from .test_kubernetes import SERVICES, of_kind


def test_the_prod_overlay_gives_every_service_the_metrics_token_from_a_required_secret() -> None:
    for service in SERVICES:
        [container] = of_kind("prod", "Deployment")[f"passerelle-{service}"]["spec"]["template"]["spec"][
            "containers"
        ]
        assert {"secretRef": {"name": "passerelle-metrics"}} in container["envFrom"], service


def test_the_dev_overlay_leaves_metrics_open() -> None:
    for deployment in of_kind("dev", "Deployment").values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert all(
            source.get("secretRef", {}).get("name") != "passerelle-metrics" for source in container["envFrom"]
        )
