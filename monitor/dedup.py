"""Dedup keys: every name under which an article is known.

Pure functions. The store enforces uniqueness of these keys with a UNIQUE constraint; this module
only computes them. An article is a duplicate when ANY of its keys is already known.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from monitor.records import Article
from monitor.text import tokens

# Query parameters that say how a reader arrived, not which page they read.
_TRACKING_PREFIXES = ("utm_", "at_", "ns_", "pk_", "mtm_", "hsa_")
_TRACKING_NAMES = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid",
        "xtor", "wt.mc_id", "wt_mc_id", "_hsenc", "_hsmi", "mkt_tok", "sr_share", "smid",
        "ito", "rss", "feature", "src_medium", "__twitter_impression", "spm", "s_cid",
    }
)  # fmt: skip

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Beyond this length a key is stored as a digest: a btree index entry has a size limit on
# PostgreSQL (about 2.7 kB), and a URL has none.
_MAX_KEY_VALUE = 400

# A title + summary shorter than this many words ('Daily update') is not specific enough to say
# two articles are the same story.
_MIN_HASH_WORDS = 6


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_NAMES or low.startswith(_TRACKING_PREFIXES)


def is_web_url(text: str) -> bool:
    """True for an absolute http(s) URL with a host, or a scheme-relative '//host/...'.
    Text that urlsplit cannot read at all (a broken IPv6 host) is not a URL."""
    try:
        parts = urlsplit(text.strip())
        return parts.scheme.lower() in {"http", "https", ""} and bool(parts.hostname)
    except ValueError:
        return False


def canonical_link(url: str) -> str:
    """The link as a dedup key: '//host/path?query', http and https alike.

    Lower-cases the scheme and host, drops default ports, the fragment and tracking parameters,
    sorts the remaining query and strips a trailing slash of the path (keeping '/'). Text that is
    not an http(s) URL is returned stripped of surrounding blanks and otherwise unchanged. It does
    not resolve redirects or decode percent-escapes: two spellings of one path stay two keys.
    """
    text = url.strip()
    if not is_web_url(text):
        return text
    parts = urlsplit(text)
    scheme = parts.scheme.lower() or "https"
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the text as the feed gave it
        return text
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs = [(k, v) for k, v in pairs if not _is_tracking(k)]
    query = urlencode(sorted(pairs), quote_via=quote)
    return f"//{netloc}{path}" + (f"?{query}" if query else "")


def content_hash(title: str, summary: str) -> str | None:
    """sha256 of the folded words of title and summary; None when too few to identify a story.

    Case, accents, punctuation and whitespace do not change it, so wire copies of one story in two
    outlets share it. A summary truncated at a different length does change it.
    """
    title_words = [t.folded for t in tokens(title)]
    summary_words = [t.folded for t in tokens(summary)]
    if len(title_words) + len(summary_words) < _MIN_HASH_WORDS:
        return None
    text = " ".join(title_words) + "\n" + " ".join(summary_words)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bounded(kind: str, value: str) -> str:
    if len(value) > _MAX_KEY_VALUE:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
    return f"{kind}:{value}"


def _is_site_root(canonical: str) -> bool:
    # Some feeds give every entry the home page as its link: such a link names the site, not the
    # article, and keying on it would make every later entry a 'duplicate'.
    return is_web_url(canonical) and urlsplit(canonical).path == "/" and "?" not in canonical


def article_keys(article: Article) -> tuple[str, ...]:
    """All the keys under which this article is known, most specific first, without repeats.

    'guid:<canonical link>' for a guid that is a URL, else 'guid:<feed>:<guid>' (a bare id only
    means something inside its feed); 'link:<canonical link>' (a link that is not an absolute URL
    is scoped by feed like a bare guid); 'hash:<content hash>'. A key is left out
    when its source is missing, is a site's home page, or (for the hash) has too few words. When
    none is left, one 'entry:' key hashes everything the entry has, scoped by its feed.
    """
    keys: list[str] = []
    guid = (article.guid or "").strip()
    if guid:
        if is_web_url(guid):
            canon = canonical_link(guid)
            if not _is_site_root(canon):
                keys.append(_bounded("guid", canon))
        else:
            keys.append(_bounded("guid", f"{quote(article.feed, safe='')}:{guid}"))
    link = (article.link or "").strip()
    if link:
        if is_web_url(link):
            canon = canonical_link(link)
            if not _is_site_root(canon):
                keys.append(_bounded("link", canon))
        else:  # a relative or odd link: as local to its feed as a bare guid
            keys.append(_bounded("link", f"{quote(article.feed, safe='')}:{link}"))
    digest = content_hash(article.title, article.summary)
    if digest is not None:
        keys.append(f"hash:{digest}")
    if not keys:
        # Nothing identifies it well ('Daily brief' linking to the home page): key it on all
        # it has, within its feed, so it is stored once rather than dropped or repeated.
        parts = "\n".join(
            [article.feed, article.title, article.link or "", article.guid or "", article.summary]
        )
        keys.append("entry:" + hashlib.sha256(parts.encode("utf-8")).hexdigest())
    return tuple(dict.fromkeys(keys))
