"""Reading quantities from text: digits in several national styles, number words, vague amounts.

Pure functions over one piece of text (usually a sentence). This module knows what a number is; it
does not know what is being counted: deciding that a quantity is a count of displaced people (and
not of money, years or troops) is the job of monitor.figures.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from monitor.text import arabic_bases, fold, is_arabic

# A number in digits: either grouped by blanks (only in groups of three, so "in 2011 400 people"
# stays two numbers), or digits joined by dots, commas and the Arabic separators.
_BLANKS = " \u00a0\u202f\u2009"
_TOKEN = re.compile(
    rf"(?P<num>\d{{1,3}}(?:[{_BLANKS}]\d{{3}})+(?!\d)|\d+(?:[.,٫٬'’]\d+)*)"
    # letters, with the Arabic diacritics and tatweel that Python does not count as letters
    r"|(?P<word>(?:[^\W\d_]|[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0640])+"
    r"(?:['’](?:[^\W\d_]|[\u0300-\u036f])+)*)"
    r"|(?P<punct>[^\w\s])"
)


@dataclass(frozen=True, slots=True)
class Tok:
    """A token of text: a number in digits, a word or one punctuation character."""

    kind: str  # 'num', 'word' or 'punct'
    text: str  # as it stands
    folded: str  # text.fold(text)
    start: int  # offsets in the text
    end: int


def scan(text: str) -> list[Tok]:
    """The tokens of the text, with offsets. Blanks are dropped; everything else is a token."""
    out: list[Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        out.append(Tok(kind, m.group(), fold(m.group()), m.start(), m.end()))
    return out


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity read from text."""

    value: int  # for a range its lower end; for a vague amount a conservative lower bound
    value_max: int | None  # upper end of a range, else None
    exact: bool  # False for 'thousands', 'des dizaines de milliers', ...
    first: int  # index of its first token in the scan
    last: int  # index of its last token (inclusive)
    start: int  # offsets in the text
    end: int
    plain: bool  # bare digits with no separator and no scale word: could be a year or a code


