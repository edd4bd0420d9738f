"""Match: every rule against one extracted article, with the reason it matched. Pure.

Rules are compiled once per config version into one term index shared by all rules, so an
article's words are looked up once whatever the number of rules.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from monitor.figures import format_figure
from monitor.records import Article, Extraction, Figure, Match, Place, Sentence
from monitor.rules import PlaceCondition, Rule
from monitor.text import Token, fold, tokens, word_keys


def _folded(*lines: str) -> frozenset[str]:
    return frozenset(fold(w) for line in lines for w in line.split(" "))


# Words that negate what follows them closely: "no hospitals were hit", "was not struck".
# Modal and threat words count too: "could be targeted" reports no attack.
NEGATORS = _folded(
    "no not never none neither nor without n't cannot unharmed untouched",
    "ne pas aucun aucune jamais sans ni",
    "ningún ninguna ninguno nunca sin tampoco",
    "لم لا لن ليس ليست دون بدون",
    "could might would threatened threatens threaten planned planning plotted plotting",
    "pourrait pourraient podría podrían",
)
# Verbs of denial govern a whole complement: "denied that its jets struck the hospital".
DENIALS = _folded(
    "deny denies denied denying rejected refuted dismissed",
    "dément démenti démentent nie nié nient niant",
    "negó niega niegan negaron desmintió desmiente",
    "نفى نفت ينفي تنفي نفي",
)
# ...unless what is denied is only who did it: "denied responsibility for the strike".
_RESPONSIBILITY = _folded(
    "responsibility involvement role blame any part",
    "responsabilité implication responsabilidad participación مسؤولية",
)
# Words that end a clause: negation before them does not reach past them.
_CLAUSE_WORDS = _folded("but although though while whereas however mais pero aunque لكن بينما")
_NEGATION_REACH = 3  # words before the first matched term that a negator still governs
_MAX_COMBINATIONS = 400  # a bound on combinations tried per sentence and rule


@dataclass(frozen=True, slots=True)
class _Term:
    text: str  # as written in the rule
    words: tuple[tuple[str, bool], ...]  # (folded word, is a stem)


@dataclass(frozen=True, slots=True)
class _Hit:
    term: int  # index in CompiledRules.terms
    start: int  # first token index
    end: int  # one past the last token index


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    groups: tuple[frozenset[int], ...]  # `all` groups then `any` as one more group
    group_labels: tuple[str, ...]
    none: frozenset[int]
    unless_between: frozenset[int]
    ignore: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Doc:
    """An article's sentences with their tokens and term hits, computed once for all rules."""

    sentences: tuple[Sentence, ...]
    toks: tuple[tuple[Token, ...], ...]
    hits: tuple[dict[int, list[_Hit]], ...]  # per sentence: term -> hits


