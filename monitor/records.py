"""The small immutable records passed between pipeline stages.

Every stage takes and returns these; none of them does IO. Times are UTC-aware datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FigureKind = Literal["displaced", "killed", "injured", "missing", "affected", "in_need"]
FigureUnit = Literal["people", "households"]
PlaceKind = Literal["country", "region", "city"]
Field = Literal["title", "summary", "content"]
FIELDS_ORDER: tuple[Field, ...] = ("title", "summary", "content")


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed from feeds.yaml."""

    name: str  # unique, the feed's key in the database and in alerts
    url: str  # http(s) URL, or a local file path for replay
    interval: float  # seconds between polls
    tags: tuple[str, ...] = ()  # free labels a rule can filter on
    language: str | None = None  # ISO 639-1 hint; None lets the text decide


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server gave us to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one HTTP fetch of one feed. Never raised: errors are values."""

    status: Literal["ok", "not_modified", "error"]
    url: str  # the URL asked for
    final_url: str  # after redirects
    permanent_url: str | None = None  # set when every redirect on the way was permanent (301/308)
    body: bytes = b""  # empty unless status == "ok"
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    validators: Validators = Validators()
    http_status: int | None = None  # None when no response arrived at all
    retry_after: float | None = None  # seconds, from a Retry-After header
    error: str | None = None  # human-readable, says what went wrong
    retryable: bool = False  # 429/5xx/timeouts/connection errors: back off and try again
    elapsed: float = 0.0  # seconds


@dataclass(frozen=True, slots=True)
class Article:
    """One feed entry, as plain text."""

    feed: str  # FeedSpec.name it came from
    guid: str | None  # the entry id as the feed gave it
    link: str | None  # the entry link as the feed gave it
    title: str  # plain text, whitespace normalised
    summary: str  # plain text, whitespace normalised
    content: str  # plain text, whitespace normalised; "" when the feed has only a summary
    published: datetime | None  # UTC; None when the feed gives no usable date
    language: str | None = None  # from the entry, the feed, or the FeedSpec
    feed_tags: tuple[str, ...] = ()  # FeedSpec.tags

    def field_text(self, name: Field) -> str:
        return {"title": self.title, "summary": self.summary, "content": self.content}[name]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of one field of an article."""

    field: Field
    index: int  # position among all the article's sentences, title first
    text: str


@dataclass(frozen=True, slots=True)
class Figure:
    """A humanitarian figure read from text, e.g. 'nearly 50,000 people have been displaced'."""

    kind: FigureKind
    value: int  # the figure; for a range its lower end; for a vague quantity a conservative lower bound
    unit: FigureUnit  # people, or households/families as stated
    exact: bool  # False for 'thousands', 'tens of thousands', ...
    qualifier: str | None  # nearly / about / more than / at least / up to / over ... (English)
    phrase: str  # the words it was read from, as they stand in the text
    sentence: int = -1  # Sentence.index, -1 when unknown
    value_max: int | None = None  # upper end of a range, else None

    def people(self, household_size: float) -> int:
        """The figure in people, converting households with the given size."""
        if self.unit == "households":
            return round(self.value * household_size)
        return self.value


@dataclass(frozen=True, slots=True)
class Place:
    """A place named in text, resolved against the gazetteer."""

    id: str  # stable: 'country:SY', 'region:SY-ID', 'city:170063' (GeoNames id)
    name: str  # canonical English name
    country_code: str  # ISO 3166-1 alpha-2
    kind: PlaceKind
    admin1: str | None  # name of the first-level region containing it (None for a country)
    admin1_id: str | None  # 'region:XX-YY' of that region when known
    mention: str = ""  # the words in the text that named it
    sentence: int = -1  # Sentence.index of the first mention, -1 when unknown
    mentions: tuple[
        int, ...
    ] = ()  # Sentence.index of every mention; () when only `sentence` is known

    def in_sentences(self) -> tuple[int, ...]:
        return self.mentions or ((self.sentence,) if self.sentence >= 0 else ())


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the extract stage read from one article."""

    sentences: tuple[Sentence, ...]
    figures: tuple[Figure, ...]
    places: tuple[Place, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """One rule that matched one article, with why."""

    rule_id: str
    rule_title: str
    severity: str
    sentence: str | None  # the sentence that matched, when the rule has text conditions
    terms: tuple[str, ...]  # the words/phrases of the text that made it match, as they stand
    figure: Figure | None = None  # the figure that satisfied a figure condition
    places: tuple[Place, ...] = ()  # places relevant to the match (filters, new-region candidates)
    explain: str = ""  # one line a person can read


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What a notifier sends: built from a stored alert, independent of the channel."""

    alert_id: int
    severity: str
    rule_id: str
    rule_title: str
    article_title: str
    source: str  # the feed name
    link: str | None
    sentence: str | None
    terms: tuple[str, ...]
    published: datetime | None
    explain: str = ""
    figure: str | None = None  # a readable figure, e.g. 'displaced: nearly 50,000 people'
    places: tuple[str, ...] = ()  # readable place names
