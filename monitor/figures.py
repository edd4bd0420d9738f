"""Humanitarian figures read from sentences: how many people were displaced, killed, injured, ...

Pure. For each quantity monitor.numbers finds, we decide what it counts by the words of the same
clause, with a few explicit shapes and nothing looser:
  NUMBER [people|families] [have been|were|...] TRIGGER   '50,000 people have been displaced'
  NUMBER TRIGGER-NOUN                                     '3,000 IDPs', '50 ألف نازح', '20 muertos'
  TRIGGER [the number ... rose to] NUMBER                 'displacing 50,000', 'نزح نحو 50 ألفا'
and, for a number nothing else explains: refugees are displaced ('95,000 refugees'); 'down from N'
and 'bringing the total to N' take the kind of the figure before them. A quantity that counts
money, years, troops, percentages or ages, that is the base of a share ('70% of the 2.1 million'),
that is only feared ('could be forced to flee') or that sits in a return context gives no figure. Precision comes first: a missed figure costs less than an invented one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from monitor.figure_words import LEXICON, QUALIFIERS
from monitor.numbers import Quantity, Tok, guess_language, quantities_in, scan
from monitor.records import Figure, FigureKind, FigureUnit, Sentence
from monitor.text import fold, is_arabic, word_keys

KINDS: tuple[FigureKind, ...] = ("displaced", "killed", "injured", "missing", "affected", "in_need")

_HYPHENS = {"-", "‐", "‑"}
_THIS = {"this", "last", "past", "that", "ce", "cet", "cette", "este", "esta", "ese", "esa"}
_RESTATE = {"or", "soit", "o", fold("أي")}  # 'N households, or M people'
_LEAVE = {"left", "departed"}  # 'about 150,000 had already left.': displaced when nothing follows
_WINDOW = 8  # tokens a trigger may stand from its number


@dataclass(frozen=True, slots=True)
class _Lexicon:
    exact: dict[str, list[tuple[tuple[str, ...], str]]]  # first word -> (words, category)
    prefixed: list[tuple[str, tuple[str, ...], str]]  # (first word's stem, words, category)


def _pattern(phrase: str) -> tuple[str, ...]:
    return tuple(fold(w) for w in phrase.replace("'", "' ").split())


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    exact: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    prefixed: list[tuple[str, tuple[str, ...], str]] = []
    entries = [(cat, p) for cat, text in LEXICON.items() for p in text.split("|")]
    entries += [("q:" + norm, p) for norm, text in QUALIFIERS.items() for p in text.split("|")]
    for cat, phrase in entries:
        words = _pattern(phrase.strip())
        if words[0].endswith("*"):
            prefixed.append((words[0][:-1], words, cat))
        else:
            exact.setdefault(words[0], []).append((words, cat))
    for items in exact.values():
        items.sort(key=lambda e: -len(e[0]))
    prefixed.sort(key=lambda e: -len(e[1]))
    return _Lexicon(exact, prefixed)


def _keys(tok: Tok) -> tuple[str, ...]:
    return _folded_keys(tok.folded) if tok.kind == "word" else (tok.folded,)


@lru_cache(maxsize=65536)
def _folded_keys(folded: str) -> tuple[str, ...]:
    keys = word_keys(folded)
    # 'd'enfants' is also the two words "d'" and 'enfants'
    return keys + ((folded[: folded.index("'") + 1],) if "'" in folded else ())


def _word_matches(tok: Tok, word: str) -> bool:
    if word.endswith("*"):
        return any(k.startswith(word[:-1]) and len(k) > 1 for k in _keys(tok))
    return word in _keys(tok)


@lru_cache(maxsize=65536)
def _candidates(keys: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """The lexicon phrases whose first word matches a token with these keys (cached: the same
    words come back in every article)."""
    lex = _lexicon()
    found = [c for key in keys for c in lex.exact.get(key, ())]
    found += [(w, c) for stem, w, c in lex.prefixed if any(x.startswith(stem) for x in keys)]
    return tuple(found)


def _matches_at(toks: list[Tok], k: int) -> list[tuple[str, int]]:
    """(category, index of the last token) of every lexicon phrase starting at toks[k]."""
    out: list[tuple[str, int]] = []
    for words, cat in _candidates(_keys(toks[k])):
        end = k if len(words) == 1 else _follow(toks, k, words)
        if end is not None:
            out.append((cat, end))
    return out


def _follow(toks: list[Tok], k: int, words: tuple[str, ...]) -> int | None:
    j = k
    for n, word in enumerate(words):
        # "d'" is written as its own word in patterns but is glued to the next word in text
        if n > 0 and words[n - 1].endswith("'") and _word_matches(toks[j - 1], word):
            continue
        while n > 0 and j < len(toks) and toks[j].text in _HYPHENS:
            j += 1
        if j >= len(toks) or not _word_matches(toks[j], word):
            return None
        j += 1
    return j - 1


@dataclass(slots=True)
class _Sentence:
    """One sentence's tokens, what the lexicon says starts at each, and where its quantities are."""

    toks: list[Tok]
    at: list[list[tuple[str, int]]]
    quantity_at: set[int]

    def cats(self, k: int) -> dict[str, int]:
        return {} if not 0 <= k < len(self.toks) else {c: e for c, e in reversed(self.at[k])}

    def ending_at(self, k: int) -> dict[str, int]:
        """Categories of phrases ending at toks[k], with their first index."""
        out: dict[str, int] = {}
        for start in range(max(0, k - 3), k + 1):
            for cat, end in self.at[start]:
                if end == k and cat not in out:
                    out[cat] = start
        return out

    def stops(self, k: int) -> bool:
        """Whether toks[k] ends the clause or starts another count."""
        tok = self.toks[k]
        if k in self.quantity_at or "boundary" in self.cats(k) or _joins_clauses(tok):
            return True
        if tok.text in _HYPHENS:
            return not self.glued(k)  # a spaced hyphen is a dash
        return tok.kind == "punct" and tok.text not in "'’\"“”"

    def glued(self, k: int) -> bool:
        """Whether toks[k] touches the tokens on both sides: 'sans-abri', '12-year-old'."""
        toks = self.toks
        return 0 < k < len(toks) - 1 and toks[k - 1].end == toks[k].start == toks[k + 1].start - 1

    def aside_end(self, k: int) -> int | None:
        """The index closing an aside opened at toks[k] (', most of them children,' or a dash
        pair) when nothing in it could change the reading: no count, kind, return or boundary.
        A count is allowed when the aside restates the one before: '2,000 households, or some
        11,000 people, fled'."""
        opener = self.toks[k].text
        if opener != "," and not (opener in _HYPHENS | {"–", "—"} and not self.glued(k)):
            return None
        restates = k + 1 < len(self.toks) and self.toks[k + 1].folded in _RESTATE
        for j in range(k + 1, min(len(self.toks), k + 10)):
            tok, cats = self.toks[j], self.cats(j)
            if tok.text == opener or (opener != "," and tok.text in _HYPHENS | {"–", "—"}):
                return j
            if (j in self.quantity_at and not restates) or _kind_of(cats):
                return None
            if {"return", "boundary", "hypothetical"} & cats.keys():
                return None
            if tok.kind == "punct" and tok.text not in _HYPHENS:
                return None
        return None