@dataclass
class CompiledRules:
    """All enabled rules, compiled. Build with compile_rules()."""

    rules: tuple[_CompiledRule, ...]
    terms: list[_Term]
    exact: dict[str, list[int]] = field(default_factory=dict)  # first word -> terms
    stems: dict[str, list[int]] = field(default_factory=dict)  # first-word stem -> terms
    min_stem: int = 3

    def match(
        self, article: Article, extraction: Extraction, household_size: float = 5.0
    ) -> list[Match]:
        """Every rule that matches the article, each once, with its reason."""
        doc = self.prepare(extraction.sentences)
        out = []
        for compiled in self.rules:
            found = self._match_rule(compiled, article, extraction, doc, household_size)
            if found is not None:
                out.append(found)
        return out

    def prepare(self, sentences: Sequence[Sentence]) -> _Doc:
        toks = tuple(tuple(tokens(s.text)) for s in sentences)
        return _Doc(tuple(sentences), toks, tuple(self._find(t) for t in toks))

    def _find(self, toks: Sequence[Token]) -> dict[int, list[_Hit]]:
        hits: dict[int, list[_Hit]] = defaultdict(list)
        keys = [word_keys(t.folded) for t in toks]
        for i, first in enumerate(keys):
            candidates: set[int] = set()
            for key in first:
                candidates.update(self.exact.get(key, ()))
                for n in range(self.min_stem, len(key) + 1):
                    candidates.update(self.stems.get(key[:n], ()))
            for term_id in candidates:
                words = self.terms[term_id].words
                if i + len(words) <= len(keys) and all(
                    _word_matches(w, stem, keys[i + k]) for k, (w, stem) in enumerate(words)
                ):
                    hits[term_id].append(_Hit(term_id, i, i + len(words)))
        return hits

    def _match_rule(
        self, c: _CompiledRule, article: Article, ex: Extraction, doc: _Doc, household_size: float
    ) -> Match | None:
        rule = c.rule
        if rule.feeds and article.feed not in rule.feeds:
            return None
        if rule.feed_tags and not set(rule.feed_tags) & set(article.feed_tags):
            return None
        if rule.places and not _places_pass(rule.places, ex.places):
            return None
        figure = _figure_for(rule, ex.figures, household_size) if rule.figure else None
        if rule.figure and figure is None:
            return None
        matched: list[tuple[int, list[_Hit]]] = []  # (sentence index, hits of the combination)
        if c.groups:
            matched = self._text_matches(c, doc)
            if not matched:
                return None
        where = {doc.sentences[i].index for i, _ in matched}
        if figure is not None and figure.sentence >= 0:
            where.add(figure.sentence)
        places = _relevant_places(rule, ex.places, where)
        if rule.new_region and not places:
            return None
        return self._explain(c, doc, matched, figure, places, ex)

    def _text_matches(self, c: _CompiledRule, doc: _Doc) -> list[tuple[int, list[_Hit]]]:
        rule = c.rule
        usable = [i for i, s in enumerate(doc.sentences) if s.field in rule.fields]
        if rule.scope == "article":
            if any(doc.hits[i].get(t) for i in usable for t in c.none):
                return []
            chosen: list[tuple[int, _Hit]] = []
            for group in c.groups:
                hit = next(
                    (
                        (i, h)
                        for i in usable
                        for t in sorted(group)
                        for h in doc.hits[i].get(t, ())
                        if not (rule.negation and _negated(doc.toks[i], [h]))
                    ),
                    None,
                )
                if hit is None:
                    return []
                chosen.append(hit)
            by_sentence: dict[int, list[_Hit]] = defaultdict(list)
            for i, h in chosen:
                by_sentence[i].append(h)
            return sorted(by_sentence.items())
        out = []
        for i in usable:
            combo = self._sentence_combo(c, doc.toks[i], doc.hits[i])
            if combo is not None:
                out.append((i, combo))
                if not rule.new_region:
                    break  # one sentence explains a plain match; new_region wants them all
        return out

    def _sentence_combo(
        self, c: _CompiledRule, toks: Sequence[Token], hits: dict[int, list[_Hit]]
    ) -> list[_Hit] | None:
        rule = c.rule
        if any(hits.get(t) for t in c.none):
            return None
        ignored = [h for t in c.ignore for h in hits.get(t, ())]
        per_group = []
        for group in c.groups:
            found = [
                h
                for t in group
                for h in hits.get(t, ())
                if not any(i.start < h.end and h.start < i.end for i in ignored)
            ]
            if not found:
                return None
            per_group.append(sorted(found, key=lambda h: h.start))
        blockers = [h for t in c.unless_between for h in hits.get(t, ())]
        for combo in itertools.islice(itertools.product(*per_group), _MAX_COMBINATIONS):
            start = min(h.start for h in combo)
            end = max(h.end for h in combo)
            if rule.within is not None and _gap(combo) > rule.within:
                continue
            if any(start <= b.start and b.end <= end and not _inside(b, combo) for b in blockers):
                continue
            if rule.negation and _negated(toks, combo):
                continue
            return list(combo)
        return None

    def _explain(
        self,
        c: _CompiledRule,
        doc: _Doc,
        matched: list[tuple[int, list[_Hit]]],
        figure: Figure | None,
        places: tuple[Place, ...],
        ex: Extraction,
    ) -> Match:
        rule = c.rule
        sentence: str | None = None
        terms: list[str] = []
        parts = []
        if matched:
            i, combo = matched[0]
            sentence = doc.sentences[i].text
            toks = doc.toks[i]
            terms = [sentence[toks[h.start].start : toks[h.end - 1].end] for h in combo]
            labelled = []
            for h, quote in zip(combo, terms, strict=True):
                label = next(
                    (lab for g, lab in zip(c.groups, c.group_labels, strict=True) if h.term in g),
                    "",
                )
                labelled.append(f"{label} '{quote}'" if label else f"'{quote}'")
            parts.append("terms " + ", ".join(labelled) + f" in the {doc.sentences[i].field}")
        elif figure is not None:
            sentence = next((s.text for s in ex.sentences if s.index == figure.sentence), None)
        if figure is not None:
            parts.append(f"figure {format_figure(figure)} ('{figure.phrase}')")
        if places:
            label = "new-region candidates" if rule.new_region else "places"
            shown = ", ".join(p.name for p in places[:6])
            parts.append(
                f"{label} {shown}" + (f" (+{len(places) - 6} more)" if len(places) > 6 else "")
            )
        return Match(
            rule_id=rule.id,
            rule_title=rule.title,
            severity=rule.severity,
            sentence=sentence,
            terms=tuple(dict.fromkeys(terms)),
            figure=figure,
            places=places,
            explain=f"{rule.id}: " + "; ".join(parts),
        )


