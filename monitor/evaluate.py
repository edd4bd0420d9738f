"""Scoring the extraction and the rules against a hand-labelled set of news items.

The labelled set is YAML (a list of items) or JSON lines (one item per line). Everything here is
pure except `load_labelled`, which reads the file. The metrics are deliberately simple counts so
that a person can check them by hand:

- per rule: precision, recall and F1 over the items, with the ids of false positives/negatives;
- displaced figure: the share of items stating a figure whose predicted headline figure equals it
  exactly (value and unit), and the share of items stating none that got one anyway ("invented");
- places: the share of labelled place names found among the predicted places, and the share of
  predicted places that some label names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor import yamlio
from monitor.text import fold

UNITS = ("people", "households")
_KEYS = {"id", "lang", "title", "text", "rules", "displaced", "places", "tags"}
_REQUIRED = ("id", "lang", "text", "rules")


@dataclass(frozen=True, slots=True)
class LabelledItem:
    """One hand-labelled news item: its text and what a careful analyst says it contains."""

    id: str  # unique in the set, e.g. 'en-hc-001'
    lang: str  # ISO 639-1 code of the text
    title: str  # the headline, "" when none
    text: str  # one to six sentences
    rules: frozenset[str]  # ids of the rules that should fire
    displaced: tuple[int, str] | None  # headline displaced figure (value, 'people'|'households')
    places: tuple[str, ...]  # every place the text names, in plain English spelling
    tags: tuple[str, ...] = ()  # what the item tests, e.g. 'hard-negative'


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the system under test said about one item."""

    rules: frozenset[str] = frozenset()  # ids of the rules that fired
    displaced: tuple[int, str] | None = None  # the predicted headline displaced figure
    places: tuple[tuple[str, str, str], ...] = ()  # (name, id, mention) of each place found


@dataclass(frozen=True, slots=True)
class RuleScore:
    """Confusion counts of one rule over the set."""

    rule_id: str
    tp: int
    fp: int
    fn: int
    tn: int
    false_positives: tuple[str, ...]  # item ids
    false_negatives: tuple[str, ...]  # item ids

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)


@dataclass(frozen=True, slots=True)
class FigureScore:
    """How well the headline displaced figure was read."""

    stated: int  # items whose label states a figure
    exact: int  # of those, items whose prediction equals it (value and unit)
    wrong: tuple[str, ...]  # ids of stated items predicted otherwise (including no figure)
    unstated: int  # items whose label states no figure
    invented: tuple[str, ...]  # ids of unstated items that got a predicted figure anyway

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.exact, self.stated)

    @property
    def invented_rate(self) -> float | None:
        return _ratio(len(self.invented), self.unstated)


@dataclass(frozen=True, slots=True)
class PlaceScore:
    """How many labelled places were found, and how many found places were labelled."""

    labelled: int  # labelled place names over all items
    found: int  # of those, names matched by some predicted place of the same item
    predicted: int  # distinct predicted places over all items
    confirmed: int  # of those, places that match some label of the same item
    missed: tuple[tuple[str, str], ...]  # (item id, labelled name) not found
    extra: tuple[tuple[str, str], ...]  # (item id, predicted name) no label names

    @property
    def recall(self) -> float | None:
        return _ratio(self.found, self.labelled)

    @property
    def precision(self) -> float | None:
        return _ratio(self.confirmed, self.predicted)


@dataclass(frozen=True, slots=True)
class Report:
    """All the metrics of one evaluation run."""

    items: int
    rules: tuple[RuleScore, ...]
    figures: FigureScore
    places: PlaceScore
    by_language: tuple[tuple[str, Report], ...] = field(default=())  # empty inside sub-reports


class LabelledSetError(yamlio.YamlError):
    """A bad labelled set, located by file and line (1-based), like any YAML problem."""


# --- loading -------------------------------------------------------------------------------