# --- vocabulary -------------------------------------------------------------------------------
# Word kinds: 'unit' adds (five, vingt, خمسون), 'mult' multiplies what came before (hundred, cent),
# 'scale' closes a group (thousand, mil, ألف), 'one' is an article that counts only before a
# multiplier or scale (a hundred, un millón), 'fixed' is a whole number by itself (ألفان = 2,000).
_UNITS_EN = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS_EN = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_UNITS_FR = (
    "_", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
    "douze", "treize", "quatorze", "quinze", "seize",
)  # fmt: skip
_TENS_FR = ["vingt", "trente", "quarante", "cinquante", "soixante"]
_UNITS_ES = (
    "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once",
    "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve",
    "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco",
    "veintiséis", "veintisiete", "veintiocho", "veintinueve",
)  # fmt: skip
_TENS_ES = ["treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"]
_HUNDREDS_ES = (
    "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos",
    "ochocientos", "novecientos",
)  # fmt: skip
_UNITS_AR = (
    ("واحد", 1), ("اثنان", 2), ("اثنين", 2), ("ثلاثة", 3), ("ثلاث", 3), ("أربعة", 4), ("أربع", 4),
    ("خمسة", 5), ("خمس", 5), ("ستة", 6), ("سبعة", 7), ("سبع", 7), ("ثمانية", 8), ("ثماني", 8),
    ("تسعة", 9), ("تسع", 9), ("عشرة", 10), ("عشر", 10), ("عشرون", 20), ("عشرين", 20),
    ("ثلاثون", 30), ("ثلاثين", 30), ("أربعون", 40), ("أربعين", 40), ("خمسون", 50), ("خمسين", 50),
    ("ستون", 60), ("ستين", 60), ("سبعون", 70), ("سبعين", 70), ("ثمانون", 80), ("ثمانين", 80),
    ("تسعون", 90), ("تسعين", 90), ("مئتان", 200), ("مئتين", 200), ("مائتان", 200), ("مائتين", 200),
    ("مئتي", 200), ("مائتي", 200),
    ("ثلاثمئة", 300), ("ثلاثمائة", 300), ("أربعمئة", 400), ("أربعمائة", 400), ("خمسمئة", 500),
    ("خمسمائة", 500), ("ستمئة", 600), ("ستمائة", 600), ("سبعمئة", 700), ("سبعمائة", 700),
    ("ثمانمئة", 800), ("ثمانمائة", 800), ("تسعمئة", 900), ("تسعمائة", 900),
)  # fmt: skip
_SCALES = (
    ("thousand", 10**3), ("million", 10**6), ("millions", 10**6), ("billion", 10**9),
    ("billions", 10**9), ("lakh", 10**5), ("lakhs", 10**5), ("lac", 10**5), ("crore", 10**7),
    ("crores", 10**7), ("mille", 10**3), ("milliard", 10**9), ("milliards", 10**9), ("mil", 10**3),
    ("millón", 10**6), ("millones", 10**6), ("millardo", 10**9), ("millardos", 10**9),
    ("tausend", 10**3), ("millionen", 10**6), ("milliarde", 10**9), ("milliarden", 10**9),
    ("milhão", 10**6), ("milhões", 10**6), ("ribu", 10**3), ("juta", 10**6), ("miliar", 10**9),
    ("ألف", 10**3), ("ألفا", 10**3), ("آلاف", 10**3), ("مليون", 10**6), ("مليونا", 10**6),
    ("ملايين", 10**6), ("مليار", 10**9), ("مليارات", 10**9),
)  # fmt: skip
# Scale words that, standing alone, are the dual: 'ألفا نازح' is two thousand displaced people.
_DUAL_ALONE = {"ألفا": 2000, "مليونا": 2 * 10**6}
_FIXED = (
    ("ألفان", 2000), ("ألفين", 2000), ("ألفي", 2000), ("مليونان", 2 * 10**6),
    ("مليونين", 2 * 10**6), ("مليوني", 2 * 10**6),
)  # fmt: skip
# Vague amounts and their conservative lower bounds, as folded word sequences.
_VAGUE = (
    ("hundreds of thousands", 200_000), ("tens of thousands", 20_000),
    ("hundreds of millions", 200 * 10**6), ("tens of millions", 20 * 10**6),
    ("thousands", 2000), ("hundreds", 200), ("millions", 2 * 10**6), ("dozens", 24), ("scores", 40),
    ("several thousand", 2000), ("several hundred", 200), ("several million", 2 * 10**6),
    ("a few thousand", 2000), ("a few hundred", 200), ("several dozen", 24),
    ("centaines de milliers", 200_000), ("dizaines de milliers", 20_000), ("milliers", 2000),
    ("centaines", 200), ("dizaines", 24), ("plusieurs milliers", 2000),
    ("plusieurs centaines", 200), ("quelques milliers", 2000), ("une dizaine", 10),
    ("une vingtaine", 20), ("une centaine", 100), ("un millier", 1000),
    ("cientos de miles", 200_000), ("centenares de miles", 200_000), ("decenas de miles", 20_000),
    ("miles", 2000), ("cientos", 200), ("centenares", 200), ("millones", 2 * 10**6),
    ("decenas", 24), ("docenas", 24), ("varios miles", 2000), ("varios cientos", 200),
    ("una decena", 10), ("una veintena", 20), ("un centenar", 100), ("un millar", 1000),
    ("مئات الآلاف", 200_000), ("مئات آلاف", 200_000), ("عشرات الآلاف", 20_000),
    ("عشرات آلاف", 20_000), ("آلاف", 2000), ("الآلاف", 2000), ("مئات", 200), ("ملايين", 2 * 10**6),
    ("عشرات", 24),  # 'dozens' as English reports render it, like the labelled sets
)  # fmt: skip
_EXACT_PHRASES = (
    ("half a million", 500_000), ("a dozen", 12), ("une douzaine", 12), ("una docena", 12),
    ("medio millón", 500_000), ("un demi-million", 500_000), ("نصف مليون", 500_000),
)  # fmt: skip
# Words too common in other senses to start a number by themselves when the language is unknown.
_AMBIGUOUS = {"once", "sept", "cent", "mil"}
_DECIMAL_COMMA = {"fr", "es", "de", "id", "it", "pt", "nl", "tr", "ru", "pl", "ro", "da", "sv"}
_HYPHENS = {"-", "–", "‐", "‑"}
_SUFFIXES = {"k": 10**3, "m": 10**6, "mn": 10**6, "bn": 10**9}