def _joins_clauses(tok: Tok) -> bool:
    """'and' between two counts: 'killed 20 and injured 35', 'قتل 20 شخصا وأصيب 35'."""
    if tok.folded in {"and", "et", "y", "e", "و", "plus"}:
        return True
    # Arabic writes 'and' on the next word: a known word behind a 'و' starts a new clause
    folded = tok.folded
    return folded.startswith("و") and is_arabic(folded) and folded not in _lexicon().exact


def _kind_of(cats: dict[str, int]) -> tuple[FigureKind, int] | None:
    for kind in KINDS:
        if kind in cats:
            return kind, cats[kind]
    return None


def _prepare(text: str, language: str | None) -> tuple[_Sentence, list[Quantity]]:
    toks = scan(text)
    # a hint from the feed is overruled by the script: Arabic feeds quote English and vice versa
    guess = guess_language(text)
    quantities = quantities_in(toks, guess if guess == "ar" or not language else language)
    covered = {k for q in quantities for k in range(q.first, q.last + 1)}
    return _Sentence(toks, [_matches_at(toks, k) for k in range(len(toks))], covered), quantities


def _not_a_count(s: _Sentence, q: Quantity) -> bool:
    """Years, dates, percentages, prices, ages and codes."""
    toks = s.toks
    before = s.ending_at(q.first - 1) if q.first > 0 else {}
    after = s.cats(q.last + 1)
    if "veto_before" in before or "percent" in after:
        return True
    if q.first > 0 and toks[q.first - 1].text in "$€£¥":
        return True
    if q.last + 2 < len(toks) and toks[q.last + 1].folded in {"de", "of"}:
        after = after | s.cats(q.last + 2)  # '12 de marzo'
    if q.plain and q.value <= 31 and ("month" in before or "month" in after):
        follows = toks[q.last + 2].folded if q.last + 2 < len(toks) else ""
        may_verb = toks[q.last + 1].folded == "may" and follows in {"have", "be", "not", "still"}
        return "month" in before or not may_verb
    if _ratio(s, q):
        return True
    if q.plain and 1800 <= q.value <= 2100:
        # '2000 people' is a count; 'in 2011' is a year
        nxt = s.cats(q.last + 1)
        return not any(c in nxt for c in (*KINDS, "people", "households"))
    return False


