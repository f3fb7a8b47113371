"""The service's settings keep the environment variables they had in the shared settings."""

from pathlib import Path

import pytest
from notifications.config import NotificationsSettings
from passerelle.settings import PlatformSettings


def test_deployments_keep_their_passerelle_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {
        "PASSERELLE_SMTP_URL": "smtps://mailer:secret@smtp.example.org:465",
        "PASSERELLE_MAIL_FROM": "Tafraout <no-reply@tafraout.example.org>",
        "PASSERELLE_MAIL_DIR": "/var/mail/passerelle",
        "PASSERELLE_WEBHOOK_ALLOWED_NETWORKS": '["10.8.0.0/16"]',
        "PASSERELLE_WEBHOOK_TIMEOUT": "3",
        "PASSERELLE_DELIVERY_RETRY_DELAYS": "[1, 2]",
        "PASSERELLE_DISPATCH_INTERVAL": "0.5",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    settings = NotificationsSettings.of(PlatformSettings())

    assert settings.smtp_url is not None
    assert settings.smtp_url.get_secret_value() == "smtps://mailer:secret@smtp.example.org:465"
    assert settings.mail_from == "Tafraout <no-reply@tafraout.example.org>"
    assert settings.mail_dir == Path("/var/mail/passerelle")
    assert settings.webhook_allowed_networks == ["10.8.0.0/16"]
    assert (settings.webhook_timeout, settings.delivery_retry_delays, settings.dispatch_interval) == (
        3,
        [1, 2],
        0.5,
    )


def test_values_given_to_the_platforms_settings_in_the_process_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSERELLE_DISPATCH_INTERVAL", "5")
    platform = PlatformSettings().model_copy(update={"dispatch_interval": 0.1})
    assert NotificationsSettings.of(platform).dispatch_interval == 0.1
