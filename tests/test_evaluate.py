"""Metrics of monitor.evaluate on small hand-made sets, loader errors, and the shape of the
labelled set in tests/data/labelled.yaml."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from monitor.evaluate import (
    LabelledItem,
    LabelledSetError,
    Prediction,
    evaluate,
    format_report,
    load_labelled,
    place_key,
    report_as_dict,
)

DATA = Path(__file__).parent / "data" / "labelled.yaml"
RULES = ("health-care-attack", "displacement")
HC, DP = RULES


def item(
    item_id: str,
    rules: tuple[str, ...] = (),
    displaced: tuple[int, str] | None = None,
    places: tuple[str, ...] = (),
    lang: str = "en",
) -> LabelledItem:
    return LabelledItem(item_id, lang, "", "some text", frozenset(rules), displaced, places)


# --- metrics ---------------------------------------------------------------------------------


def test_rule_counts_precision_recall_f1() -> None:
    items = [
        item("a", (HC,)),
        item("b", (HC,)),
        item("c", (HC, DP)),
        item("d"),
        item("e", (DP,)),
    ]
    preds = {
        "a": Prediction(frozenset({HC})),
        "b": Prediction(),
        "c": Prediction(frozenset({HC, DP, "new-region"})),
        "d": Prediction(frozenset({HC})),
    }
    report = evaluate(items, lambda it: preds.get(it.id, Prediction()), RULES)
    hc, dp = report.rules
    assert (hc.tp, hc.fp, hc.fn, hc.tn) == (2, 1, 1, 1)
    assert hc.false_positives == ("d",)
    assert hc.false_negatives == ("b",)
    assert hc.precision == pytest.approx(2 / 3)
    assert hc.recall == pytest.approx(2 / 3)
    assert hc.f1 == pytest.approx(2 / 3)
    assert (dp.tp, dp.fp, dp.fn, dp.tn) == (1, 0, 1, 3)
    assert dp.precision == 1.0
    assert dp.recall == 0.5
    assert dp.f1 == pytest.approx(2 / 3)


def test_ratios_are_none_when_undefined() -> None:
    report = evaluate([item("a")], lambda it: Prediction(), RULES)
    hc = report.rules[0]
    assert (hc.precision, hc.recall, hc.f1) == (None, None, None)
    assert report.figures.accuracy is None
    assert report.places.recall is None
    assert report.places.precision is None


def test_displaced_accuracy_needs_value_and_unit() -> None:
    items = [
        item("a", displaced=(50000, "people")),
        item("b", displaced=(3400, "households")),
        item("c", displaced=(20000, "people")),
        item("d", displaced=(1200, "people")),
        item("e"),
        item("f"),
        item("g"),
        item("h"),
    ]
    preds = {
        "a": Prediction(displaced=(50000, "people")),
        "b": Prediction(displaced=(3400, "people")),  # right number, wrong unit
        "c": Prediction(displaced=(2000, "people")),
        "e": Prediction(displaced=(10000, "people")),
    }
    figures = evaluate(items, lambda it: preds.get(it.id, Prediction()), RULES).figures
    assert (figures.stated, figures.exact) == (4, 1)
    assert figures.accuracy == 0.25
    assert figures.wrong == ("b", "c", "d")
    assert figures.unstated == 4
    assert figures.invented == ("e",)
    assert figures.invented_rate == 0.25


def test_place_recall_and_precision_with_aliases_and_kind_words() -> None:
    items = [
        item("a", places=("Idlib", "Syria", "Hama")),
        item("b", places=("Deir ez-Zor", "Abu Kamal")),
        item("c", places=("Kyiv",)),
        item("d"),
    ]
    preds = {
        "a": Prediction(
            places=(
                ("Idlib Governorate", "region:SY-ID", "إدلب"),
                ("Idlib Governorate", "region:SY-ID", "Idleb"),  # same place twice: one
                ("Hamah", "region:SY-HM", "حماة"),
                ("Turkey", "country:TR", "Turkish"),
            )
        ),
        "b": Prediction(
            places=(
                ("Dayr az Zawr", "region:SY-DY", "Deir al-Zour"),
                ("Al Bukamal", "city:170000", "Albu Kamal"),
            )
        ),
        "c": Prediction(places=(("Kiev", "city:703448", "Kiev"),)),
        "d": Prediction(places=(("Paris", "city:2988507", "Paris"),)),
    }
    places = evaluate(items, lambda it: preds.get(it.id, Prediction()), RULES).places
    assert (places.labelled, places.found) == (6, 5)
    assert places.missed == (("a", "Syria"),)
    assert (places.predicted, places.confirmed) == (7, 5)
    assert places.extra == (("a", "Turkey"), ("d", "Paris"))
    assert places.recall == pytest.approx(5 / 6)
    assert places.precision == pytest.approx(5 / 7)


def test_place_matching_does_not_translate_or_confuse_neighbours() -> None:
    items = [item("a", places=("Syria", "South Sudan", "North Kivu"))]
    pred = Prediction(
        places=(
            ("Syrie", "", "Syrie"),
            ("Sudan", "country:SD", "Sudan"),
            ("South Kivu", "region:CD-SK", "Sud-Kivu"),
        )
    )
    places = evaluate(items, lambda it: pred, RULES).places
    assert places.found == 0
    assert places.confirmed == 0


def test_extra_aliases_extend_the_built_in_groups() -> None:
    items = [item("a", places=("Syria",))]
    pred = Prediction(places=(("Syrie", "", "Syrie"),))
    report = evaluate(items, lambda it: pred, RULES, aliases=[("Syria", "Syrie")])
    assert report.places.found == 1


def test_place_key_is_lenient_about_spelling_not_words() -> None:
    assert place_key("Al-Hasakah Governorate") == place_key("Hasakah")
    assert place_key("Port au Prince") == place_key("Port-au-Prince")
    assert place_key("Tillabéri") == place_key("tillaberi")
    assert place_key("Sumy Oblast") == place_key("Sumy")
    assert place_key("South Sudan") != place_key("Sudan")
    assert place_key("State") == "state"  # a kind word alone stays


def test_by_language_splits_the_same_metrics() -> None:
    items = [item("a", (HC,), lang="en"), item("b", (HC,), lang="ar"), item("c", lang="ar")]
    report = evaluate(items, lambda it: Prediction(frozenset({HC})), RULES)
    langs = dict(report.by_language)
    assert sorted(langs) == ["ar", "en"]
    assert (langs["ar"].rules[0].tp, langs["ar"].rules[0].fp) == (1, 1)
    assert (langs["en"].rules[0].tp, langs["en"].rules[0].fp) == (1, 0)
    assert langs["ar"].by_language == ()


def test_a_failing_predictor_names_the_item() -> None:
    def boom(it: LabelledItem) -> Prediction:
        raise ValueError("bad input")

    with pytest.raises(RuntimeError, match="item a: bad input"):
        evaluate([item("a")], boom, RULES)


def test_report_text_and_json() -> None:
    items = [item("a", (HC,), (50000, "people"), ("Idlib",)), item("b")]
    preds = {"b": Prediction(frozenset({HC}), (10, "people"), (("Aleppo", "city:1", "Aleppo"),))}
    report = evaluate(items, lambda it: preds.get(it.id, Prediction()), RULES)
    text = format_report(report)
    assert "Evaluated 2 items" in text
    assert "health-care-attack false positives (1): b" in text
    assert "health-care-attack false negatives (1): a" in text
    assert "displaced figure wrong (1): a" in text
    assert "displaced figure invented (1): b" in text
    assert "places missed (1): a (Idlib)" in text
    assert "places extra (1): b (Aleppo)" in text
    data = json.loads(json.dumps(report_as_dict(report)))
    assert data["rules"][HC]["fp"] == 1
    assert data["rules"][HC]["precision"] == 0.0
    assert data["rules"][DP]["recall"] is None
    assert data["displaced"]["invented"] == ["b"]
    assert data["places"]["missed"] == [["a", "Idlib"]]
    assert data["by_language"]["en"]["items"] == 2


def test_format_report_shortens_long_failure_lists() -> None:
    items = [item(f"i{n:02d}", (HC,)) for n in range(20)]
    text = format_report(evaluate(items, lambda it: Prediction(), RULES), max_ids=3)
    assert "false negatives (20): i00, i01, i02 ... and 17 more" in text


# --- loading ---------------------------------------------------------------------------------

GOOD = """\
- id: a-1
  lang: en
  title: "A headline"
  text: "Some 3,400 families fled Kalehe."
  rules: [displacement]
  displaced: {value: 3400, unit: households}
  places: [Kalehe]
  tags: [households]
