"""Steps of the ideas service's flows, shared by its integration and browser tests."""

from __future__ import annotations

from datetime import date, timedelta


def phases(ideas_from: date) -> list[dict[str, str]]:
    """The five chained phases, the `ideas` phase starting on `ideas_from` for two weeks."""
    bounds = [ideas_from - timedelta(days=30), ideas_from, ideas_from + timedelta(days=14)]
    bounds += [
        bounds[-1] + timedelta(days=14),
        bounds[-1] + timedelta(days=28),
        bounds[-1] + timedelta(days=2000),
    ]
    names = ("diagnosis", "ideas", "prioritisation", "adoption", "monitoring")
    return [
        {"phase": name, "starts_on": str(bounds[i]), "ends_on": str(bounds[i + 1] - timedelta(days=1))}
        for i, name in enumerate(names)
    ]
