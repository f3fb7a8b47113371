"""The skill taxonomy: what it covers, how it is searched, and the ESCO import."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from passerelle.cli import main
from passerelle.taxonomy import Skill, Taxonomy, TaxonomyError, curated_skills, load_taxonomy
from passerelle.taxonomy.esco import import_esco

ESCO_SAMPLE = Path(__file__).parent / "data" / "esco"
NEEDED_SECTORS = {
    "health",
    "education",
    "water",
    "energy",
    "agriculture",
    "construction",
    "finance",
    "entrepreneurship",
    "digital",
    "culture",
    "law_administration",
}


def test_the_curated_taxonomy_has_a_few_hundred_skills_in_every_sector_projects_need() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy) >= 300
    assert taxonomy.sectors >= NEEDED_SECTORS
    for sector in NEEDED_SECTORS:
        assert len(taxonomy.search(sector=sector)) >= 10, sector


def test_every_curated_skill_is_labelled_in_english_french_and_arabic() -> None:
    arabic = re.compile(r"[\u0600-\u06ff]")
    for skill in curated_skills():
        assert skill.labels["en"] and skill.labels["fr"], skill.code
        assert arabic.search(skill.labels["ar"]), skill.code


def test_esco_uris_are_well_formed_and_each_names_one_skill() -> None:
    uris = [skill.esco_uri for skill in curated_skills() if skill.esco_uri]
    assert len(uris) >= 30
    assert len(set(uris)) == len(uris)
    assert all(re.fullmatch(r"http://data\.europa\.eu/esco/skill/[0-9a-f-]{36}", uri) for uri in uris)


def test_a_label_is_given_in_the_asked_language_and_falls_back_to_english() -> None:
    nursing = load_taxonomy()["health.nursing"]
    assert nursing.label("fr") == "soins infirmiers"
    assert nursing.label("ar-MA") == "التمريض"
    assert nursing.label("nl") == "nursing"


def test_search_finds_skills_by_the_start_of_a_word_in_the_members_language() -> None:
    found = [skill.code for skill in load_taxonomy().search("infirm", "fr")]
    assert found[:2] == ["health.nursing", "health.nurse_training"]


def test_search_ignores_accents_case_and_arabic_hamza_seats() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.search("ENERGIE SOLAIRE", "fr")[0].code == "energy.solar"
    # Typed without the hamza under the alef of الإنارة.
    assert [skill.code for skill in taxonomy.search("الانارة", "ar")] == ["energy.public_lighting"]


def test_search_ranks_matches_in_the_asked_language_before_matches_in_another() -> None:
    found = load_taxonomy().search("water", "fr")
    assert found, "an English word still finds skills for a French reader"
    assert all("water" in skill.labels["en"] or "water" in skill.code for skill in found)


def test_broader_and_narrower_links_give_ancestors_and_descendants() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.ancestors("water.solar_pumping") == ["water.pumping", "water.supply_engineering", "water"]
    assert {"energy.solar_pv_design", "energy.solar_pv_install"} <= taxonomy.descendants("energy.solar")
    assert "energy.solar_pv_install" in taxonomy["water.solar_pumping"].related


def test_a_link_to_an_unknown_skill_or_a_loop_is_refused() -> None:
    def skill(code: str, broader: str | None = None) -> Skill:
        return Skill(code=code, sector="x", labels={"en": code}, broader=(broader,) if broader else ())

    with pytest.raises(TaxonomyError, match="unknown skill"):
        Taxonomy([skill("x.a", broader="x.missing")])
    with pytest.raises(TaxonomyError, match="broader than itself"):
        Taxonomy([skill("x.a", broader="x.b"), skill("x.b", broader="x.a")])


def test_import_esco_adds_released_skills_with_their_hierarchy_and_languages(tmp_path: Path) -> None:
    destination = tmp_path / "taxonomy.json"
    report = import_esco(ESCO_SAMPLE, destination)

    assert (report.skills, report.linked_to_curated, report.languages) == (6, 2, ("en", "fr"))
    taxonomy = load_taxonomy(destination)
    assert len(taxonomy) == len(curated_skills()) + 4
    installed = taxonomy["esco:skill/sample-0001"]
    assert installed.label("fr") == "installer des systèmes photovoltaïques"
    assert installed.broader == ("energy.solar",), "ESCO's broader concept is the curated skill"
    assert installed.sector == "energy", "the sector comes from the nearest curated ancestor"
    assert installed.related == ("energy.solar_pv_install",), "linked to the curated skill by its label"
    assert taxonomy["esco:skill/sample-0005"].sector == "other"
    assert "esco:skill/sample-0004" not in taxonomy, "a concept that is not released is left out"
    assert taxonomy.search("PV systems")[0].code == "esco:skill/sample-0001", (
        "alternative labels are searched"
    )


def test_import_esco_keeps_the_curated_labels_and_hierarchy_of_a_skill_it_links_to(tmp_path: Path) -> None:
    destination = tmp_path / "taxonomy.json"
    import_esco(ESCO_SAMPLE, destination)
    solar = load_taxonomy(destination)["energy.solar"]
    assert solar.label("fr") == "énergie solaire"
    assert solar.broader == ("energy",)
    assert solar.alt_labels["en"] == ("solar power", "energy from sunlight")


def test_the_import_command_writes_the_file_that_up_reads_from_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["taxonomy", "import-esco", str(ESCO_SAMPLE), "--data-dir", str(tmp_path)])
    assert "imported 6 ESCO skills" in capsys.readouterr().out
    skills = json.loads((tmp_path / "taxonomy.json").read_text(encoding="utf-8"))["skills"]
    assert {skill["esco_uri"] for skill in skills} >= {"http://data.europa.eu/esco/skill/sample-0003"}


def test_the_import_command_fails_clearly_on_a_folder_without_esco_files(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no skills_<lang>\.csv"):
        main(["taxonomy", "import-esco", str(tmp_path), "--out", str(tmp_path / "t.json")])