def _word_matches(word: str, stem: bool, keys: tuple[str, ...]) -> bool:
    if stem:
        return any(k.startswith(word) for k in keys)
    return word in keys


def _gap(combo: Sequence[_Hit]) -> int:
    """Words between the first and the last matched term."""
    ordered = sorted(combo, key=lambda h: h.start)
    return max(0, ordered[-1].start - ordered[0].end)


def _inside(hit: _Hit, combo: Sequence[_Hit]) -> bool:
    return any(h.start <= hit.start and hit.end <= h.end for h in combo)


def _negated(toks: Sequence[Token], combo: Sequence[_Hit]) -> bool:
    """Is the matched span negated or denied?

    A negator counts between the matched terms or a few words before the first, within the
    clause; a denial counts anywhere before the span in the sentence, unless what it denies
    is responsibility ("denied responsibility for the strike on the hospital" still reports a
    strike). Cues after the span do not count: "the hospital was struck; the army denied it".
    """
    start = min(h.start for h in combo)
    end = max(h.end for h in combo)
    covered = {k for h in combo for k in range(h.start, h.end)}
    clause_start = 0
    for k in range(start - 1, -1, -1):
        if toks[k].folded in _CLAUSE_WORDS:
            clause_start = k + 1
            break
    for k in range(max(clause_start, start - _NEGATION_REACH), end):
        if k in covered:
            continue
        word = toks[k].folded
        if word in NEGATORS or word.endswith("n't"):
            return True
    for k in range(end):
        if k not in covered and toks[k].folded in DENIALS:
            following = {t.folded for t in toks[k + 1 : k + 4]}
            if not following & _RESPONSIBILITY:
                return True
    return False


def _figure_for(rule: Rule, figures: Iterable[Figure], household_size: float) -> Figure | None:
    assert rule.figure is not None
    kind, threshold = rule.figure.kind, rule.figure.at_least
    best = None
    for f in figures:
        if (
            f.kind == kind
            and f.people(household_size) >= threshold
            and (best is None or f.people(household_size) > best.people(household_size))
        ):
            best = f
    return best