@lru_cache(maxsize=16)
def _words(language: str | None) -> dict[str, tuple[str, int]]:
    """Folded number word -> (kind, value) for the language, or for all languages when None."""
    table: dict[str, tuple[str, int]] = {}
    langs = {"en", "fr", "es", "ar"} if language not in {"en", "fr", "es", "ar"} else {language}
    if "en" in langs:
        table.update({w: ("unit", i + 1) for i, w in enumerate(_UNITS_EN)})
        table.update({w: ("unit", 20 + 10 * i) for i, w in enumerate(_TENS_EN)})
        table.update({"hundred": ("mult", 100), "dozen": ("mult", 12)})
        table.update({"a": ("one", 1), "an": ("one", 1)})
    if "fr" in langs:
        table.update({w: ("unit", i + 1) for i, w in enumerate(_UNITS_FR) if w != "_"})
        table.update({w: ("unit", 20 + 10 * i) for i, w in enumerate(_TENS_FR)})
        table.update({"vingts": ("unit", 20), "cent": ("mult", 100), "cents": ("mult", 100)})
        table.update({"un": ("one", 1), "une": ("one", 1)})
    if "es" in langs:
        table.update({fold(w): ("unit", i + 1) for i, w in enumerate(_UNITS_ES)})
        table.update({w: ("unit", 30 + 10 * i) for i, w in enumerate(_TENS_ES)})
        table.update({w: ("unit", 200 + 100 * i) for i, w in enumerate(_HUNDREDS_ES)})
        table.update({w[:-2] + "as": ("unit", 200 + 100 * i) for i, w in enumerate(_HUNDREDS_ES)})
        table.update({"cien": ("unit", 100), "ciento": ("unit", 100), "una": ("one", 1)})
        table.setdefault("un", ("one", 1))
    if "ar" in langs:
        table.update({fold(w): ("unit", v) for w, v in _UNITS_AR})
        table.update({fold(w): ("fixed", v) for w, v in _FIXED})
        table.update({fold("مئة"): ("mult", 100), fold("مائة"): ("mult", 100)})
    table.update({fold(w): ("scale", v) for w, v in _SCALES})
    if language is None:
        for w in _AMBIGUOUS:
            kind, value = table[w]
            table["~" + w] = (kind, value)  # usable inside a number, never to start one
            del table[w]
    return table


@lru_cache(maxsize=1)
def _phrases() -> tuple[tuple[tuple[str, ...], int, bool], ...]:
    """(folded words, value, exact), longest first so 'tens of thousands' wins over 'thousands'."""
    out = [(tuple(fold(p).split()), v, False) for p, v in _VAGUE]
    out += [(tuple(fold(p).replace("-", " - ").split()), v, True) for p, v in _EXACT_PHRASES]
    return tuple(sorted(out, key=lambda e: -len(e[0])))


def guess_language(text: str) -> str | None:
    """A cheap guess among en/fr/es/ar from script and a few function words; None if unsure."""
    if any(is_arabic(c) for c in text):
        return "ar"
    words = re.findall(r"[^\W\d_]+", fold(text))
    score = {
        "en": sum(w in {"the", "of", "and", "have", "been", "were", "people"} for w in words),
        "fr": sum(w in {"le", "les", "des", "et", "du", "ont", "personnes", "une"} for w in words),
        "es": sum(w in {"el", "los", "las", "y", "del", "personas", "han", "una"} for w in words),
    }
    best = max(score, key=lambda k: score[k])
    return best if score[best] > 0 else None


