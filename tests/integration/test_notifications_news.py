"""Territory news on the real NATS and PostgreSQL, told in chunks of their own transactions."""

from __future__ import annotations

from pathlib import Path

from passerelle.contracts import MemberErased, MemberRegistered, ProjectPublished, TerritoryRegistered

from ..harness import Databases, eventually, settings_for, start_platform
from .scenario import publish


def _member(member_id: str) -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        kind="person",
        display_name=member_id.title(),
        email=f"{member_id}@example.org",
        locale="fr",
        country_of_residence="BE",
        time_zone="Europe/Brussels",
        languages=["fr"],
        attachments=[{"territory_id": "tafraout", "bond": "origin"}],
    )


async def test_news_of_a_territory_reach_each_reader_once_in_chunks_but_the_author_and_the_erased(
    clean_nats: str, databases: Databases, tmp_path: Path
) -> None:
    settings = settings_for(clean_nats, mail_dir=tmp_path / "mail", fan_out_chunk=3)
    platform = await start_platform(settings, databases)
    try:
        await publish(
            platform,
            TerritoryRegistered(territory_id="tafraout", name="Tafraout", country="MA", level="commune"),
        )
        readers = [f"reader-{n}" for n in range(8)]
        for member_id in ["amina", "gone", *readers]:
            await publish(platform, _member(member_id))
        await eventually(lambda: platform.drained("MEMBERS", "notifications__MemberRegistered_v1", 10))
        news = {"territory_news": ["tafraout"]}
        for member_id in ["amina", "gone", *readers]:
            await platform.call(
                "PUT", f"/notification-preferences/{member_id}", member_id, json=news, expect=200
            )
        await publish(platform, MemberErased(member_id="gone"))
        await eventually(lambda: platform.drained("MEMBERS", "notifications__MemberErased_v1"))

        await publish(
            platform,
            ProjectPublished(
                project_id="p-health",
                territory_id="tafraout",
                owner_member_id="amina",
                title="Solar health post",
                summary="Power the health post of Tafraout with solar panels.",
                sector="energy",
                languages=["fr"],
                needs=[],
            ),
        )

        async def news_told() -> list[str]:
            delivered = await platform.events("NOTIFICATIONS")
            told = [
                event["data"]["member_id"]
                for event in delivered
                if event["type"] == "passerelle.notifications.NotificationDelivered.v1"
                and event["data"]["kind"] == "project_published"
                and event["data"]["channel"] == "inbox"
            ]
            return told if len(told) >= len(readers) else []

        assert sorted(await eventually(news_told)) == readers  # once each; not the author, not the erased
        for reader in readers:
            found = await platform.call(
                "GET", "/notifications", reader, params={"member_id": reader}, expect=200
            )
            assert [n["kind"] for n in found].count("project_published") == 1
    finally:
        await platform.stop()
