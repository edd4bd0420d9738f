"""Turn an AlertMessage into the title and body a channel kind expects. Pure: no IO.

Every piece of text that came from a feed (article title, sentence, terms, source, link, places,
figure) is treated as hostile and escaped for its target format. The rule title and explain line
come from our own config but are escaped the same way, since a rule file is user input too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, urlsplit

from monitor.records import AlertMessage
from monitor.text import fold, normalise_space

BodyFormat = Literal["text", "html", "markdown"]

# Channel kinds that get a special rendering; every other kind gets plain text.
HTML_KINDS = frozenset({"email"})
SLACK_KINDS = frozenset({"slack"})
MARKDOWN_KINDS = frozenset({"markdown"})

_TITLE_MAX = 200  # subjects and headers longer than this are cut: mail clients and Slack do too


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for one channel kind."""

    title: str  # plain text, one line, never escaped: the transport escapes its own headers
    body: str  # in body_format; for Slack, Slack's own mrkdwn dialect
    body_format: BodyFormat


def render(message: AlertMessage, kind: str) -> Rendered:
    """Render the alert for a channel kind: "email" gets HTML, "slack" gets Slack mrkdwn
    (body_format "markdown", in Slack's dialect), "markdown" gets CommonMark, anything else
    (json, console, other Apprise services) gets plain text.

    Does not truncate bodies (Apprise splits or truncates per service) and does not decide
    whether a link is reachable: it only refuses to turn a non-http(s) link into a hyperlink.
    """
    title = subject(message)
    if kind in HTML_KINDS:
        return Rendered(title, _render_html(message), "html")
    if kind in SLACK_KINDS:
        return Rendered(title, _render_slack(message), "markdown")
    if kind in MARKDOWN_KINDS:
        return Rendered(title, _render_markdown(message), "markdown")
    return Rendered(title, render_text(message), "text")


def subject(message: AlertMessage) -> str:
    """One line: '[SEVERITY] Rule title: Article title', control characters and newlines removed."""
    line = f"[{message.severity.upper()}] {message.rule_title}: {message.article_title}"
    line = normalise_space(_CONTROL.sub(" ", line))
    if len(line) > _TITLE_MAX:
        line = line[: _TITLE_MAX - 1].rstrip() + "…"
    return line