def _ascii_digits(raw: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in raw)


def digits_value(raw: str, language: str | None = None, scaled: bool = False) -> Decimal | None:
    """The value of a number written in digits ('57,000', '54.264', '1,20,000', '4,5', '١٢٠٬٠٠٠').

    `scaled` says a scale word follows ('1.300 millones'), which makes a lone separator before three
    digits a decimal mark unless it is the language's thousands separator. Without a scale word, a
    lone separator before three digits separates thousands: people are not counted in fractions.
    Returns None for shapes that are not a number (badly grouped: '1.2.3').
    """
    s = _ascii_digits(raw)
    for blank in _BLANKS + "٬'’":
        s = s.replace(blank, " ")
    marks = [c for c in s if c in ".,٫"]
    dec: str | None = None
    if "٫" in marks:
        dec = "٫"
    elif len(set(marks)) == 2:
        dec = marks[-1]
    elif len(marks) == 1:
        mark = marks[0]
        tail = s.rsplit(mark, 1)[1]
        thousands = "." if language in _DECIMAL_COMMA else ","
        if len(tail) != 3 or (scaled and mark != thousands):
            dec = mark
    whole, frac = s.rsplit(dec, 1) if dec else (s, "")
    if dec and not frac.isdigit():
        return None
    groups = re.split(r"[ .,٫]", whole)
    if not all(g.isdigit() for g in groups):
        return None
    if len(groups) > 1 and not _well_grouped(groups):
        return None
    try:
        return Decimal("".join(groups) + ("." + frac if frac else ""))
    except InvalidOperation:  # pragma: no cover - the checks above leave only digits
        return None


def _well_grouped(groups: list[str]) -> bool:
    if not 1 <= len(groups[0]) <= 3 or len(groups[-1]) != 3:
        return False
    inner = groups[1:-1]
    # western grouping: all threes; Indian grouping: twos before the last three ('1,20,000')
    return all(len(g) == 3 for g in inner) or all(len(g) == 2 for g in inner)


@dataclass(frozen=True, slots=True)
class _Num:
    value: Decimal
    exact: bool
    scale: int  # the scale word's multiplier, 1 when none
    last: int  # index of the last token
    plain: bool


def _key(tok: Tok, table: dict[str, tuple[str, int]], inside: bool) -> str | None:
    """The table key of a token: itself, or (inside a number) its '~' form or without Arabic 'و'."""
    if tok.kind != "word":
        return None
    if tok.folded in table:
        return tok.folded
    if tok.folded[:2] in {"d'", "l'"} and tok.folded[2:] in table:  # 'près d'un million'
        return tok.folded[2:]
    if inside and "~" + tok.folded in table:
        return "~" + tok.folded
    if inside and tok.folded.startswith("و") and tok.folded[1:] in table:
        return tok.folded[1:]
    return None


def _scale_after(toks: list[Tok], j: int, value: Decimal) -> tuple[Decimal, int, int]:
    """Applies the scale words from toks[j] on; returns (value, scale, index of last token)."""
    table = _words(None)
    scale, largest, last = 1, 0, j - 1
    # '12k', '1.2m', '3bn' written against the digits
    if j < len(toks) and toks[j].kind == "word" and toks[j].start == toks[j - 1].end:
        suffix = _SUFFIXES.get(toks[j].folded)
        if suffix is None:
            return value, 1, j - 1
        return value * suffix, suffix, j
    while j < len(toks):
        entry = table.get(toks[j].folded) or table.get("~" + toks[j].folded)
        if entry is None or entry[0] != "scale":
            break
        v = entry[1]
        if v <= largest:
            break
        value, scale, largest, last = value * v, scale * v, v, j
        j += 1
    return value, scale, last