def place_matches(selector: str, place: Place) -> bool:
    """Does a place filter entry ('Syria', 'SY', 'region:SY-ID', 'Idlib') name this place or a
    place containing it?"""
    s = selector.strip()
    if ":" in s:
        return s in (place.id, place.admin1_id, f"country:{place.country_code}")
    if len(s) == 2 and s.isalpha() and s.isupper():
        return place.country_code == s
    f = fold(s)
    return f in (fold(place.name), fold(place.admin1 or ""), fold(place.mention))


def _places_pass(cond: PlaceCondition, places: Sequence[Place]) -> bool:
    if cond.exclude and any(place_matches(s, p) for s in cond.exclude for p in places):
        return False
    if cond.include:
        return any(place_matches(s, p) for s in cond.include for p in places)
    return True


def _relevant_places(rule: Rule, places: Sequence[Place], sentences: set[int]) -> tuple[Place, ...]:
    """The places a match is about: for new_region, those at the rule's level named in the
    matched sentences (a city stands for its region at region level); otherwise all places."""
    if not rule.new_region:
        # the places of the matched sentences say where it happened; else the article's
        local = tuple(p for p in places if set(p.in_sentences()) & sentences)
        return local or tuple(places)
    level = rule.new_region.level
    seen: dict[str, Place] = {}
    for p in places:
        if sentences and rule.scope == "sentence" and not set(p.in_sentences()) & sentences:
            continue
        if (
            rule.places
            and rule.places.include
            and not any(place_matches(s, p) for s in rule.places.include)
        ):
            continue
        candidate = _at_level(p, level)
        if candidate is not None and candidate.id not in seen:
            seen[candidate.id] = candidate
    return tuple(seen.values())


def _at_level(p: Place, level: str) -> Place | None:
    if level == "country":
        if p.kind == "country":
            return p
        return Place(
            f"country:{p.country_code}",
            p.country_code,
            p.country_code,
            "country",
            None,
            None,
            p.mention,
            p.sentence,
            p.mentions,
        )
    if level == "region":
        if p.kind == "region":
            return p
        if p.kind == "city" and p.admin1_id:
            return Place(
                p.admin1_id,
                p.admin1 or p.admin1_id,
                p.country_code,
                "region",
                None,
                None,
                p.mention,
                p.sentence,
                p.mentions,
            )
        return None
    return p if p.kind == "city" else None


def compile_rules(rules: Iterable[Rule]) -> CompiledRules:
    """Compile enabled rules into one shared term index."""
    terms: list[_Term] = []
    ids: dict[tuple[tuple[str, bool], ...], int] = {}

    def term_ids(texts: Iterable[str]) -> frozenset[int]:
        out = set()
        for text in texts:
            words = tuple((fold(w.rstrip("*")), w.endswith("*")) for w in _split_term(text))
            if not words:
                continue
            if words not in ids:
                ids[words] = len(terms)
                terms.append(_Term(text, words))
            out.add(ids[words])
        return frozenset(out)

    compiled = []
    for rule in rules:
        if not rule.enabled:
            continue
        groups = [term_ids(g) for g in rule.all]
        labels = list(rule.group_names)
        if rule.any:
            groups.append(term_ids(rule.any))
            labels.append("")
        compiled.append(
            _CompiledRule(
                rule,
                tuple(groups),
                tuple(labels),
                term_ids(rule.none),
                term_ids(rule.unless_between),
                term_ids(rule.ignore),
            )
        )
    result = CompiledRules(tuple(compiled), terms)
    for i, term in enumerate(terms):
        word, stem = term.words[0]
        (result.stems if stem else result.exact).setdefault(word, []).append(i)
    return result


def _split_term(text: str) -> list[str]:
    """Words of a term as the tokenizer would cut them ('health-care' is two words), keeping a
    trailing '*' on the word it ends."""
    out = []
    for raw in text.split():
        star = raw.endswith("*")
        pieces = [t.text for t in tokens(raw.rstrip("*"))]
        if pieces and star:
            pieces[-1] += "*"
        out.extend(pieces)
    return out
