"""parse_feed: bytes in, articles out; malformed but readable feeds still yield entries, and no
input whatsoever makes it raise anything but FeedParseError."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.parse import FeedParseError, html_to_text, parse_feed
from monitor.records import FeedSpec

FEED = FeedSpec("wire", "https://example.org/rss", 600, tags=("news",), language="fr")

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title>
<item><title>Clinic &amp; school hit</title><link>https://example.org/a</link><guid>a-1</guid>
<description>&lt;p&gt;First paragraph.&lt;/p&gt;&lt;p&gt;Second &lt;b&gt;bold&lt;/b&gt;   part.&lt;/p&gt;</description>
<pubDate>Mon, 02 Mar 2026 10:00:00 +0100</pubDate></item>
<item><title>Second</title><link>https://example.org/b</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom wire</title>
<entry><title>Entrée</title><id>urn:x:1</id><link href="https://example.org/c"/>
<updated>2026-03-02T09:00:00Z</updated>
<content type="html">&lt;div&gt;Texte complet.&lt;/div&gt;</content></entry>
</feed>""".encode()


def test_rss_items_become_plain_text_articles() -> None:
    parsed = parse_feed(RSS, {"content-type": "application/rss+xml"}, FEED)
    first, second = parsed.articles
    assert first.title == "Clinic & school hit"
    assert first.summary == "First paragraph.\nSecond bold part."
    assert first.published == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert (first.guid, first.link, first.feed, first.feed_tags) == (
        "a-1",
        "https://example.org/a",
        "wire",
        ("news",),
    )
    assert first.language == "fr"  # from the feed spec, the document has none
    assert second.published is None
    assert parsed.warning is None


def test_atom_content() -> None:
    [entry] = parse_feed(ATOM, {}, FEED).articles
    assert (entry.title, entry.guid) == ("Entrée", "urn:x:1")
    assert entry.summary + entry.content == "Texte complet."  # once, not twice
    assert entry.published == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_malformed_but_readable_feed_still_yields_entries() -> None:
    broken = RSS.replace(b"</channel></rss>", b"<item><title>cut & off</title>")
    parsed = parse_feed(broken, {}, FEED)
    assert len(parsed.articles) >= 2
    assert parsed.warning is not None and "malformed" in parsed.warning


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>Not a feed</body></html>", b"\x00\xff\xfe garbage", b'{"json": true}'],
)
def test_unreadable_input_is_a_feed_parse_error(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, {}, FEED)


def test_html_to_text_drops_scripts_and_keeps_blocks() -> None:
    html = "<p>One</p><script>alert(1)</script><ul><li>Two</li><li>Three&nbsp;four</li></ul>"
    assert html_to_text(html) == "One\nTwo\nThree four"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(body: bytes) -> None:
    with contextlib.suppress(FeedParseError):
        parse_feed(body, {}, FEED)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_title_text_costs_at_most_its_own_entry(text: str) -> None:
    body = RSS.replace(b"Clinic &amp; school hit", escape(text).encode("utf-8", "surrogatepass"))
    titles = [a.title for a in parse_feed(body, {}, FEED).articles]
    assert "Second" in titles  # the other entry is always read


@pytest.mark.parametrize("ref", [b"&#xD800;", b"&#55296;", b"&#xdfff;", b"&#x110000;"])
def test_a_reference_to_no_character_costs_only_that_character(ref: bytes) -> None:
    body = RSS.replace(b"Clinic &amp; school hit", b"Bad " + ref + b" char")
    first, second = parse_feed(body, {}, FEED).articles
    assert first.title == "Bad \ufffd char"
    assert second.title == "Second"
    malformed = body.replace(b"</channel></rss>", b"<item><title>cut")
    assert len(parse_feed(malformed, {}, FEED).articles) >= 2
