"""Text primitives shared by extraction and matching: folding, tokens, sentences.

Pure functions. Offsets always refer to the original text, so callers can quote what they matched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_ARABIC_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel, a stretching stroke with no meaning
        "’": "'",
        "‘": "'",
        "ʼ": "'",
    }
)

# Arabic attaches conjunctions, prepositions and the article to the word: 'والمستشفى' is
# 'and the hospital'. We strip them to give the bare word as an extra matching key.
_AR_PREFIXES = ("وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, strip accents and diacritics, unify Arabic letter variants and apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ARABIC_MAP))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().translate(_ARABIC_MAP)


_ARABIC = re.compile("[\u0600-\u06ff]")


def is_arabic(word: str) -> bool:
    return _ARABIC.search(word) is not None


def arabic_bases(folded: str) -> tuple[str, ...]:
    """The word with its attached Arabic prefixes removed, longest strip first; () if none apply."""
    out: list[str] = []
    for prefix in _AR_PREFIXES:
        if folded.startswith(prefix) and len(folded) - len(prefix) >= 2:
            out.append(folded[len(prefix) :])
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as it stands in the source
    folded: str  # fold(text)
    start: int  # offset in the source
    end: int


# Combining marks (Latin accents in decomposed text, Arabic short vowels and tanween) are not
# \w, but they belong to the word they sit on: 'استُهدفت' is one word.
_W = r"(?:\w|[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed])"
_WORD = re.compile(rf"{_W}+(?:['’]{_W}+)*", re.UNICODE)


def tokens(text: str) -> list[Token]:
    """Words of the text (letters, digits and inner apostrophes), with offsets."""
    return [Token(m.group(), fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


# Abbreviations after which a full stop does not end a sentence.
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "st", "gen", "col", "lt", "capt", "sgt", "rev", "gov", "sen",
    "rep", "no", "vs", "etc", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.n", "u.k", "e.g", "i.e", "inc", "ltd", "co", "mt", "ft",
    "sr", "jr", "m", "mme", "sra", "dra", "av", "art", "al",
}  # fmt: skip

_BOUNDARY = re.compile(r"[.!?؟。]+[\"'”’»)\]]*\s+|\n\s*\n|\n(?=\s*[-•*])|[\r\n]+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of the text, stripped of surrounding blanks."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        cut = m.end()
        chunk = text[start : m.start()]
        if m.group()[0] == ".":
            last = chunk.rsplit(None, 1)[-1] if chunk.strip() else ""
            word = last.lstrip("(\"'“‘").lower()
            # 'Mr. Smith', 'U.S. officials', a lone initial 'J. Smith': not an end.
            if word in _ABBREV or (len(word) == 1 and word.isalpha()):
                continue
            # a lower-case continuation is rarely a new sentence: 'approx. 40 people'
            nxt = text[cut : cut + 1]
            if nxt and nxt.islower() and not is_arabic(nxt):
                continue
        _add_span(text, start, cut, spans)
        start = cut
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def sentences(text: str) -> list[str]:
    """The sentences of the text."""
    return [text[a:b] for a, b in sentence_spans(text)]


_SPACE = re.compile(r"\s+")


def normalise_space(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return _SPACE.sub(" ", text).strip()


_ELISIONS = (
    "l'",
    "d'",
    "qu'",
    "j'",
    "s'",
    "n'",
    "c'",
    "m'",
    "t'",
    "lorsqu'",
    "jusqu'",
    "all'",
    "dell'",
)


@lru_cache(maxsize=65536)
def word_keys(folded: str) -> tuple[str, ...]:
    """The forms a folded word can be matched under: itself, without a French elision
    ("l'hopital" -> "hopital"), without an English possessive ("hospital's" -> "hospital"),
    and without attached Arabic prefixes."""
    keys = [folded]
    if "'" in folded:
        for el in _ELISIONS:
            if folded.startswith(el) and len(folded) > len(el):
                keys.append(folded[len(el) :])
                break
        if folded.endswith("'s"):
            keys.append(folded[:-2])
    elif is_arabic(folded):
        keys.extend(arabic_bases(folded))
    return tuple(keys)