def _parse_digits(toks: list[Tok], i: int, language: str | None) -> _Num | None:
    scaled = False
    if i + 1 < len(toks):
        nxt, table = toks[i + 1], _words(None)
        entry = table.get(nxt.folded) or table.get("~" + nxt.folded)
        glued = nxt.start == toks[i].end and nxt.folded in _SUFFIXES
        scaled = glued or (entry is not None and entry[0] == "scale")
    base = digits_value(toks[i].text, language, scaled)
    if base is None:
        return None
    value, scale, last = _scale_after(toks, i + 1, base)
    plain = scale == 1 and toks[i].text.isdigit()
    return _Num(value, True, scale, last, plain)


@lru_cache(maxsize=1)
def _phrases_by_first() -> dict[str, tuple[tuple[tuple[str, ...], int, bool], ...]]:
    out: dict[str, list[tuple[tuple[str, ...], int, bool]]] = {}
    for entry in _phrases():
        out.setdefault(entry[0][0], []).append(entry)
    return {k: tuple(v) for k, v in out.items()}


def _match_phrase(toks: list[Tok], i: int) -> _Num | None:
    table = _phrases_by_first()
    first = toks[i].folded
    # the first word may carry Arabic prefixes: 'العشرات', 'وآلاف'
    for key in (first, *arabic_bases(first)):
        for words, value, exact in table.get(key, ()):
            end = i + len(words)
            if end <= len(toks) and all(
                toks[j].folded == w for j, w in zip(range(i + 1, end), words[1:], strict=True)
            ):
                return _Num(Decimal(value), exact, 1, end - 1, False)
    return None


def _parse_words(toks: list[Tok], i: int, language: str | None) -> _Num | None:
    table = _words(language)
    total, current, largest = 0, 0, 0
    j, last, seen = i, -1, False
    while j < len(toks):
        tok = toks[j]
        if seen and (tok.text in _HYPHENS or tok.folded in {"and", "et", "y"}):
            nxt = _key(toks[j + 1], table, True) if j + 1 < len(toks) else None
            if nxt is None or not _joins(tok.folded, total, current, table[nxt][0]):
                break
            if nxt in {"un", "une"}:  # 'vingt et un'
                current, last, j = current + 1, j + 1, j + 2
                continue
            j += 1
            continue
        key = _key(tok, table, seen)
        if key is None:
            break
        kind, v = table[key]
        if kind == "one":
            after = toks[j + 1] if j + 1 < len(toks) else None
            ahead = _key(after, table, True) if after else None
            if seen or ahead is None or table[ahead][0] not in {"mult", "scale"}:
                break
            current = 1
        elif kind == "fixed":
            if seen:
                break
            total, largest, last = v, v // 2, j  # the dual of its scale word: 'مليونان'
            break
        elif kind == "unit":
            # 'quatre-vingt(s)' is four twenties
            four_twenties = v == 20 and current == 4 and key.startswith("vingt")
            current = current * 20 if four_twenties else current + v
        elif kind == "mult":
            current = max(current, 1) * v
        else:
            if not seen and key in {fold(w) for w in _DUAL_ALONE}:
                total = dict((fold(w), n) for w, n in _DUAL_ALONE.items())[key]
                last = j
                break
            base = total + current or 1
            if v > largest:
                total, largest = base * v, v
            else:
                total += max(current, 1) * v
            current = 0
        seen, last = True, j
        j += 1
    total += current
    if last < 0 or total <= 0:
        return None
    return _Num(Decimal(total), True, largest or 1, last, False)


def _joins(link: str, total: int, current: int, next_kind: str) -> bool:
    """Whether a hyphen or 'and' inside number words continues the number ('a hundred and fifty',
    'twenty-five', 'vingt et un', 'treinta y cinco'), rather than joining two ('five and six')."""
    if link not in {"and", "et", "y"}:
        return next_kind in {"unit", "mult", "one"}
    if link == "and":
        return next_kind == "unit" and (total > 0 or (current > 0 and current % 100 == 0))
    return next_kind in {"unit", "one"} and current % 10 == 0 and current % 100 >= 20