- id: a-2
  lang: fr
  text: "Rien."
  rules: []
"""


def test_load_yaml(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(GOOD, encoding="utf-8")
    first, second = load_labelled(path)
    assert first == LabelledItem(
        "a-1",
        "en",
        "A headline",
        "Some 3,400 families fled Kalehe.",
        frozenset({"displacement"}),
        (3400, "households"),
        ("Kalehe",),
        ("households",),
    )
    assert (second.title, second.displaced, second.places, second.rules) == (
        "",
        None,
        (),
        frozenset(),
    )


def test_load_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {"id": "j-1", "lang": "es", "text": "Miles huyeron.", "rules": [], "displaced": None},
        {"id": "j-2", "lang": "ar", "text": "نزح 50 ألف شخص", "rules": ["displacement"],
         "displaced": {"value": 50000, "unit": "people"}},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    items = load_labelled(path)
    assert [i.id for i in items] == ["j-1", "j-2"]
    assert items[1].displaced == (50000, "people")


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("  lang: fr\n", "", "set.yaml:9: missing key 'lang'"),
        ("unit: households", "unit: families", "set.yaml:6: displaced unit must be one of"),
        ("value: 3400", "value: yes", "set.yaml:6: displaced value must be a positive integer"),
        ("value: 3400", "value: -5", "set.yaml:6: displaced value must be a positive integer"),
        ("id: a-2", "id: a-1", "set.yaml:9: duplicate id 'a-1' (first on line 1)"),
        ("  places: [Kalehe]", "  place: [Kalehe]", "set.yaml:7: unknown key 'place'"),
        ("rules: []", "rules: none", "set.yaml:12: 'rules' must be a list of non-empty strings"),
        ('text: "Rien."', 'text: "  "', "set.yaml:11: 'text' must be a non-empty string"),
        ("  tags: [households]", "  tags: [households", "set.yaml:"),
    ],
)
def test_load_errors_name_file_and_line(
    tmp_path: Path, replace: str, by: str, message: str
) -> None:
    assert replace in GOOD
    path = tmp_path / "set.yaml"
    path.write_text(GOOD.replace(replace, by, 1), encoding="utf-8")
    with pytest.raises(LabelledSetError) as info:
        load_labelled(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path) + ":")


def test_load_errors_for_shapes(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text("id: x\n", encoding="utf-8")
    with pytest.raises(LabelledSetError, match=r"set.yaml:1: expected a list of items"):
        load_labelled(path)
    path.write_text("- just text\n", encoding="utf-8")
    with pytest.raises(LabelledSetError, match=r"set.yaml:1: an item must be a mapping"):
        load_labelled(path)


def test_load_jsonl_errors_give_the_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    good = json.dumps({"id": "a", "lang": "en", "text": "t", "rules": []})
    path.write_text(good + "\n\n{not json}\n", encoding="utf-8")
    with pytest.raises(LabelledSetError, match=r"set.jsonl:3: invalid JSON"):
        load_labelled(path)
    path.write_text(good + "\n" + json.dumps({"id": "b", "lang": "en", "rules": []}) + "\n")
    with pytest.raises(LabelledSetError, match=r"set.jsonl:2: missing key 'text'"):
        load_labelled(path)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LabelledSetError, match="cannot read"):
        load_labelled(tmp_path / "nope.yaml")


# --- the shipped labelled set ------------------------------------------------------------------

HARD_NEGATIVE_KINDS = {
    # health-care-attack
    "treated-wounded", "received-casualties", "overwhelmed", "no-hospital-hit",
    "denied-targeting", "hospital-opening", "health-strike", "hospital-shelter",
    "hospital-budget", "market-attack-victims", "planned-attack",
    # displaced figure
    "money", "troops", "date-year", "percentage", "age", "casualty-count", "affected-count",
    "in-need-count", "returnees", "other-clause", "no-number", "duration",
}  # fmt: skip
POSITIVE_FORMS = {
    "airstrike", "ambulance", "looted", "health-workers-killed", "besieged", "stormed", "raided",
    "who-count", "attacked-while-denied", "comma-thousands", "dot-thousands", "space-thousands",
    "arabic-indic-digits", "lakh", "crore", "juta", "decimal-million", "number-words", "vague",
    "range", "households", "forced-to-flee", "uprooted", "driven-from-homes", "evacuated",
    "sheltering", "newly-displaced", "transliteration", "accents",
}  # fmt: skip


@pytest.fixture(scope="module")
def labelled() -> list[LabelledItem]:
    return load_labelled(DATA)


def test_labelled_set_size_and_ids(labelled: list[LabelledItem]) -> None:
    assert len(labelled) >= 240
    ids = [i.id for i in labelled]
    assert len(set(ids)) == len(ids)
    assert all(i.id.startswith(i.lang + "-") for i in labelled)


def test_labelled_set_languages(labelled: list[LabelledItem]) -> None:
    counts = Counter(i.lang for i in labelled)
    for lang in ("en", "fr", "es", "ar"):
        assert counts[lang] >= 25, lang
    assert counts["en"] > counts["fr"] + counts["es"] + counts["ar"]


def test_labelled_set_labels_are_consistent(labelled: list[LabelledItem]) -> None:
    assert sum(i.displaced is None for i in labelled) >= 100
    for it in labelled:
        assert it.rules <= set(RULES), it.id
        assert 1 <= len(it.text.split(". ")) <= 8, it.id
        if "hard-negative" in it.tags:
            assert len(set(it.tags)) >= 2, f"{it.id}: a hard negative says what kind it is"
        # the displacement rule fires at 10,000 people, a household counting as five
        people = (
            0
            if it.displaced is None
            else it.displaced[0] * (5 if it.displaced[1] == "households" else 1)
        )
        if DP in it.rules and it.displaced is not None:
            assert people >= 10_000, it.id
        if DP not in it.rules and people >= 10_000:
            assert {"hard-negative", "historical"} & set(it.tags), it.id


def test_labelled_set_covers_every_kind(labelled: list[LabelledItem]) -> None:
    tags = Counter(t for i in labelled for t in i.tags)
    hard = Counter(t for i in labelled if "hard-negative" in i.tags for t in i.tags)
    assert set(hard) >= HARD_NEGATIVE_KINDS, HARD_NEGATIVE_KINDS - set(hard)
    assert set(tags) >= POSITIVE_FORMS, POSITIVE_FORMS - set(tags)
    rules = Counter(r for i in labelled for r in i.rules)
    assert rules[HC] >= 60
    assert rules[DP] >= 60
    assert sum(not i.rules for i in labelled) >= 80
    for lang in ("fr", "es", "ar"):
        mine = [i for i in labelled if i.lang == lang]
        assert any(HC in i.rules for i in mine), lang
        assert any(DP in i.rules for i in mine), lang
        assert any("hard-negative" in i.tags for i in mine), lang
