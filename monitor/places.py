"""Finding the places an article names, resolved against the gazetteer.

Pure: takes sentences and a loaded Gazetteer, returns Place records. Does not load the gazetteer
(the caller does, once) and does not judge whether a place matters to a rule.

Policy for a name that is both a region and its capital city (Idlib, Aleppo, Hama, Kharkiv): it is
read as the city, unless a region word stands next to it ('Idlib province', 'the governorate of
Idlib', 'Kharkiv oblast', 'محافظة إدلب'). Either way the region stays derivable: a city carries
its region in admin1 / admin1_id.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from monitor.gazetteer import MAX_WORDS, Entry, Gazetteer
from monitor.records import Place, Sentence
from monitor.text import Token, is_arabic, tokens, word_keys

# Words that, next to a name, say the region is meant rather than its capital city.
_REGION_AFTER = frozenset(
    [
        "province",
        "provinces",
        "governorate",
        "region",
        "oblast",
        "state",
        "district",
        "prefecture",
        "department",
        "countryside",
        "wilaya",
        "wilayah",
    ]
)
_REGION_BEFORE = frozenset(
    [
        "province",
        "governorate",
        "region",
        "oblast",
        "state",
        "provincia",
        "gouvernorat",
        "wilaya",
        "région",
        "محافظه",
        "ريف",
        "ولايه",
        "اقليم",
        "منطقه",
    ]
)
_OF = frozenset({"of", "de", "d", "du", "del"})
# Small words that stay lower-case inside a capitalised name ('Deir ez-Zor', 'Bosnia and Herzegovina').
_PARTICLES = frozenset(
    [
        "al",
        "el",
        "ez",
        "az",
        "ad",
        "as",
        "ar",
        "an",
        "at",
        "ash",
        "ad-d",
        "ed",
        "es",
        "en",
        "et",
        "de",
        "du",
        "des",
        "da",
        "do",
        "dos",
        "das",
        "di",
        "del",
        "della",
        "la",
        "le",
        "les",
        "of",
        "the",
        "and",
        "upon",
        "on",
        "sur",
        "au",
        "aux",
        "am",
        "im",
        "bin",
        "ibn",
        "bir",
        "wa",
        "y",
        "i",
    ]
)
_KIND_RANK = {"country": 2, "region": 1, "city": 0}


@dataclass(frozen=True, slots=True)
class _Mention:
    sentence: int
    text: str
    key: str  # the folded name it was found under
    candidates: tuple[Entry, ...]
    region_hint: bool  # a region word stands next to the name


def find_places(sentences: Sequence[Sentence], gazetteer: Gazetteer) -> tuple[Place, ...]:
    """Every place named in the sentences, each once, in order of first mention, with the
    index of every sentence that names it in Place.mentions (sorted, each once).

    A mention that could be several places is resolved in favour of countries named (or
    implied by unambiguous places) elsewhere in the same article, then by kind (country, then
    region, then city) and population. Lower-case words of a cased sentence and stop-listed
    common words are not read as cities or regions.
    """
    mentions: list[_Mention] = []
    demonyms: list[str] = []
    for sentence in sentences:
        mentions.extend(_mentions(sentence, gazetteer, demonyms))
    context = _context(mentions)
    context.update(demonyms)
    places: dict[str, Place] = {}
    named_in: dict[str, set[int]] = {}
    for mention in mentions:
        entry = _resolve(mention, context, gazetteer)
        if entry is None:
            continue
        for found, text in ((entry, mention.text), *_country_inside(entry, mention, gazetteer)):
            named_in.setdefault(found.id, set()).add(mention.sentence)
            if found.id in places:
                continue
            admin1 = gazetteer.get(found.admin1_id) if found.admin1_id else None
            places[found.id] = Place(
                id=found.id,
                name=found.name,
                country_code=found.country_code,
                kind=found.kind,
                admin1=admin1.name if admin1 else None,
                admin1_id=found.admin1_id,
                mention=text,
                sentence=mention.sentence,
            )
    return tuple(
        replace(place, mentions=tuple(sorted(named_in[place.id]))) for place in places.values()
    )


def _country_inside(
    entry: Entry, mention: _Mention, gazetteer: Gazetteer
) -> list[tuple[Entry, str]]:
    """The country a region's name contains, as a place of its own: 'South Lebanon' and
    'جنوب لبنان' name Lebanon too. Only for regions: 'Port Sudan' and 'South Sudan' do not."""
    if entry.kind != "region" or " " not in mention.key:
        return []
    for t in tokens(mention.text):
        for key in word_keys(t.folded):
            for c in gazetteer.candidates(key):
                if c.kind == "country" and c.country_code == entry.country_code:
                    return [(c, t.text)]
    return []


def _mentions(sentence: Sentence, gazetteer: Gazetteer, demonyms: list[str]) -> list[_Mention]:
    """The names found in one sentence, longest first, without overlaps. The country codes of
    the demonyms met on the way ('Syrian', 'haitiano') are appended to demonyms."""
    toks = tokens(sentence.text)
    cased = any(c.isupper() for c in sentence.text)
    words = [t for t in toks if t.text[0].isalpha() and not is_arabic(t.text)]
    # a title in Title Case: every word capitalised, so capitals say nothing about names
    titled = len(words) > 3 and sum(t.text[0].isupper() for t in words) > 0.6 * len(words)
    out: list[_Mention] = []
    i = 0
    while i < len(toks):
        found = _longest_at(toks, i, gazetteer, cased)
        if found is None:
            i = _demonym_at(toks, i, gazetteer, demonyms)
            continue
        end, key, candidates = found
        if (
            cased
            and not titled
            and end - i == 1
            and _inside_a_name(sentence.text, toks, i, candidates, gazetteer)
        ):
            i += 1
            continue
        text = sentence.text[toks[i].start : toks[end - 1].end]
        out.append(_Mention(sentence.index, text, key, candidates, _region_hint(toks, i, end)))
        i = end
    return out


# Capitalised words that may follow a place name without making it part of a person's name.
_FEATURES = frozenset(
    [
        "hospital",
        "hospitals",
        "airport",
        "university",
        "city",
        "province",
        "governorate",
        "region",
        "oblast",
        "state",
        "district",
        "camp",
        "camps",
        "countryside",
        "port",
        "border",
        "crossing",
        "river",
        "valley",
        "mountains",
        "strip",
        "refugee",
        "refugees",
        "general",
        "centre",
        "center",
        "clinic",
        "street",
        "road",
        "front",
        "frontline",
    ]
)


def _inside_a_name(
    text: str, toks: list[Token], i: int, candidates: tuple[Entry, ...], gazetteer: Gazetteer
) -> bool:
    """Whether a one-word city or region stands between capitalised words, as in a person's name
    ('Vladimir Putin', 'Muqdad Miri', 'Mahmoud Abbas'). Countries are never dropped, nor a name
    set apart by punctuation ('in Abs, Hajjah governorate') or that starts the name of a
    facility ('Juba Teaching Hospital')."""
    if any(c.kind == "country" for c in candidates):
        return False

    def joined(a: int, b: int) -> bool:  # tokens a and b are separated by blanks or a hyphen
        gap = text[toks[a].end : toks[b].start] if a >= 0 and b < len(toks) else ","
        return not gap.replace("-", " ").strip()

    before = toks[i - 1] if joined(i - 1, i) else None
    after = toks[i + 1] if joined(i, i + 1) else None
    j = i + 1
    while j < min(len(toks), i + 4) and joined(j - 1, j) and toks[j].text[0].isupper():
        if toks[j].folded in _FEATURES:
            return False
        j += 1

    def name_like(t: Token | None) -> bool:
        # a capitalised word that is neither a feature ('Hospital'), a common word nor a place
        if t is None or not t.text[0].isupper() or is_arabic(t.text):
            return False
        keys = word_keys(t.folded)
        if t.folded in _FEATURES or t.folded in gazetteer.stopwords or len(keys) > 1:
            return False
        return not gazetteer.candidates(t.folded)

    return name_like(after) or name_like(before)


def _demonym_at(toks: list[Token], i: int, gazetteer: Gazetteer, demonyms: list[str]) -> int:
    """Record a demonym of one or two words starting at token i; the index to go on from."""
    for n in (2, 1):
        if i + n <= len(toks):
            for key in _keys(toks[i : i + n]):
                country = gazetteer.demonym(key)
                if country is not None:
                    demonyms.append(country.country_code)
                    return i + n
    return i + 1


_ROMAN = re.compile(r"^[IVXLC]{2,}$")


def _longest_at(
    toks: list[Token], i: int, gazetteer: Gazetteer, cased: bool
) -> tuple[int, str, tuple[Entry, ...]] | None:
    """The longest name starting at token i, as (end token index, key, candidates)."""
    if _ROMAN.match(toks[i].text):  # 'King Abdullah II', 'Phase III': a numeral, not a town
        return None
    if cased:
        # In cased text a name starts with a capital, a particle, an elision or Arabic; most
        # words start with none of these, and no name can start at them.
        first = toks[i].text
        if (
            first[0].isalpha()
            and not first[0].isupper()
            and toks[i].folded not in _PARTICLES
            and not _elided_capital(first)
            and not is_arabic(first)
        ):
            return None
    for n in range(min(MAX_WORDS, len(toks) - i), 0, -1):
        span = toks[i : i + n]
        if n <= 3:
            acronym = gazetteer.exact(" ".join(t.text for t in span))
            if acronym is not None:
                return i + n, acronym.id, (acronym,)
        if cased and not _capitalised(span):
            continue
        for key in _keys(span):
            candidates = gazetteer.candidates(key)
            if not candidates:
                continue
            if n == 1 and not gazetteer.stopwords.isdisjoint(word_keys(span[0].folded)):
                candidates = tuple(c for c in candidates if c.kind == "country")
                if not candidates:
                    continue
            return i + n, key, candidates
    return None


def _keys(span: list[Token]) -> list[str]:
    """Index keys for a run of tokens: the first word may carry an Arabic prefix or a French
    elision, the last an English possessive."""
    if len(span) == 1:
        return list(word_keys(span[0].folded))
    middle = [t.folded for t in span[1:-1]]
    return [
        " ".join([first, *middle, last])
        for first in word_keys(span[0].folded)
        for last in word_keys(span[-1].folded)
    ]


def _capitalised(span: list[Token]) -> bool:
    """Whether a run of words looks like a proper name in cased text: each word capitalised,
    except small particles ('Deir ez-Zor'), Arabic and digits, and at least one capital."""
    if len(span) >= 3 and span[0].text[0].isupper() and span[-1].text[0].isupper():
        # a long name keeps its inner words in lower case: 'République démocratique du Congo'
        return True
    any_capital = False
    for t in span:
        first = t.text[0]
        if first.isupper() or is_arabic(t.text) or _elided_capital(t.text):
            any_capital = True
        elif first.isalpha() and t.folded not in _PARTICLES:
            return False
    return any_capital


def _elided_capital(word: str) -> bool:
    """A capitalised word behind a French elision: "d'Ivoire", "l’Ouest"."""
    head, _, rest = word.replace("’", "'").partition("'")
    return len(head) <= 2 and rest[:1].isupper()


def _region_hint(toks: list[Token], start: int, end: int) -> bool:
    after = toks[end].folded if end < len(toks) else ""
    if after in _REGION_AFTER or (after.endswith("'s") and after[:-2] in _REGION_AFTER):
        return True
    if start >= 1 and any(k in _REGION_BEFORE for k in word_keys(toks[start - 1].folded)):
        return True
    # 'the province of Idlib', 'la province d'Idlib', 'la provincia de Idlib'
    first = toks[start].folded
    if "'" in first and first.split("'")[0] in _OF and start >= 1:
        return toks[start - 1].folded in _REGION_BEFORE
    return start >= 2 and toks[start - 1].folded in _OF and toks[start - 2].folded in _REGION_BEFORE


def _context(mentions: list[_Mention]) -> Counter[str]:
    """Countries the article names or implies: each mention whose candidates all lie in one country."""
    counts: Counter[str] = Counter()
    for m in mentions:
        countries = {c.country_code for c in m.candidates}
        if len(countries) == 1:
            counts[next(iter(countries))] += 1
    return counts


def _resolve(mention: _Mention, context: Counter[str], gazetteer: Gazetteer) -> Entry | None:
    candidates = mention.candidates
    if len(candidates) == 1 and not mention.region_hint:
        return candidates[0]
    preferred = gazetteer.preferred(mention.key)
    if preferred is not None and not mention.region_hint:
        others = [c for c in candidates if context[c.country_code]]
        if context[preferred.country_code] or not others:
            return preferred
    countries = [c for c in candidates if c.kind == "country"]
    regions = [c for c in candidates if c.kind == "region"]
    in_context = [c for c in candidates if context[c.country_code]]
    if countries:
        # A country gives way only to a region of a country in context ('Atlanta, Georgia').
        rival = [
            c for c in regions if context[c.country_code] and not context[countries[0].country_code]
        ]
        return rival[0] if rival else countries[0]
    pool = in_context or list(candidates)
    best = max(pool, key=lambda c: (_KIND_RANK[c.kind], c.population, -len(c.id)))
    if best.kind == "region" and not mention.region_hint:
        # The region/capital policy: a city of the same name inside that region wins.
        namesake = [c for c in pool if c.kind == "city" and c.admin1_id == best.id]
        if namesake and not gazetteer.is_curated(best.id):
            best = max(namesake, key=lambda c: c.population)
    if mention.region_hint and best.kind == "city":
        in_pool = [c for c in pool if c.kind == "region"]
        if in_pool:
            return max(in_pool, key=lambda c: context[c.country_code])
        if best.admin1_id and gazetteer.capital(best.admin1_id) == best.id:
            return gazetteer.get(best.admin1_id) or best
    return best