_RATIO_LINKS = {"in", "sur", "cada", "out"}


def _ratio(s: _Sentence, q: Quantity) -> bool:
    """'one in five residents', 'un sur dix', 'uno de cada cinco': a proportion, not a count."""
    toks, k = s.toks, q.last + 1
    if k < len(toks) and toks[k].folded in _RATIO_LINKS:
        k += 2 if toks[k].folded == "out" else 1  # 'one out of ten'
        return k in s.quantity_at
    k = q.first - 1
    return k > 0 and toks[k].folded in _RATIO_LINKS and k - 1 in s.quantity_at


@dataclass(frozen=True, slots=True)
class _Head:
    unit: FigureUnit
    kind: FigureKind | None  # set when the counted noun itself says the kind: '3,000 IDPs'
    next: int  # index of the first token after the counted noun phrase
    default: FigureKind | None = None  # the kind when no other word says one: '6,000 refugees'
    noun: bool = True  # whether a counted noun follows the number


def _head(s: _Sentence, q: Quantity) -> _Head | None:
    """What the number counts, read from the words right after it; None when not people."""
    k, spare = q.last + 1, 2
    if k < len(s.toks) - 1 and s.toks[k].text in _HYPHENS and s.glued(k):
        return None  # a compound adjective: '12-year-old', '1,000-bed'
    while k < len(s.toks):
        tok, cats = s.toks[k], s.cats(k)
        if _joins_clauses(tok):
            return _Head("people", None, k, noun=k > q.last + 1)
        found = _kind_of(cats)
        if found is not None:
            end = found[1]
            unit: FigureUnit = "households" if "households" in s.cats(end + 1) else "people"
            if unit == "households" or "people" in s.cats(end + 1):
                end = s.cats(end + 1).get(unit, end)
            return _Head(unit, found[0], end + 1)
        if "nonpeople" in cats:
            return None
        if "households" in cats:
            return _Head("households", None, cats["households"] + 1)
        if "refugees" in cats:
            return _Head("people", None, cats["refugees"] + 1, "displaced")
        if "people" in cats:
            return _Head("people", None, cats["people"] + 1)
        if tok.text in _HYPHENS or tok.folded in {"of", "de", "d'", "del", fold("من")}:
            k += 1
            continue
        if s.stops(k) or "after" in cats or "prep" in cats or spare == 0:
            return _Head("people", None, k, noun=k > q.last + 1)
        spare -= 1  # an adjective or a name: '50,000 Syrian civilians'
        k += 1
    return _Head("people", None, k, noun=k > q.last + 1)


