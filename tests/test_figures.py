"""Figures and numbers read from text: tables of cases in tests/data, plus properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.figures import extract_figures, figures_in, format_figure
from monitor.numbers import digits_value, find_quantities, parse_number
from monitor.records import Figure, Sentence
from monitor.text import sentence_spans

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "figures.yaml").read_text(encoding="utf-8")
)


def _sentences(text: str) -> list[Sentence]:
    return [Sentence("content", i, text[a:b]) for i, (a, b) in enumerate(sentence_spans(text))]


def _seen(f: Figure, want: dict[str, Any]) -> dict[str, Any]:
    got = {"kind": f.kind, "value": f.value, "unit": f.unit, "exact": f.exact}
    got["value_max"] = f.value_max
    if "qualifier" in want:
        got["qualifier"] = f.qualifier
    return got


def _case_params() -> list[Any]:
    out = []
    for n, case in enumerate(CASES):
        marks = [pytest.mark.xfail(reason=case["xfail"])] if "xfail" in case else []
        out.append(pytest.param(case, id=f"{n:03d}-{case['text'][:40]}", marks=marks))
    return out


@pytest.mark.parametrize("case", _case_params())
def test_figure_table(case: dict[str, Any]) -> None:
    figures = extract_figures(_sentences(case["text"]), case.get("language"))
    wanted = [{"value_max": None, **w} for w in case["expect"]]
    assert [_seen(f, w) for f, w in zip(figures, wanted, strict=False)] == wanted[: len(figures)]
    assert len(figures) == len(wanted), [format_figure(f) for f in figures]
    for f in figures:
        assert f.phrase
        assert f.phrase in case["text"]


def test_the_table_is_large_and_covers_four_languages() -> None:
    assert len(CASES) >= 120
    langs = {c.get("language") for c in CASES}
    assert {"en", "fr", "es", "ar", None} <= langs


def test_figure_records_sentence_index_and_phrase() -> None:
    text = "Shelling hit the market. Nearly 50,000 people have been displaced in recent days."
    (f,) = extract_figures(_sentences(text), "en")
    assert f.sentence == 1
    assert f.phrase == "Nearly 50,000 people have been displaced"
    assert format_figure(f) == "displaced: nearly 50,000 people"


def test_format_figure_ranges_households_and_vague() -> None:
    (r,) = figures_in("Between 3,000 and 5,000 families fled.", 0, "en")
    assert format_figure(r) == "displaced: 3,000 to 5,000 households"
    (v,) = figures_in("Thousands of people fled.", 0, "en")
    assert format_figure(v) == "displaced: 2,000+ people (vague)"
    (n,) = figures_in("About 1.8 million people are in need of aid.", 0, "en")
    assert format_figure(n) == "in need: about 1,800,000 people"


# --- numbers -------------------------------------------------------------------------------------
NUMBERS = [
    ("57,000", "en", 57000),
    ("54.264", "de", 54264),
    ("54.264", "es", 54264),
    ("54.264", "id", 54264),
    ("40 000", "fr", 40000),
    ("40\u202f000", "fr", 40000),
    ("40\u00a0000", None, 40000),
    ("1,20,000", "en", 120000),
    ("1.2 lakh", "en", 120000),
    ("2 crore", "en", 20000000),
    ("1.3 million", "en", 1300000),
    ("4,5 millions", "fr", 4500000),
    ("3,5 juta", "id", 3500000),
    ("2.5 billion", "en", 2500000000),
    ("1,2 millón", "es", 1200000),
    ("1.300 millones", "es", 1300000000),
    ("12k", None, 12000),
    ("٥٠ ألف", "ar", 50000),
    ("١٢٠٬٠٠٠", "ar", 120000),
    ("1,234.5 thousand", "en", 1234500),
    ("four million", "en", 4000000),
    ("two thousand", None, 2000),
    ("twenty-five thousand", "en", 25000),
    ("a hundred and fifty", "en", 150),
    ("two million five hundred thousand", "en", 2500000),
    ("half a million", "en", 500000),
    ("deux mille", "fr", 2000),
    ("quatre millions", "fr", 4000000),
    ("vingt mille", "fr", 20000),
    ("cinquante mille", "fr", 50000),
    ("quatre-vingt-dix", "fr", 90),
    ("vingt et un mille", "fr", 21000),
    ("dos mil", "es", 2000),
    ("cuatro millones", "es", 4000000),
    ("cincuenta mil", "es", 50000),
    ("treinta y cinco mil", "es", 35000),
    ("mil millones", "es", 1000000000),
    ("ألفان", "ar", 2000),
    ("ثلاثة آلاف", "ar", 3000),
    ("خمسون ألفا", "ar", 50000),
    ("مليونا", "ar", 2000000),
    ("خمسة وعشرون ألفا", "ar", 25000),
    ("hundreds", "en", 200),
    ("thousands", "en", 2000),
    ("tens of thousands", "en", 20000),
    ("hundreds of thousands", "en", 200000),
    ("millions", "en", 2000000),
    ("dozens", "en", 24),
    ("scores", "en", 40),
    ("milliers", "fr", 2000),
    ("dizaines de milliers", "fr", 20000),
    ("miles", "es", 2000),
    ("آلاف", "ar", 2000),
    ("عشرات الآلاف", "ar", 20000),
    ("عشرات", "ar", 24),
    ("dizaines", "fr", 24),
    ("decenas", "es", 24),
    ("مليون و200 ألف", "ar", 1200000),
    ("ثلاثة ملايين و500 ألف", "ar", 3500000),
    ("مليونان و300 ألف", "ar", 2300000),
    ("مليون ومائتي ألف", "ar", 1200000),
]


@pytest.mark.parametrize(("text", "language", "value"), NUMBERS)
def test_numbers(text: str, language: str | None, value: int) -> None:
    assert parse_number(text, language) == value


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("between 3,000 and 5,000", 3000, 5000),
        ("3,000-5,000", 3000, 5000),
        ("3 to 5 million", 3000000, 5000000),
        ("entre 2.000 y 3.000", 2000, 3000),
        ("بين 3000 و5000", 3000, 5000),
    ],
)
def test_ranges_keep_both_ends(text: str, low: int, high: int) -> None:
    (q,) = find_quantities(text)
    assert (q.value, q.value_max) == (low, high)


def test_vague_amounts_are_not_exact() -> None:
    assert [q.exact for q in find_quantities("thousands of people and 3,000 families")] == [
        False,
        True,
    ]


@pytest.mark.parametrize(
    "text", ["1.5", "1.2.3", "five and six", "in 2011 400 people", "the 12-year-old"]
)
def test_not_one_number(text: str) -> None:
    assert parse_number(text, "en") is None


def test_a_lone_separator_before_three_digits() -> None:
    assert digits_value("1.300", "en") == 1300  # no fractions of people
    assert str(digits_value("1.300", "en", scaled=True)) == "1.300"
    assert digits_value("1,300", "en", scaled=True) == 1300
    assert str(digits_value("4,5", "fr")) == "4.5"


# --- properties ----------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_never_raises(text: str) -> None:
    for f in figures_in(text, 0, None):
        assert f.value >= 0
        assert f.phrase in text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["5,000", "people", "fled", "killed", "ألف", "-", "and", "thousands",
                                 "to", "2011", "between", "de", "nearly", "%", "$", "et", "mil"]),
                max_size=12))  # fmt: skip
def test_word_soup_never_raises(words: list[str]) -> None:
    text = " ".join(words)
    for lang in (None, "en", "fr", "es", "ar"):
        figures_in(text, 0, lang)


@given(st.integers(min_value=0, max_value=10**13))
def test_english_digits_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}", "en") == n
    assert parse_number(f"{n:,}") == n