def load_labelled(path: Path) -> list[LabelledItem]:
    """Read a labelled set: YAML (a list of items) or JSON lines when the name ends in .jsonl.

    Every item is checked (required keys, types, unknown keys, unique ids, known units) and the
    first problem raises LabelledSetError naming the file and line. It does not check that the
    rule ids exist: the caller knows which rules it evaluates.
    """
    source = str(path)
    if path.suffix == ".jsonl":
        raws = _read_jsonl(path)
    else:
        try:
            data = yamlio.load(path)
        except yamlio.YamlError as exc:
            raise LabelledSetError(exc.source, exc.line, exc.message) from None
        if not isinstance(data, list):
            line = getattr(data, "line", None)
            raise LabelledSetError(source, line, "expected a list of items")
        lines: list[int] = getattr(data, "item_lines", [0] * len(data))
        raws = []
        for raw, line in zip(data, lines, strict=True):
            if not isinstance(raw, dict):
                raise LabelledSetError(source, line, "an item must be a mapping")
            key_lines = getattr(raw, "key_lines", {})
            raws.append((raw, line, key_lines))
    items: list[LabelledItem] = []
    seen: dict[str, int] = {}
    for raw, line, key_lines in raws:
        item = _item(raw, _Where(source, line, key_lines))
        if item.id in seen:
            where = key_lines.get("id", line)
            msg = f"duplicate id '{item.id}' (first on line {seen[item.id]})"
            raise LabelledSetError(source, where, msg)
        seen[item.id] = key_lines.get("id", line)
        items.append(item)
    return items


_Raw = tuple[dict[str, Any], int, dict[str, int]]