def _trigger_after(s: _Sentence, start: int, lo: int) -> tuple[FigureKind, int] | None:
    """A kind word after the counted noun, with only auxiliaries, a short place or an aside
    between. A count restating the one before it ('2,000 households, or 11,000 people, fled')
    reads on past the comma that closes it."""
    spare, k, limit = 3, start, start + _WINDOW
    if _restating(s, lo) and k < len(s.toks) and s.toks[k].text == ",":
        k += 1
    while k < min(len(s.toks), limit):
        cats = s.cats(k)
        aside = s.aside_end(k)
        if aside is not None:
            limit += aside - k + 1
            k = aside + 1
            continue
        if _joins_clauses(s.toks[k]):
            return None
        found = _kind_of(cats)
        if found is not None:
            return found
        if s.toks[k].folded in _LEAVE and (k + 1 == len(s.toks) or _ends_clause(s, k + 1)):
            return "displaced", k
        if s.stops(k) or "return" in cats or "nonpeople" in cats:
            return None
        k += 1
        if "after" in cats or s.toks[k - 1].text in _HYPHENS:
            continue
        if spare == 0:
            return None
        spare -= 1
    return None


def _ends_clause(s: _Sentence, k: int) -> bool:
    tok = s.toks[k]
    return (tok.kind == "punct" and tok.text not in _HYPHENS | {"'", "’"}) or _joins_clauses(tok)


def _restating(s: _Sentence, lo: int) -> bool:
    """Whether the count at toks[lo] opens with ', or': a restatement of the count before it."""
    return lo > 1 and s.toks[lo - 1].folded in _RESTATE and s.toks[lo - 2].text == ","


def _trigger_before(s: _Sentence, first: int) -> tuple[FigureKind, int] | None:
    """A kind word before the number, with only 'the number of ... has risen to' between."""
    # 'the number of people displaced by the conflict now stands at': other words are allowed
    # once a verb of tallying has been passed, or when the kind word follows 'the number of'
    # ('bringing the number of displaced in Nineveh this year to 9,000')
    spare, tally, skip = 4, False, False
    for k in range(first - 1, max(-1, first - 1 - _WINDOW - 2), -1):
        ending = s.ending_at(k)
        found = _kind_of(ending)
        if found is not None:
            counted = found[1] > 0 and "count_of" in s.ending_at(found[1] - 1)
            return (found[0], found[1]) if tally or spare == 4 or counted else None
        # 'this year', 'last month': a time, not what is counted
        skip = skip or ("nonpeople" in ending and k > 0 and s.toks[k - 1].folded in _THIS)
        if skip:
            skip = "nonpeople" in ending
            continue
        if s.stops(k) or {"return", "nonpeople", "hypothetical"} & ending.keys():
            return None
        tally = tally or "tally" in ending
        if "before" not in ending and "tally" not in ending and s.toks[k].text not in _HYPHENS:
            if spare == 0:
                return None
            spare -= 1
    return None


def _qualifier(s: _Sentence, q: Quantity) -> tuple[str | None, int]:
    """The qualifier just before the quantity (normalised English) and the index it starts at."""
    if q.first > 0:
        for cat, start in s.ending_at(q.first - 1).items():
            if cat.startswith("q:"):
                return (cat[2:] or None), start
    return None, q.first


def _returning(s: _Sentence, lo: int, hi: int) -> bool:
    """Whether a return is spoken of in the clause around toks[lo..hi]."""
    for k in range(hi + 1, min(len(s.toks), hi + 6)):
        if s.stops(k):
            break
        if "return" in s.cats(k):
            return True
    for k in range(lo - 1, max(-1, lo - 5), -1):
        if s.stops(k):
            break
        if "return" in s.ending_at(k):
            return True
    return False


def _share_of(s: _Sentence, first: int) -> bool:
    """Whether the number is the base of a share: '70% of Gaza's 2.1 million residents'."""
    for k in range(first - 1, max(0, first - 4), -1):
        if s.toks[k].folded in {"of", "de", "des", "du", "del", fold("من")}:
            before = s.ending_at(k - 1)
            return "percent" in before or "share" in before
        if s.stops(k):
            return False
    return False


