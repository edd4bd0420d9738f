"""Extract: an article's sentences, humanitarian figures and places. Pure given a gazetteer."""

from __future__ import annotations

from monitor.figures import extract_figures
from monitor.gazetteer import Gazetteer
from monitor.places import find_places
from monitor.records import FIELDS_ORDER, Article, Extraction, Sentence
from monitor.text import sentence_spans


def article_sentences(article: Article) -> tuple[Sentence, ...]:
    """The article's sentences, title first, numbered across fields."""
    out: list[Sentence] = []
    for field in FIELDS_ORDER:
        text = article.field_text(field)
        for a, b in sentence_spans(text):
            out.append(Sentence(field, len(out), text[a:b]))
    return tuple(out)


class Extractor:
    """Reads figures and places from articles. Without a gazetteer, finds no places."""

    def __init__(self, gazetteer: Gazetteer | None) -> None:
        self.gazetteer = gazetteer

    def extract(self, article: Article) -> Extraction:
        sentences = article_sentences(article)
        figures = extract_figures(sentences, article.language)
        places = find_places(sentences, self.gazetteer) if self.gazetteer is not None else ()
        return Extraction(sentences, figures, places)