def format_time(when: datetime | None) -> str | None:
    """'2026-03-04 05:06 UTC'; a naive datetime is taken to be UTC already."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def safe_link(link: str | None) -> str | None:
    """The link when it is an absolute http(s) URL with a host and no whitespace, else None."""
    if not link:
        return None
    link = link.strip()
    if any(c.isspace() or ord(c) < 32 for c in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return link


# -- marking the matched terms ---------------------------------------------------------------


def term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Offsets of the terms in text, ignoring case and accents, merged where they overlap.

    A term found at word boundaries is preferred; if it only occurs inside a longer word
    (e.g. an Arabic word with an attached prefix) that occurrence is used instead.
    """
    folded, origin = _fold_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        key = fold(normalise_space(term))
        if not key:
            continue
        found = [m.start() for m in re.finditer(re.escape(key), folded)]
        bounded = [s for s in found if _bounded(folded, s, s + len(key))]
        for start in bounded or found:
            end = start + len(key)
            spans.append((origin[start], origin[end - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, terms: Sequence[str], escape: Callable[[str], str], bold: str) -> str:
    """Escape text and wrap each term occurrence in `bold` ('*' or '**'; '<b>' for HTML)."""
    close = "</b>" if bold == "<b>" else bold
    out: list[str] = []
    pos = 0
    for start, end in term_spans(text, terms):
        out.append(escape(text[pos:start]))
        out.append(f"{bold}{escape(text[start:end])}{close}")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    # fold() can change length (accents dropped, 'ß' -> 'ss'), so fold char by char and keep
    # for every folded character the offset of the original character it came from.
    chars: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        f = fold(c)
        chars.append(f)
        origin.extend([i] * len(f))
    return "".join(chars), origin


def _bounded(folded: str, start: int, end: int) -> bool:
    before = folded[start - 1] if start > 0 else " "
    after = folded[end] if end < len(folded) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


# -- escaping ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


# Slack's mrkdwn has no escape for its formatting markers (only &, < and > have entities), and
# zero-width spaces are no reliable cure: Slack takes one for a word boundary, which is what
# lets a marker open or close, so it can switch formatting on as well as off. Feed text gets
# look-alike characters instead; Slack never pairs them, and they read the same.
_SLACK_MARKERS = str.maketrans(
    {
        "*": "\u2217",  # ∗ ASTERISK OPERATOR (bold)
        "_": "\u02cd",  # ˍ MODIFIER LETTER LOW MACRON (italic)
        "~": "\u223c",  # ∼ TILDE OPERATOR (strike)
        "`": "\u02cb",  # ˋ MODIFIER LETTER GRAVE ACCENT (code, code block)
    }
)


def escape_slack(text: str) -> str:
    """Slack's three control characters become entities; '@' is followed by a zero-width space
    so feed text cannot spell a mention Slack would resolve (@here, @channel); the formatting
    markers * _ ~ ` become look-alikes, so feed text cannot bold, italicise, strike or quote
    code. Our own markup (bold terms and headings, links) is added around the escaped text."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@\u200b").translate(_SLACK_MARKERS)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&\"'=:])")


def escape_markdown(text: str) -> str:
    """Backslash before every CommonMark punctuation character that could start markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _text_escape(text: str) -> str:
    return text


# -- the formats ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Style:
    escape: Callable[[str], str]
    bold: str  # marker around matched terms and headings
    link: Callable[[str, str], str]  # (url, escaped label) -> link markup
    quote: Callable[[str], str]  # wraps the (already marked) sentence
    link_line: bool  # also show the link as its own line (text, and HTML's text part)


def _lines(message: AlertMessage, style: _Style) -> list[str]:
    e = style.escape
    b, close = style.bold, ("</b>" if style.bold == "<b>" else style.bold)
    lines = [f"{b}{e(message.severity.upper())}{close} {e(message.rule_title)}"]
    link = safe_link(message.link)
    title = e(normalise_space(message.article_title))
    lines.append(style.link(link, title) if link else title)
    meta = [f"Source: {e(message.source)}"]
    published = format_time(message.published)
    if published:
        meta.append(f"Published: {e(published)}")
    lines.append(" · ".join(meta))
    if link and style.link_line:
        lines.append(f"Link: {style.link(link, e(link))}")
    elif message.link and not link:
        lines.append(f"Link (not http/https, not linked): {e(message.link)}")
    if message.sentence:
        sentence = normalise_space(message.sentence)
        lines.append(style.quote(mark(sentence, message.terms, e, style.bold)))
    if message.terms:
        lines.append("Terms: " + ", ".join(e(t) for t in message.terms))
    if message.figure:
        lines.append(f"Figure: {e(message.figure)}")
    if message.places:
        lines.append("Places: " + ", ".join(e(p) for p in message.places))
    if message.explain:
        lines.append(f"Why: {e(message.explain)}")
    lines.append(f"Alert {message.alert_id} · rule {e(message.rule_id)}")
    return lines


def render_text(message: AlertMessage) -> str:
    """Plain text, several lines, severity first; matched terms between *asterisks*."""
    return "\n".join(_lines(message, _TEXT))


def _render_html(message: AlertMessage) -> str:
    body = "<br>\n".join(_lines(message, _HTML))
    return f'<div style="font-family: sans-serif">\n{body}\n</div>'


def _render_slack(message: AlertMessage) -> str:
    return "\n".join(_lines(message, _SLACK))


def _render_markdown(message: AlertMessage) -> str:
    # Two trailing spaces would be fragile; a blank line between lines is unambiguous.
    return "\n\n".join(_lines(message, _MARKDOWN))


def _html_link(url: str, label: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def _slack_link(url: str, label: str) -> str:
    # Inside <url|label> the URL must not contain '|' or '>' and must keep its '&' escaped.
    target = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{target}|{label}>"


def _markdown_link(url: str, label: str) -> str:
    target = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")
    target = target.replace("(", "%28").replace(")", "%29")
    return f"[{label}](<{target}>)"


_TEXT = _Style(_text_escape, "*", lambda url, label: label, lambda s: f"“{s}”", True)
_HTML = _Style(escape_html, "<b>", _html_link, lambda s: f"<blockquote>{s}</blockquote>", True)
_SLACK = _Style(escape_slack, "*", _slack_link, lambda s: f"> {s}", False)
_MARKDOWN = _Style(escape_markdown, "**", _markdown_link, lambda s: f"> {s}", False)