def _hypothetical(s: _Sentence, lo: int, hi: int) -> bool:
    """Whether the figure is only feared: 'could be forced to flee', 'at risk of displacement'."""
    if any(_maybe(s, k) for k in range(lo, hi + 1)):
        return True
    for k in range(lo - 1, max(-1, lo - 4), -1):
        if s.stops(k):
            return False
        if _maybe(s, k):
            return True
    return False


def _maybe(s: _Sentence, k: int) -> bool:
    cats = s.cats(k) | s.ending_at(k)
    # 'May' with a capital is the month: 'In May 2,000 people fled'
    if "hypothetical" not in cats or ("month" in cats and s.toks[k].text[:1].isupper()):
        return False
    # 'may have died', 'could have fled': an uncertain estimate of what happened, not a fear
    return k + 1 >= len(s.toks) or s.toks[k + 1].folded not in {"have", "avoir", "haber"}


def _compared(s: _Sentence, lo: int) -> bool:
    """Whether the number is an earlier value of the figure before it: 'down from 5.1 million'."""
    return lo > 0 and "compared" in s.ending_at(lo - 1)


def _postfix_qualifier(s: _Sentence, k: int) -> tuple[str | None, int]:
    """'3000 شخص على الأقل', '5,000 or more': a qualifier after the counted noun."""
    words = [t.folded for t in s.toks[k : k + 2]]
    if words == [fold("على"), fold("الأقل")] or words == ["or", "more"]:
        return "at least", k + 1
    return None, k - 1


def figures_in(text: str, sentence: int = -1, language: str | None = None) -> list[Figure]:
    """The figures of one sentence. See extract_figures."""
    s, quantities = _prepare(text, language)
    out: list[Figure] = []
    for q in quantities:
        if _not_a_count(s, q):
            continue
        head = _head(s, q)
        if head is None:
            continue
        qualifier, lo = _qualifier(s, q)
        hi = head.next - 1
        kind, unit = head.kind, head.unit
        if kind is None:
            found = _trigger_after(s, head.next, lo)
            if found is not None:
                kind, hi = found
        if kind is None:
            found = _trigger_before(s, lo)
            if found is not None:
                kind, lo = found
        if kind is not None and head.kind is None and _share_of(s, q.first):
            continue
        if kind is None and out and _compared(s, lo):
            kind, unit = out[-1].kind, unit if head.noun else out[-1].unit
        kind = kind or head.default
        if kind is None or _hypothetical(s, lo, hi):
            continue
        if kind == "displaced" and _returning(s, lo, hi):
            continue
        value, value_max = q.value, q.value_max
        if value_max is not None and q.first > 0 and "change" in s.ending_at(q.first - 1):
            value, value_max = value_max, None  # 'grew from 1.2 million to 1.9 million'
        post, post_end = _postfix_qualifier(s, head.next)
        if qualifier is None and post is not None:
            qualifier, hi = post, max(hi, post_end)
        phrase = text[s.toks[lo].start : s.toks[hi].end]
        out.append(Figure(kind, value, unit, q.exact, qualifier, phrase, sentence, value_max))
    return out


def extract_figures(
    sentences: Sequence[Sentence], language: str | None = None
) -> tuple[Figure, ...]:
    """Every humanitarian figure stated in the sentences, in reading order.

    `language` is a hint (ISO 639-1); without it each sentence's language is guessed. Each quantity
    gives at most one figure; the same figure stated twice is returned twice (one per sentence), as
    deciding which statement to believe is left to the caller.
    """
    return tuple(f for sent in sentences for f in figures_in(sent.text, sent.index, language))


def format_figure(f: Figure) -> str:
    """A short line for people: 'displaced: nearly 50,000 people', 'killed: 3 to 5 households',
    'displaced: 2,000+ people (vague)' for 'thousands'. Does not repeat the phrase it came from."""
    if f.value_max is not None:
        amount = f"{f.value:,} to {f.value_max:,}"
    else:
        amount = f"{f.value:,}" if f.exact else f"{f.value:,}+"
    words = [f.kind.replace("_", " ") + ":", f.qualifier or "", amount, f.unit]
    text = " ".join(w for w in words if w)
    return text if f.exact else text + " (vague)"