def _parse_one(toks: list[Tok], i: int, language: str | None) -> _Num | None:
    tok = toks[i]
    if tok.kind == "num":
        return _parse_digits(toks, i, language)
    if tok.kind != "word":
        return None
    return _match_phrase(toks, i) or _parse_words(toks, i, language)


_BETWEEN = {"between", "entre", "بين"}
_RANGE_WORDS = {"to", "à", "a", "al", "إلى", "الى", "-", "–", "—"}


def _range_end(toks: list[Tok], first: int, x: _Num, language: str | None) -> _Num | None:
    """The upper end of a range whose lower end is x, or None when x stands alone."""
    j = x.last + 1
    if j + 1 >= len(toks):
        return None
    link = toks[j].folded
    opener = toks[first - 1].folded if first > 0 else ""
    allowed = set(_RANGE_WORDS)
    if opener in _BETWEEN:
        allowed |= {"and", "et", "y", "و"}
    if link not in allowed:
        return None
    return _parse_one(toks, j + 1, language)


def _and_more(toks: list[Tok], x: _Num, language: str | None) -> _Num:
    """Arabic joins the parts of a number with 'و' written against digits: 'مليون و200 ألف' is
    1,200,000. The part after it must be smaller than the scale word before it."""
    j = x.last + 1
    if x.scale < 1000 or j + 1 >= len(toks) or toks[j].folded != "و":
        return x
    if toks[j + 1].kind != "num" or toks[j].end != toks[j + 1].start:
        return x
    y = _parse_digits(toks, j + 1, language)
    if y is None or y.value >= x.scale:
        return x
    return _Num(x.value + y.value, x.exact, x.scale, y.last, False)


def find_quantities(text: str, language: str | None = None) -> list[Quantity]:
    """Every quantity in the text, left to right, ranges joined ('3 to 5 million').

    Reads digits, scale words, number words and vague amounts in English, French, Spanish and
    Arabic. Says nothing about what is counted; years, prices and ages are returned like any number.
    """
    return quantities_in(scan(text), language if language else guess_language(text))


def quantities_in(toks: list[Tok], language: str | None) -> list[Quantity]:
    """As find_quantities, over a scan already made."""
    out: list[Quantity] = []
    i = 0
    while i < len(toks):
        x = _parse_one(toks, i, language)
        if x is not None and i > 0 and toks[i - 1].folded in {"pour", "por", "per"}:
            x = None if toks[i].folded in {"cent", "ciento", "cien"} else x  # 'pour cent'
        if x is None:
            i += 1
            continue
        x = _and_more(toks, x, language)
        low, high, first, last, exact = x.value, None, i, x.last, x.exact
        y = _range_end(toks, i, x, language)
        if y is not None:
            low_scaled = x.value * y.scale if x.scale == 1 and y.scale > 1 else x.value
            if y.value > low_scaled:
                low, high, last, exact = low_scaled, y.value, y.last, x.exact and y.exact
                if i > 0 and toks[i - 1].folded in _BETWEEN:
                    first = i - 1
        if low == low.to_integral_value() and (high is None or high == high.to_integral_value()):
            out.append(
                Quantity(
                    int(low), None if high is None else int(high), exact, first, last,
                    toks[first].start, toks[last].end, x.plain and high is None,
                )
            )  # fmt: skip
        i = last + 1
    return out


def parse_number(text: str, language: str | None = None) -> int | None:
    """The value of a text that is exactly one number ('57,000', 'four million', '٥٠ ألف').

    Vague amounts give their lower bound ('thousands' -> 2000); ranges and other texts give None.
    """
    toks = scan(text)
    found = quantities_in(toks, language if language else guess_language(text))
    if len(found) != 1 or found[0].value_max is not None:
        return None
    q = found[0]
    return q.value if q.first == 0 and q.last == len(toks) - 1 else None
