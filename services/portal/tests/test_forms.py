"""Forms speak the API's language: inputs named after fields, repeated for lists, dotted when nested."""

from __future__ import annotations

import pytest
from passerelle.settings import PlatformSettings
from portal.app import build_portal
from portal.config import PortalSettings
from portal.web import nest


def test_a_form_becomes_the_apis_body() -> None:
    form = {
        "csrf_token": ["t"],
        "idempotency_key": ["k"],
        "action": ["register"],
        "display_name": ["Fatima"],
        "languages": ["fr"],
        "attachments.0.territory_id": ["tafraout"],
        "attachments.0.bond": ["heart"],
        "attachments.1.territory_id": [""],
        "attachments.1.bond": [""],
        "needs.0.skill": ["energy.solar_pv_design"],
        "needs.1.skill": ["health.nurse_training"],
        "funding.goal_amount": ["1000"],
    }
    assert nest(form, frozenset({"languages"})) == {
        "display_name": "Fatima",
        "languages": ["fr"],
        "attachments": [{"territory_id": "tafraout", "bond": "heart"}],
        "needs": [{"skill": "energy.solar_pv_design"}, {"skill": "health.nurse_training"}],
        "funding": {"goal_amount": "1000"},
    }


def test_the_development_sign_in_never_starts_beside_an_identity_provider() -> None:
    settings = PlatformSettings(jwt_secret="a-development-secret-of-32-bytes-or-more")
    with pytest.raises(ValueError, match="cannot be set together"):
        build_portal(settings, PortalSettings(dev_login=True, oidc_issuer="https://id.example.org/realms/p"))
    build_portal(settings, PortalSettings(dev_login=True))
