"""The reminder's delay is read from the variable the issue names."""

import pytest
from gatherings.config import GatheringsSettings


def test_the_reminder_delay_comes_from_passerelle_gathering_reminder_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert GatheringsSettings().reminder_hours == 24
    monkeypatch.setenv("PASSERELLE_GATHERING_REMINDER_HOURS", "2.5")
    monkeypatch.setenv("PASSERELLE_GATHERINGS_PUBLIC_URL", "https://passerelle.example.org")
    settings = GatheringsSettings()
    assert (settings.reminder_hours, settings.public_url) == (2.5, "https://passerelle.example.org")
