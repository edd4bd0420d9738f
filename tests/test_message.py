"""Rendering alerts per channel kind: content, escaping of feed text, marking of matched terms."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from monitor.message import (
    escape_html,
    escape_slack,
    format_time,
    mark,
    render,
    safe_link,
    subject,
    term_spans,
)
from monitor.records import AlertMessage

# Written for these tests: a clinic in Idlib hit by shelling, in a made-up feed item.
BASE = AlertMessage(
    alert_id=42,
    severity="high",
    rule_id="health-attack",
    rule_title="Attack on health care",
    article_title="Shelling damages clinic in Idlib countryside",
    source="example-news",
    link="https://news.example.org/2026/03/clinic?ref=feed&lang=en",
    sentence="Local medics said the Clinic and a nearby HOSPITAL were hit by shelling overnight.",
    terms=("clinic", "hospital"),
    published=datetime(2026, 3, 4, 7, 30, tzinfo=timezone(timedelta(hours=2))),
    explain="terms clinic+hospital in one sentence; place Idlib",
    figure="injured: at least 12 people",
    places=("Idlib", "Syria"),
)

HOSTILE_TITLE = 'Report <script>alert("x")</script> <!channel> <http://evil.example|click> @here'


def test_subject_has_severity_and_rule_title_on_one_line() -> None:
    msg = replace(BASE, article_title="Line one\nline two\r\n\tend")
    line = subject(msg)
    assert line.startswith("[HIGH] Attack on health care: ")
    assert "\n" not in line
    assert "\r" not in line
    assert "\t" not in line
    assert line.endswith("Line one line two end")


def test_text_rendering_is_severity_first_with_marked_terms_and_utc_time() -> None:
    rendered = render(BASE, "json")
    assert rendered.body_format == "text"
    lines = rendered.body.splitlines()
    assert lines[0].startswith("*HIGH*")
    body = rendered.body
    assert "*Clinic*" in body
    assert "*HOSPITAL*" in body
    assert "Published: 2026-03-04 05:30 UTC" in body  # 07:30 at UTC+2
    assert "Link: https://news.example.org/2026/03/clinic?ref=feed&lang=en" in body
    assert "Figure: injured: at least 12 people" in body
    assert "Places: Idlib, Syria" in body
    assert "Why: terms clinic+hospital" in body


def test_email_html_escapes_feed_text_and_links_only_http() -> None:
    msg = replace(BASE, article_title=HOSTILE_TITLE, source='src" onmouseover="x')
    body = render(msg, "email").body
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert 'onmouseover="x' not in body
    assert '<a href="https://news.example.org/2026/03/clinic?ref=feed&amp;lang=en">' in body
    assert "<b>Clinic</b>" in body
    assert "<b>HOSPITAL</b>" in body

    evil = render(replace(BASE, link="javascript:alert(1)"), "email").body
    assert "href" not in evil
    assert "javascript:alert(1)" in evil  # shown as text so a reader sees what was there


def test_html_has_no_tag_but_ours_for_hostile_input() -> None:
    msg = replace(BASE, article_title=HOSTILE_TITLE, sentence=HOSTILE_TITLE, terms=("script",))
    body = render(msg, "email").body
    tags = set(re.findall(r"</?([a-zA-Z]+)", body))
    assert tags <= {"div", "b", "a", "br", "blockquote"}


def test_slack_escapes_mentions_and_links_from_feed_text() -> None:
    msg = replace(BASE, article_title=HOSTILE_TITLE, sentence="Call <!here> now @channel")
    rendered = render(msg, "slack")
    body = rendered.body
    assert rendered.body_format == "markdown"
    assert "<!channel>" not in body
    assert "<!here>" not in body
    assert "<http://evil" not in body
    assert "&lt;!channel&gt;" in body
    assert "&lt;http://evil.example|click&gt;" in body
    assert "@here" not in body
    assert "@channel" not in body
    # The only control sequence left is our own link to the article.
    assert re.findall(r"<[^>]*>", body) == [
        "<https://news.example.org/2026/03/clinic?ref=feed&amp;lang=en|"
        'Report &lt;script&gt;alert("x")&lt;/script&gt; &lt;!channel&gt; '
        "&lt;http://evil.example|click&gt; @\u200bhere>"
    ]


def test_slack_link_cannot_be_broken_out_of() -> None:
    msg = replace(BASE, link="https://example.org/a|<!channel>", article_title="t")
    body = render(msg, "slack").body
    assert "<!channel>" not in body
    assert "<https://example.org/a%7C%3C!channel%3E|t>" in body


def test_slack_feed_text_cannot_format() -> None:
    hostile = "*bold* _italic_ ~strike~ `code` ```block``` a*b_c~d`e"
    msg = replace(
        BASE,
        article_title=hostile,
        sentence=f"The clinic: {hostile}",
        source="*src*",
        explain="_why_",
        terms=("clinic",),
        link="ftp://x/_a_",
    )
    body = render(msg, "slack").body
    for marker in "_~`":
        assert marker not in body
    # the only asterisks left are ours: around the severity and around the matched term
    assert body.count("*") == 4
    assert "*HIGH*" in body
    assert "*clinic*" in body
    assert "\u2217bold\u2217 \u02cditalic\u02cd \u223cstrike\u223c \u02cbcode\u02cb" in body


def test_markdown_escapes_feed_text() -> None:
    msg = replace(BASE, article_title="[click](javascript:alert(1)) **bold**", terms=())
    body = render(msg, "markdown").body
    assert "[click](" not in body
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\) \\*\\*bold\\*\\*" in body
    assert "(<https://news.example.org/2026/03/clinic?ref=feed&lang=en>)" in body


def test_terms_are_marked_ignoring_case_and_accents() -> None:
    text = "L'Hôpital de Alepo y el HOSPITAL central; la Straße está cerrada."
    spans = term_spans(text, ("hopital", "hospital", "strasse"))
    assert [text[a:b] for a, b in spans] == ["Hôpital", "HOSPITAL", "Straße"]
    assert mark(text, ("hôpital",), escape_html, "<b>").startswith("L&#x27;<b>Hôpital</b>")


def test_terms_prefer_whole_words_and_fall_back_to_attached_forms() -> None:
    assert term_spans("the clinician at the clinic", ("clinic",)) == [(21, 27)]
    arabic = "قصف والمستشفى"  # 'shelling and the hospital', with the prefix attached
    spans = term_spans(arabic, ("مستشفى",))
    assert [arabic[a:b] for a, b in spans] == ["مستشفى"]


def test_overlapping_terms_merge() -> None:
    text = "health care workers"
    assert term_spans(text, ("health care", "care workers")) == [(0, len(text))]


def test_format_time_and_safe_link() -> None:
    assert format_time(None) is None
    assert format_time(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04 UTC"
    assert safe_link("https://example.org/x") == "https://example.org/x"
    assert safe_link("HTTP://Example.org") == "HTTP://Example.org"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//example.org", "https:///x", ""):
        assert safe_link(bad) is None, bad
    assert safe_link("https://example.org/a b") is None


@given(st.text(), st.lists(st.text(min_size=1), max_size=4))
def test_marked_html_never_contains_a_foreign_tag(text: str, terms: list[str]) -> None:
    out = mark(text, terms, escape_html, "<b>").replace("<b>", "").replace("</b>", "")
    assert "<" not in out
    assert ">" not in out
    assert '"' not in out


@given(st.text())
def test_slack_escape_leaves_no_control_character(text: str) -> None:
    out = escape_slack(text)
    assert "<" not in out
    assert ">" not in out
    assert not set(out) & set("*_~`")
    assert re.search(r"&(?!amp;|lt;|gt;)", out) is None


@given(st.text(), st.lists(st.text(min_size=1), max_size=4))
def test_term_spans_are_ordered_disjoint_and_inside_text(text: str, terms: list[str]) -> None:
    spans = term_spans(text, terms)
    last = -1
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert start > last
        last = end