def _read_jsonl(path: Path) -> list[_Raw]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelledSetError(source, None, f"cannot read: {exc}") from None
    out: list[_Raw] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledSetError(source, number, f"invalid JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise LabelledSetError(source, number, "an item must be a JSON object")
        out.append((raw, number, {}))
    return out


@dataclass(frozen=True, slots=True)
class _Where:
    source: str
    line: int
    key_lines: Mapping[str, int]

    def fail(self, key: str | None, message: str) -> LabelledSetError:
        line = self.key_lines.get(key, self.line) if key else self.line
        return LabelledSetError(self.source, line, message)


def _item(raw: Mapping[str, Any], where: _Where) -> LabelledItem:
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        key = unknown[0]
        raise where.fail(key, f"unknown key '{key}' (expected one of {sorted(_KEYS)})")
    for key in _REQUIRED:
        if key not in raw:
            raise where.fail(None, f"missing key '{key}'")
    item_id = _text(raw, "id", where)
    return LabelledItem(
        id=item_id,
        lang=_text(raw, "lang", where),
        title=_text(raw, "title", where, required=False),
        text=_text(raw, "text", where),
        rules=frozenset(_strings(raw, "rules", where)),
        displaced=_displaced(raw.get("displaced"), where),
        places=_strings(raw, "places", where),
        tags=_strings(raw, "tags", where),
    )


def _text(raw: Mapping[str, Any], key: str, where: _Where, *, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise where.fail(key, f"'{key}' must be a non-empty string")
    return value.strip()


def _strings(raw: Mapping[str, Any], key: str, where: _Where) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise where.fail(key, f"'{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _displaced(value: Any, where: _Where) -> tuple[int, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"value", "unit"}:
        raise where.fail(
            "displaced",
            "'displaced' must be null or {value: N, unit: people|households}",
        )
    number, unit = value["value"], value["unit"]
    # bool is an int in Python; 'value: yes' is a typo, not a figure
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise where.fail("displaced", f"displaced value must be a positive integer, not {number!r}")
    if unit not in UNITS:
        raise where.fail("displaced", f"displaced unit must be one of {list(UNITS)}, not {unit!r}")
    return (number, unit)


# --- place names ---------------------------------------------------------------------------

# Spellings of the same place that no folding can reconcile: transliterations, old names,
# gazetteer forms. Each group is one place; a label matches a prediction through its group.
_ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Hama", "Hamah", "Hamat"),
    ("Homs", "Hims"),
    ("Aleppo", "Halab"),
    ("Idlib", "Idleb"),
    ("Damascus", "Dimashq"),
    ("Rif Dimashq", "Rural Damascus", "Damascus Countryside"),
    ("Deir ez-Zor", "Deir al-Zour", "Deir ez Zor", "Dayr az Zawr", "Deir Ezzor", "Deir al-Zor"),
    ("Abu Kamal", "Albu Kamal", "Al Bukamal", "Bukamal", "Abukamal"),
    ("Raqqa", "Raqqah", "Rakka"),
    ("Hasakah", "Hasakeh", "Hassakeh", "Hasaka"),
    ("Daraa", "Dar'a", "Deraa"),
    ("Latakia", "Lattakia", "Ladhiqiyah"),
    ("Tartus", "Tartous"),
    ("Sweida", "Suwayda", "Suwaida", "As Suwayda"),
    ("Kharkiv", "Kharkov", "Kharkivska"),
    ("Kyiv", "Kiev", "Kyivska"),
    ("Odesa", "Odessa", "Odeska"),
    ("Zaporizhzhia", "Zaporizhia", "Zaporozhye", "Zaporizka"),
    ("Donetsk", "Donetska"),
    ("Kherson", "Khersonska"),
    ("Dnipro", "Dnipropetrovsk", "Dnipropetrovska"),
    ("Sumy", "Sumska"),
    ("Gaza", "Gaza Strip", "Gaza City", "Ghazzah"),
    ("Khan Younis", "Khan Yunis", "Khan Yunus"),
    ("West Bank", "Occupied West Bank"),
    (
        "Palestine",
        "State of Palestine",
        "Palestinian Territories",
        "Occupied Palestinian Territory",
    ),
    ("Jenin", "Janin"),
    ("Sanaa", "Sana'a"),
    ("Hodeidah", "Hudaydah", "Hodeida"),
    ("Taiz", "Ta'izz", "Taizz"),
    ("Marib", "Ma'rib"),
    ("El Fasher", "Al Fashir", "El-Fasher", "Fasher"),
    ("Geneina", "El Geneina", "Al Junaynah"),
    ("Khartoum", "Al Khartum"),
    ("Wad Madani", "Wad Medani"),
    ("Gezira", "Al Jazirah", "Aj Jazirah", "Jazirah"),
    ("North Darfur", "Shamal Darfur"),
    ("West Darfur", "Gharb Darfur"),
    ("South Darfur", "Janub Darfur"),
    ("Benghazi", "Banghazi"),
    ("Mosul", "Al Mawsil"),
    ("Nineveh", "Ninawa", "Ninewa"),
    ("Democratic Republic of the Congo", "DR Congo", "DRC", "Congo-Kinshasa", "Congo (Kinshasa)"),
    ("Republic of the Congo", "Congo-Brazzaville", "Congo (Brazzaville)"),
    ("North Kivu", "Nord-Kivu", "Nord Kivu"),
    ("South Kivu", "Sud-Kivu", "Sud Kivu"),
    ("Ivory Coast", "Cote d'Ivoire"),
    ("Myanmar", "Burma"),
    ("Rakhine", "Arakan"),
    ("Turkey", "Turkiye"),
    ("Cabo Delgado", "Cape Delgado"),
    ("Port-au-Prince", "Port au Prince"),
    ("Ouest", "West Department"),
    ("Artibonite", "L'Artibonite"),
    ("Czech Republic", "Czechia"),
    ("United States", "USA", "US", "United States of America"),
    ("United Kingdom", "UK", "Britain", "Great Britain"),
    ("Russia", "Russian Federation"),
    ("Iran", "Islamic Republic of Iran"),
    ("Syria", "Syrian Arab Republic"),
    ("Lebanon", "Lebanese Republic"),
    ("Burkina Faso", "Burkina"),
    ("Tigray", "Tigrai"),
    ("Mekelle", "Mek'ele", "Makale"),
    ("Oromia", "Oromiya"),
    ("Chernihiv", "Chernigov", "Chernihivska"),
    ("Mykolaiv", "Nikolaev", "Mykolaivska"),
    ("Luhansk", "Lugansk", "Luhanska"),
    ("Tyre", "Sour"),
    ("Sidon", "Saida"),
    ("Baalbek", "Baalbeck", "Baalbak"),
    ("Nabatieh", "Nabatiye", "Nabatiyeh", "An Nabatiyah"),
    ("Bekaa", "Beqaa", "Biqa"),
)

# Words that say what kind of place it is, or are a transliterated article: ignored when other
# words remain, so 'Idlib Governorate' is 'Idlib' and 'Al-Hasakah' is 'Hasakah'.
_NOISE = {
    "al", "el", "ad", "ar", "as", "az", "ash", "at", "ez", "ed", "es", "an", "the", "of",
    "governorate", "province", "provincia", "oblast", "region", "state", "district",
    "department", "departement", "departamento", "prefecture", "county", "muhafazat",
    "wilayah", "municipality", "raion",
}  # fmt: skip
_WORDS = re.compile(r"\w+")


def place_key(name: str) -> str:
    """A lenient comparison key for a place name: folded, punctuation and spacing gone, kind words
    ('Governorate', 'Oblast') and transliterated articles ('al-') dropped when other words remain.

    It does not translate: 'Syrie' and 'Syria' differ unless an alias says they are one.
    """
    words = _WORDS.findall(fold(name))
    kept = [w for w in words if w not in _NOISE]
    return "".join(kept or words)


def alias_index(extra: Iterable[Iterable[str]] = ()) -> dict[str, frozenset[str]]:
    """Place key -> the keys of every spelling of the same place (built-in groups plus `extra`)."""
    index: dict[str, set[str]] = {}
    for group in (*_ALIAS_GROUPS, *extra):
        keys = {place_key(n) for n in group}
        merged = set(keys)
        for key in keys:
            merged |= index.get(key, set())
        for key in merged:
            index[key] = merged
    return {k: frozenset(v) for k, v in index.items()}


def _same_place(
    label: str, predicted: tuple[str, str, str], aliases: Mapping[str, frozenset[str]]
) -> bool:
    key = place_key(label)
    wanted = aliases.get(key, frozenset({key}))
    name, place_id, mention = predicted
    # an id is compared whole and by its tail ('country:SY' -> 'SY') so a label may be a code
    candidates = (name, mention, place_id, place_id.rpartition(":")[2])
    return any(c and place_key(c) in wanted for c in candidates)


# --- scoring -------------------------------------------------------------------------------


def evaluate(
    items: Sequence[LabelledItem],
    predict: Callable[[LabelledItem], Prediction],
    rule_ids: Sequence[str],
    *,
    aliases: Iterable[Iterable[str]] = (),
) -> Report:
    """Run `predict` once per item and score the predictions; see `score`.

    An exception from `predict` is a bug in the system under test: it propagates, naming the item.
    """
    pairs: list[tuple[LabelledItem, Prediction]] = []
    for item in items:
        try:
            pairs.append((item, predict(item)))
        except Exception as exc:
            raise RuntimeError(f"predict failed on item {item.id}: {exc}") from exc
    return score(pairs, rule_ids, aliases=aliases)


def score(
    pairs: Sequence[tuple[LabelledItem, Prediction]],
    rule_ids: Sequence[str],
    *,
    aliases: Iterable[Iterable[str]] = (),
) -> Report:
    """Score (item, prediction) pairs: per rule, per displaced figure, per place, and the same
    again per language. Rules fired that are not in `rule_ids` are ignored, not counted false."""
    index = alias_index(aliases)
    report = _score(pairs, rule_ids, index)
    languages = sorted({item.lang for item, _ in pairs})
    by_language = tuple(
        (lang, _score([p for p in pairs if p[0].lang == lang], rule_ids, index))
        for lang in languages
    )
    return Report(report.items, report.rules, report.figures, report.places, by_language)


def _score(
    pairs: Sequence[tuple[LabelledItem, Prediction]],
    rule_ids: Sequence[str],
    aliases: Mapping[str, frozenset[str]],
) -> Report:
    return Report(
        items=len(pairs),
        rules=tuple(_rule_score(pairs, rule) for rule in rule_ids),
        figures=_figure_score(pairs),
        places=_place_score(pairs, aliases),
    )


def _rule_score(pairs: Sequence[tuple[LabelledItem, Prediction]], rule: str) -> RuleScore:
    tp = tn = 0
    fps: list[str] = []
    fns: list[str] = []
    for item, pred in pairs:
        want, got = rule in item.rules, rule in pred.rules
        if want and got:
            tp += 1
        elif got:
            fps.append(item.id)
        elif want:
            fns.append(item.id)
        else:
            tn += 1
    return RuleScore(rule, tp, len(fps), len(fns), tn, tuple(fps), tuple(fns))


def _figure_score(pairs: Sequence[tuple[LabelledItem, Prediction]]) -> FigureScore:
    stated = exact = unstated = 0
    wrong: list[str] = []
    invented: list[str] = []
    for item, pred in pairs:
        if item.displaced is None:
            unstated += 1
            if pred.displaced is not None:
                invented.append(item.id)
        else:
            stated += 1
            if pred.displaced == item.displaced:
                exact += 1
            else:
                wrong.append(item.id)
    return FigureScore(stated, exact, tuple(wrong), unstated, tuple(invented))


def _place_score(
    pairs: Sequence[tuple[LabelledItem, Prediction]], aliases: Mapping[str, frozenset[str]]
) -> PlaceScore:
    labelled = found = predicted = confirmed = 0
    missed: list[tuple[str, str]] = []
    extra: list[tuple[str, str]] = []
    for item, pred in pairs:
        # the same place named twice in a text is one prediction, whatever its mentions
        places = list({(p[1] or place_key(p[0])): p for p in pred.places}.values())
        labels = list(dict.fromkeys(item.places))
        for label in labels:
            labelled += 1
            if any(_same_place(label, p, aliases) for p in places):
                found += 1
            else:
                missed.append((item.id, label))
        for p in places:
            predicted += 1
            if any(_same_place(label, p, aliases) for label in labels):
                confirmed += 1
            else:
                extra.append((item.id, p[0]))
    return PlaceScore(labelled, found, predicted, confirmed, tuple(missed), tuple(extra))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- output --------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_report(report: Report, *, max_ids: int = 12) -> str:
    """A plain-text table of the metrics, per language, then the failing item ids (at most
    `max_ids` per list, with a count of the rest). It does not colour or wrap."""
    lines = [f"Evaluated {report.items} items", ""]
    groups = [("all", report), *report.by_language]
    cols = ("lang", "items", "rule", "tp", "fp", "fn", "precision", "recall", "f1")
    lines.append(_row(cols, (6, 6, 20, 5, 5, 5, 10, 8, 8)))
    for name, sub in groups:
        for r in sub.rules:
            counts = (name, sub.items, r.rule_id, r.tp, r.fp, r.fn)
            pcts = (_pct(r.precision), _pct(r.recall), _pct(r.f1))
            lines.append(_row((*counts, *pcts), (6, 6, 20, 5, 5, 5, 10, 8, 8)))
    lines.append("")
    cols = ("lang", "figure exact", "", "invented", "", "place recall", "", "place prec", "")
    widths = (6, 13, 7, 10, 7, 13, 7, 11, 7)
    lines.append(_row(cols, widths))
    for name, sub in groups:
        f, p = sub.figures, sub.places
        cells = (
            name,
            f"{f.exact}/{f.stated}",
            _pct(f.accuracy),
            f"{len(f.invented)}/{f.unstated}",
            _pct(f.invented_rate),
            f"{p.found}/{p.labelled}",
            _pct(p.recall),
            f"{p.confirmed}/{p.predicted}",
            _pct(p.precision),
        )
        lines.append(_row(cells, widths))
    lines.append("")
    lines.append("Failures")
    failures: list[tuple[str, Sequence[str]]] = []
    for rule in report.rules:
        failures.append((f"{rule.rule_id} false positives", rule.false_positives))
        failures.append((f"{rule.rule_id} false negatives", rule.false_negatives))
    failures.append(("displaced figure wrong", report.figures.wrong))
    failures.append(("displaced figure invented", report.figures.invented))
    failures.append(("places missed", [f"{i} ({n})" for i, n in report.places.missed]))
    failures.append(("places extra", [f"{i} ({n})" for i, n in report.places.extra]))
    for title, ids in failures:
        shown = ", ".join(ids[:max_ids]) if ids else "none"
        more = f" ... and {len(ids) - max_ids} more" if len(ids) > max_ids else ""
        lines.append(f"  {title} ({len(ids)}): {shown}{more}")
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[object], widths: Sequence[int]) -> str:
    first, *rest = (str(c) for c in cells)
    return (
        f"{first:<{widths[0]}}"
        + "".join(f"{c:>{w}}" for c, w in zip(rest, widths[1:], strict=True))
    ).rstrip()


def report_as_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready values: ratios as floats (None when undefined), every
    failing id listed in full."""
    out = _sub_dict(report)
    out["by_language"] = {lang: _sub_dict(sub) for lang, sub in report.by_language}
    return out


def _sub_dict(report: Report) -> dict[str, Any]:
    f, p = report.figures, report.places
    return {
        "items": report.items,
        "rules": {
            r.rule_id: {
                "tp": r.tp,
                "fp": r.fp,
                "fn": r.fn,
                "tn": r.tn,
                "precision": r.precision,
                "recall": r.recall,
                "f1": r.f1,
                "false_positives": list(r.false_positives),
                "false_negatives": list(r.false_negatives),
            }
            for r in report.rules
        },
        "displaced": {
            "stated": f.stated,
            "exact": f.exact,
            "accuracy": f.accuracy,
            "wrong": list(f.wrong),
            "unstated": f.unstated,
            "invented_rate": f.invented_rate,
            "invented": list(f.invented),
        },
        "places": {
            "labelled": p.labelled,
            "found": p.found,
            "recall": p.recall,
            "predicted": p.predicted,
            "confirmed": p.confirmed,
            "precision": p.precision,
            "missed": [list(m) for m in p.missed],
            "extra": [list(e) for e in p.extra],
        },
    }
