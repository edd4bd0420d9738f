"""Place finding: the table of cases in tests/data/places.yaml, plus the admin1 mapping of key cities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.gazetteer import Gazetteer
from monitor.places import find_places
from monitor.records import Place, Sentence
from monitor.text import sentences

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "places.yaml").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


def _places(text: str, gazetteer: Gazetteer) -> tuple[Place, ...]:
    found = [Sentence("content", i, s) for i, s in enumerate(sentences(text))]
    return find_places(found, gazetteer)


def _names(place: Place) -> set[str]:
    return {place.id, place.name, place.mention}


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 80


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_case(case: dict[str, Any], gazetteer: Gazetteer) -> None:
    places = _places(case["text"], gazetteer)
    seen = set().union(*(_names(p) for p in places)) if places else set()
    missing = [e for e in case.get("expect") or [] if e not in seen]
    wrong = [a for a in case.get("absent") or [] if a in seen]
    found = [(p.id, p.name, p.mention) for p in places]
    assert not missing, f"{case.get('note')}: missing {missing}, found {found}"
    assert not wrong, f"{case.get('note')}: wrongly found {wrong}, found {found}"


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("Aleppo", "region:SY-HL"),
        ("Idlib", "region:SY-ID"),
        ("Hama", "region:SY-HM"),
        ("Abu Kamal", "region:SY-DY"),
        ("Mosul", "region:IQ-NI"),
        ("El Fasher", "region:SD-DN"),
        ("Goma", "region:CD-NK"),
        ("Kharkiv", "region:UA-63"),
        ("Gonaïves", "region:HT-AR"),
        ("Jérémie", "region:HT-GA"),
        ("Kaya", "region:BF-05"),
        ("Djibo", "region:BF-12"),
    ],
)
def test_admin1_of_key_cities(text: str, region: str, gazetteer: Gazetteer) -> None:
    (place,) = _places(f"News from {text} today.", gazetteer)
    assert place.kind == "city"
    assert place.admin1_id == region
    named = gazetteer.get(region)
    assert named is not None
    assert place.admin1 == named.name


def test_a_place_is_reported_once_at_its_first_mention(gazetteer: Gazetteer) -> None:
    text = "Shelling resumed. Aleppo was hit. Later Aleppo was hit again, and Halab burned."
    places = _places(text, gazetteer)
    assert [(p.id, p.sentence, p.mention, p.mentions) for p in places] == [
        ("city:170063", 1, "Aleppo", (1, 2))
    ]


def test_mentions_lists_every_sentence_that_names_the_place(gazetteer: Gazetteer) -> None:
    text = (
        "Aleppo was quiet. Rain fell in Homs. Shelling hit Aleppo and Homs. "
        "Nothing happened. In Aleppo, Halab residents fled."
    )
    places = {p.id: p for p in _places(text, gazetteer)}
    assert places["city:170063"].sentence == 0
    assert places["city:170063"].mentions == (0, 2, 4)
    assert places["city:169577"].mentions == (1, 2)
    assert places["city:169577"].in_sentences() == (1, 2)


def test_mentions_follow_the_sentence_index_not_the_position(gazetteer: Gazetteer) -> None:
    found = [Sentence("title", 7, "Idlib hit"), Sentence("content", 3, "Strikes on Idlib.")]
    (place,) = find_places(found, gazetteer)
    assert (place.sentence, place.mentions) == (7, (3, 7))


def test_place_fields_of_a_city(gazetteer: Gazetteer) -> None:
    (place,) = _places("Strikes hit Idlib.", gazetteer)
    assert place == Place(
        id="city:169389",
        name="Idlib",
        country_code="SY",
        kind="city",
        admin1="Idlib Governorate",
        admin1_id="region:SY-ID",
        mention="Idlib",
        sentence=0,
        mentions=(0,),
    )


def test_a_country_has_no_region(gazetteer: Gazetteer) -> None:
    (place,) = _places("Aid to Yemen was cut.", gazetteer)
    assert (place.id, place.kind, place.admin1, place.admin1_id) == (
        "country:YE",
        "country",
        None,
        None,
    )


def test_no_sentences_no_places(gazetteer: Gazetteer) -> None:
    assert find_places([], gazetteer) == ()


def test_the_index_is_large_and_maps_most_people_to_a_region(gazetteer: Gazetteer) -> None:
    stats = gazetteer.stats
    assert stats.cities > 30000
    assert len(gazetteer) == stats.names > 100000
    assert stats.population_mapped > 0.4


def test_a_cached_gazetteer_finds_the_same_places(tmp_path: Path, gazetteer: Gazetteer) -> None:
    cached = Gazetteer.load(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("gazetteer-15000-*.pickle"))) == 1
    assert len(cached) == len(gazetteer)
    text = "Strikes on Gaza and Idlib province; Kharkiv and Bukamal too."
    assert _places(text, cached) == _places(text, gazetteer)
    again = Gazetteer.load(cache_dir=tmp_path)  # read back, not rebuilt
    assert again.stats == cached.stats
