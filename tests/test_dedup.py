"""Dedup keys: canonical links, the keys of an article, and their stability (property tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.dedup import article_keys, canonical_link, content_hash, is_web_url
from monitor.records import Article

ARTICLE = Article(
    feed="relief-wire",
    guid="ab12-77",
    link="https://news.example.org/2024/05/clinic-shelled-near-river/",
    title="Clinic shelled near the river crossing, two nurses hurt",
    summary="A rural clinic stopped work on Tuesday after shells landed beside its pharmacy.",
    content="",
    published=datetime(2024, 5, 7, 9, 30, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.ORG/a/b/", "//example.org/a/b"),
        ("http://example.org/a/b", "//example.org/a/b"),
        ("HTTPS://example.org:443/a/b#part-2", "//example.org/a/b"),
        ("http://example.org:80/a/b", "//example.org/a/b"),
        ("http://example.org:8080/a", "//example.org:8080/a"),
        ("https://example.org", "//example.org/"),
        ("https://example.org/", "//example.org/"),
        ("https://example.org/?utm_source=rss&utm_medium=feed", "//example.org/"),
        ("https://example.org/s?q=2&fbclid=zz&a=1&gclid=y&ref=home", "//example.org/s?a=1&q=2"),
        ("https://example.org/s?xtor=RSS-3&id=9&at_medium=x&ocid=m", "//example.org/s?id=9"),
        ("  https://example.org/a  ", "//example.org/a"),
        ("https://example.org/a?q=one+two", "//example.org/a?q=one%20two"),
        ("tag:example.org,2024:77", "tag:example.org,2024:77"),
        ("//example.org/a/", "//example.org/a"),
    ],
)
def test_canonical_link(url: str, expected: str) -> None:
    assert canonical_link(url) == expected


def test_is_web_url() -> None:
    assert is_web_url("https://example.org/x")
    assert is_web_url("//example.org/x")
    assert not is_web_url("12345")
    assert not is_web_url("urn:uuid:0f1e")
    assert not is_web_url("/relative/path")
    assert not is_web_url("mailto:someone@example.org")


def test_article_keys_all_three() -> None:
    keys = article_keys(ARTICLE)
    assert keys[0] == "guid:relief-wire:ab12-77"
    assert keys[1] == "link://news.example.org/2024/05/clinic-shelled-near-river"
    assert keys[2].startswith("hash:")
    assert len(keys[2]) == len("hash:") + 64


def test_bare_guid_is_scoped_by_feed() -> None:
    other = replace(ARTICLE, feed="other-feed")
    assert article_keys(ARTICLE)[0] != article_keys(other)[0]
    # a feed name with the separator in it cannot collide with another feed's guid
    a = replace(ARTICLE, feed="a:b", guid="c")
    b = replace(ARTICLE, feed="a", guid="b:c")
    assert article_keys(a)[0] != article_keys(b)[0]


def test_url_guid_is_canonical_and_global() -> None:
    a = replace(ARTICLE, guid="https://News.Example.org/?p=4411&utm_campaign=x")
    b = replace(a, feed="other-feed", guid="http://news.example.org/?p=4411")
    assert article_keys(a)[0] == "guid://news.example.org/?p=4411"
    assert article_keys(a)[0] == article_keys(b)[0]


def test_wire_copies_share_the_hash_only() -> None:
    copy = replace(
        ARTICLE,
        feed="second-outlet",
        guid="9",
        link="https://another.example.net/world/clinic",
        title="CLINIC SHELLED near the river crossing — two nurses hurt",
        summary="A rural clinic stopped work on Tuesday after shells landed beside its pharmacy…",
    )
    mine, theirs = set(article_keys(ARTICLE)), set(article_keys(copy))
    assert len(mine & theirs) == 1
    assert next(iter(mine & theirs)).startswith("hash:")


def test_different_stories_have_different_hashes() -> None:
    other = replace(ARTICLE, summary="The clinic reopened a week later with help from volunteers.")
    assert content_hash(ARTICLE.title, ARTICLE.summary) != content_hash(other.title, other.summary)


def test_short_generic_text_gives_no_hash() -> None:
    assert content_hash("Daily update", "") is None
    keys = article_keys(replace(ARTICLE, title="Daily update", summary=""))
    assert not any(k.startswith("hash:") for k in keys)


def test_home_page_link_is_not_a_key() -> None:
    keys = article_keys(replace(ARTICLE, link="https://news.example.org/?utm_source=rss"))
    assert not any(k.startswith("link:") for k in keys)


def test_relative_link_is_scoped_by_feed() -> None:
    keys = article_keys(replace(ARTICLE, link="/story/17"))
    assert "link:relief-wire:/story/17" in keys


def test_nothing_to_key_on_but_the_entry_itself() -> None:
    bare = replace(ARTICLE, guid=None, link=None, title="Update", summary="")
    [key] = article_keys(bare)
    assert key.startswith("entry:")
    assert article_keys(bare) == (key,)  # stable
    assert article_keys(replace(bare, feed="other-feed")) != (key,)  # scoped by feed
    assert article_keys(replace(bare, title="Update 2")) != (key,)


def test_very_long_links_are_digested() -> None:
    long_link = "https://example.org/" + "x" * 3000
    keys = article_keys(replace(ARTICLE, guid=None, link=long_link))
    assert keys[0].startswith("link:sha256:")
    assert len(keys[0]) < 100


# --- properties -------------------------------------------------------------------------------

_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
_host = st.lists(_segment, min_size=2, max_size=4).map(".".join)
_path = st.lists(_segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
_params = st.dictionaries(
    _segment.filter(
        lambda s: not s.lower().startswith(("utm_", "at_", "ns_", "pk_", "mtm_", "hsa_"))
    ),
    _segment,
    max_size=4,
).filter(lambda d: not ({k.lower() for k in d} & {"ref", "rss", "cmp", "spm", "ito", "smid"}))
_tracking = st.lists(
    st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid", "mc_cid", "ocid", "UTM_Term"]),
    max_size=3,
)


@st.composite
def _url_variants(draw: st.DrawFn) -> tuple[str, str]:
    """A plain URL and a noisy spelling of the same page."""
    host, path, params = draw(_host), draw(_path), draw(_params)
    # sorted, so that two plain spellings are equal exactly when they name the same page
    plain_query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    plain = f"https://{host}{path}" + (f"?{plain_query}" if plain_query else "")
    noisy_items = [*params.items(), *((t, draw(_segment)) for t in draw(_tracking))]
    noisy_items = draw(st.permutations(noisy_items))
    noisy_query = "&".join(f"{k}={v}" for k, v in noisy_items)
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    port = draw(st.sampled_from(["", ":80" if scheme.lower() == "http" else ":443"]))
    noisy_host = "".join(c.upper() if draw(st.booleans()) else c for c in host)
    slash = draw(st.sampled_from(["", "/"]))
    fragment = draw(st.sampled_from(["", "#top", "#section-2"]))
    blanks = draw(st.sampled_from(["", " ", "\n  "]))
    noisy = f"{blanks}{scheme}://{noisy_host}{port}{path}{slash}"
    noisy += (f"?{noisy_query}" if noisy_query else "") + fragment + blanks
    return plain, noisy


@given(_url_variants())
def test_canonical_link_ignores_noise(pair: tuple[str, str]) -> None:
    plain, noisy = pair
    assert canonical_link(noisy) == canonical_link(plain)


@given(_url_variants())
def test_canonical_link_is_idempotent(pair: tuple[str, str]) -> None:
    once = canonical_link(pair[1])
    assert canonical_link(once) == once


@given(_url_variants(), _url_variants())
def test_different_pages_stay_different(a: tuple[str, str], b: tuple[str, str]) -> None:
    if a[0] != b[0]:
        assert canonical_link(a[1]) != canonical_link(b[1])


_words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzéàç", min_size=1, max_size=8),
    min_size=6,
    max_size=20,
)


@st.composite
def _respaced(draw: st.DrawFn, words: list[str]) -> str:
    seps = draw(st.lists(st.sampled_from([" ", "  ", "\n", "\t ", " \u00a0"]), min_size=len(words)))
    cased = [w.upper() if draw(st.booleans()) else w for w in words]
    return "".join(w + s for w, s in zip(cased, seps, strict=False)).strip()


@given(st.data(), _words, _url_variants())
def test_article_keys_stable_under_noise(
    data: st.DataObject, words: list[str], link: tuple[str, str]
) -> None:
    half = len(words) // 2
    a = replace(ARTICLE, link=link[0], title=" ".join(words[:half]), summary=" ".join(words[half:]))
    b = replace(
        ARTICLE,
        link=link[1],
        title=data.draw(_respaced(words[:half])),
        summary=data.draw(_respaced(words[half:])),
    )
    assert article_keys(a) == article_keys(b)
