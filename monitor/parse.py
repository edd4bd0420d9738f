"""Parse: feed bytes -> Article records. The only module that imports feedparser.

feedparser is handed bytes and the response headers, never a URL: it has no timeout of its own.
"""

from __future__ import annotations

import calendar
import html
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from monitor.records import Article, FeedSpec
from monitor.text import normalise_space


class FeedParseError(Exception):
    """The bytes are not a feed we can read anything from."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    articles: tuple[Article, ...]
    title: str  # the feed's own title, "" when absent
    warning: str | None  # set when the feed was malformed but still yielded entries


def parse_feed(body: bytes, headers: Mapping[str, str], feed: FeedSpec) -> ParsedFeed:
    """Read every entry of an RSS/Atom/RDF document.

    A malformed document that still yields entries is read, with a warning; one that yields
    nothing and is not a well-formed feed raises FeedParseError. Entries with neither title,
    link, guid nor text are dropped.
    """
    body = _SURROGATE_REF.sub(_replace_surrogate, body)
    try:
        parsed = feedparser.parse(body, response_headers=dict(headers), sanitize_html=True)
    except Exception as exc:  # feedparser has crashed on odd bytes (a lone surrogate reference)
        raise FeedParseError(f"not a readable feed: the parser failed ({_describe(exc)})") from exc
    entries = parsed.get("entries") or []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    looks_like_feed = bool(parsed.get("version")) or bool(parsed.get("feed", {}).get("title"))
    if not entries and (problem is not None or not looks_like_feed):
        reason = _describe(problem) if problem is not None else "no RSS or Atom content found"
        raise FeedParseError(f"not a readable feed: {reason}")
    feed_language = _lang(parsed.get("feed", {}).get("language")) or feed.language
    articles = []
    unreadable = 0
    for entry in entries:
        try:
            article = _article(entry, feed, feed_language)
        except (ValueError, TypeError, AttributeError, UnicodeError):
            unreadable += 1  # one odd entry must not cost the feed its other entries
            continue
        if article is not None:
            articles.append(article)
    notes = []
    if problem is not None:
        notes.append(f"malformed feed, read anyway: {_describe(problem)}")
    if unreadable:
        notes.append(f"{unreadable} entr{'y' if unreadable == 1 else 'ies'} could not be read")
    warning = "; ".join(notes) or None
    return ParsedFeed(
        tuple(articles), normalise_space(parsed.get("feed", {}).get("title", "")), warning
    )


# A character reference to a UTF-16 surrogate ('&#xD800;') names no character, and feedparser
# crashes on it, losing the whole feed; the replacement character costs only that entry's letter.
_SURROGATE_REF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,6})|0*([0-9]{1,7}));")


def _replace_surrogate(m: re.Match[bytes]) -> bytes:
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else m.group(0)


def _describe(problem: object) -> str:
    text = str(problem) or type(problem).__name__
    return text.splitlines()[0][:200]


def _article(entry: Any, feed: FeedSpec, feed_language: str | None) -> Article | None:
    title = html_to_text(entry.get("title", ""))
    summary = html_to_text(entry.get("summary", ""))
    content_parts = [html_to_text(c.get("value", "")) for c in entry.get("content", []) or []]
    content = "\n".join(p for p in content_parts if p and p != summary)
    link = (entry.get("link") or "").strip() or None
    guid = (entry.get("id") or "").strip() or None
    if not (title or link or guid or summary or content):
        return None
    return Article(
        feed=feed.name,
        guid=guid,
        link=link,
        title=normalise_space(title),
        summary=summary,
        content=content,
        published=_date(entry),
        language=_lang(entry.get("language")) or feed_language,
        feed_tags=feed.tags,
    )


def _date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _lang(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0][:3] or None


_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "blockquote", "section", "article", "header", "footer", "figure", "figcaption", "hr", "pre",
}  # fmt: skip
_SKIP = {"script", "style", "noscript", "template"}
_BLANKS = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blocks kept as line
    breaks (they often end sentences), runs of blanks collapsed. Plain text passes through."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        text = value
    else:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        text = html.unescape("".join(extractor.parts))
    text = _BLANKS.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()
