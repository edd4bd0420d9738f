"""Fetcher against a real local HTTP server; backoff and Retry-After as pure functions."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.fetch import Fetcher, backoff_delay, parse_retry_after
from monitor.records import FetchResult, Validators
from tests.support.feedserver import FeedServer

T = TypeVar("T")
UA = "humanitarian-monitor-tests/0.1 (+https://example.org/monitor)"

# A small feed written for these tests.
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test wire</title>
<item><title>Clinic in a northern district closed after shelling</title>
<link>https://example.org/a/1</link><guid>a-1</guid>
<description>Staff moved patients to a school; about 300 families left the area.</description>
</item></channel></rss>
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


def run(make: Callable[[Fetcher], Awaitable[T]], **options: Any) -> T:
    """Run `make(fetcher)` in a fresh event loop with a fetcher built from `options`."""

    async def main() -> T:
        async with Fetcher(user_agent=UA, **options) as fetcher:
            return await make(fetcher)

    return asyncio.run(main())


def fetch(url: str, validators: Validators = Validators(), **options: Any) -> FetchResult:  # noqa: B008
    return run(lambda f: f.fetch(url, validators), **options)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- success and conditional requests ----------------------------------------------------------


def test_ok_returns_body_headers_and_validators(server: FeedServer) -> None:
    server.set("/feed.xml", FEED)
    result = fetch(server.url("/feed.xml"))
    assert result.status == "ok"
    assert result.http_status == 200
    assert result.body == FEED.encode()
    assert result.final_url == result.url == server.url("/feed.xml")
    assert result.permanent_url is None
    assert result.error is None
    assert result.validators.etag is not None
    assert result.validators.etag.startswith('"')
    assert result.validators.last_modified is not None
    assert all(name == name.lower() for name in result.headers)
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert result.elapsed > 0


def test_second_fetch_is_conditional_and_answered_304(server: FeedServer) -> None:
    server.set("/feed.xml", FEED)
    url = server.url("/feed.xml")

    async def twice(f: Fetcher) -> tuple[FetchResult, FetchResult]:
        first = await f.fetch(url)
        return first, await f.fetch(url, first.validators)

    first, second = run(twice)
    assert second.status == "not_modified"
    assert second.http_status == 304
    assert second.body == b""
    assert second.validators == first.validators
    sent = server.requests[-1].headers
    assert sent["if-none-match"] == first.validators.etag
    assert sent["if-modified-since"] == first.validators.last_modified
    assert server.requests[-1].status == 304


def test_changed_body_is_fetched_again(server: FeedServer) -> None:
    server.set("/feed.xml", FEED)
    first = fetch(server.url("/feed.xml"))
    server.set("/feed.xml", FEED.replace("300 families", "450 families"))
    second = fetch(server.url("/feed.xml"), first.validators)
    assert second.status == "ok"
    assert b"450 families" in second.body
    assert second.validators.etag != first.validators.etag


def test_gzip_body_is_decoded(server: FeedServer) -> None:
    server.set("/feed.xml", FEED * 20)
    result = fetch(server.url("/feed.xml"))
    assert "gzip" in server.requests[0].headers["accept-encoding"]
    assert result.headers["content-encoding"] == "gzip"
    assert result.body == (FEED * 20).encode()


def test_last_modified_alone(server: FeedServer) -> None:
    server.set("/lm.xml", FEED, etag=False, last_modified=True)
    url = server.url("/lm.xml")
    first = fetch(url)
    assert first.status == "ok"
    assert first.validators.etag is None
    assert first.validators.last_modified is not None
    second = fetch(url, first.validators)
    assert second.status == "not_modified"
    assert "if-none-match" not in server.requests[-1].headers
    # A new body within the same second must still look newer to If-Modified-Since.
    server.set("/lm.xml", FEED + "<!-- updated -->", etag=False, last_modified=True)
    third = fetch(url, first.validators)
    assert third.status == "ok"
    assert third.body.endswith(b"<!-- updated -->")


# -- HTTP errors -------------------------------------------------------------------------------


def test_429_with_retry_after_seconds(server: FeedServer) -> None:
    server.set("/busy", "slow down", status=429, headers={"Retry-After": "120"}, etag=False)
    result = fetch(server.url("/busy"))
    assert result.status == "error"
    assert result.http_status == 429
    assert result.error == "HTTP 429 Too Many Requests"
    assert result.retryable
    assert result.retry_after == 120
    assert result.body == b""


def test_429_with_retry_after_date(server: FeedServer) -> None:
    later = formatdate(time.time() + 300, usegmt=True)
    server.set("/busy", "slow down", status=429, headers={"Retry-After": later}, etag=False)
    result = fetch(server.url("/busy"))
    assert result.retryable
    assert result.retry_after is not None
    assert 290 <= result.retry_after <= 301


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "HTTP 500 Internal Server Error"),
        (503, "HTTP 503 Service Unavailable"),
        (408, "HTTP 408 Request Timeout"),
    ],
)
def test_server_errors_are_retryable(server: FeedServer, status: int, message: str) -> None:
    server.set("/down", "down", status=status, etag=False)
    result = fetch(server.url("/down"))
    assert (result.status, result.http_status, result.error) == ("error", status, message)
    assert result.retryable
    assert result.retry_after is None


@pytest.mark.parametrize("status", [404, 403, 410])
def test_client_errors_are_not_retryable(server: FeedServer, status: int) -> None:
    server.set("/gone", "no", status=status, etag=False)
    result = fetch(server.url("/gone"))
    assert result.status == "error"
    assert result.http_status == status
    assert result.error is not None
    assert result.error.startswith(f"HTTP {status} ")
    assert not result.retryable


def test_unknown_path_is_404(server: FeedServer) -> None:
    result = fetch(server.url("/nothing-here"))
    assert result.error == "HTTP 404 Not Found"
    assert not result.retryable


# -- redirects ---------------------------------------------------------------------------------


def test_chain_of_permanent_redirects_sets_permanent_url(server: FeedServer) -> None:
    server.redirect("/a", "/b", 301)
    server.redirect("/b", server.url("/c"), 308)  # absolute Location works as well as a path
    server.redirect("/c", "/feed.xml", 301)
    server.set("/feed.xml", FEED)
    result = fetch(server.url("/a"))
    assert result.status == "ok"
    assert result.url == server.url("/a")
    assert result.final_url == server.url("/feed.xml")
    assert result.permanent_url == server.url("/feed.xml")
    assert [r.path for r in server.requests] == ["/a", "/b", "/c", "/feed.xml"]


def test_temporary_redirect_in_chain_gives_no_permanent_url(server: FeedServer) -> None:
    server.redirect("/a", "/b", 301)
    server.redirect("/b", "/c", 302)
    server.redirect("/c", "/feed.xml", 301)
    server.set("/feed.xml", FEED)
    result = fetch(server.url("/a"))
    assert result.status == "ok"
    assert result.final_url == server.url("/feed.xml")
    assert result.permanent_url is None


def test_validators_go_to_every_hop_and_304_keeps_permanent_url(server: FeedServer) -> None:
    server.redirect("/old", "/feed.xml", 301)
    server.set("/feed.xml", FEED)
    first = fetch(server.url("/old"))
    second = fetch(server.url("/old"), first.validators)
    assert second.status == "not_modified"
    assert second.permanent_url == server.url("/feed.xml")
    assert server.requests[-2].headers["if-none-match"] == first.validators.etag


@pytest.mark.parametrize(("hops", "ok"), [(5, True), (6, False)])
def test_redirect_limit(server: FeedServer, hops: int, ok: bool) -> None:
    for i in range(hops):
        server.redirect(f"/r{i}", f"/r{i + 1}", 301)
    server.set(f"/r{hops}", FEED)
    result = fetch(server.url("/r0"), max_redirects=5)
    if ok:
        assert result.status == "ok"
    else:
        assert result.status == "error"
        assert result.error == "too many redirects (6)"
        assert not result.retryable
        assert result.permanent_url is None
        assert server.count(f"/r{hops}") == 0


# -- limits and timeouts -----------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_body_over_cap_is_refused(server: FeedServer, chunked: bool) -> None:
    server.set("/big", b"x" * 5000, chunked=chunked, gzip=False)
    result = fetch(server.url("/big"), max_bytes=1000)
    assert result.status == "error"
    assert result.error == "response larger than 1000 bytes"
    assert result.body == b""
    assert server.requests[0].headers["user-agent"] == UA
    headers = result.headers
    assert ("content-length" in headers) != chunked


def test_decoded_size_counts_not_the_compressed_size(server: FeedServer) -> None:
    server.set("/bomb", b"\0" * 2_000_000)  # gzips to about 2 kB
    result = fetch(server.url("/bomb"), max_bytes=100_000)
    assert int(result.headers["content-length"]) < 100_000
    assert result.error == "response larger than 100000 bytes"


def test_body_exactly_at_cap_is_accepted(server: FeedServer) -> None:
    server.set("/fits", b"y" * 1000, gzip=False)
    assert fetch(server.url("/fits"), max_bytes=1000).body == b"y" * 1000


def test_silent_server_hits_read_timeout(server: FeedServer) -> None:
    server.set("/sleepy", FEED, delay=5)
    result = fetch(server.url("/sleepy"), read_timeout=0.3, deadline=4)
    assert result.status == "error"
    assert result.error == "read timed out: no data for 0.3 s"
    assert result.retryable
    assert result.elapsed < 2


def test_dripping_server_is_cut_at_the_deadline(server: FeedServer) -> None:
    # One byte every 50 ms never trips the read timeout but would take minutes in all.
    server.set("/drip", FEED * 10, drip=0.05, gzip=False)
    result = fetch(server.url("/drip"), read_timeout=1, deadline=0.4)
    assert result.status == "error"
    assert result.error == "timed out after 0.4 s"
    assert result.http_status == 200  # the headers had arrived
    assert result.retryable
    assert result.elapsed < 2


def test_connection_refused() -> None:
    port = closed_port()
    result = fetch(f"http://127.0.0.1:{port}/feed.xml", connect_timeout=2)
    assert result.status == "error"
    assert result.error == f"connection refused (127.0.0.1:{port})"
    assert result.retryable
    assert result.http_status is None


def test_dns_failure_is_retryable() -> None:
    result = fetch("http://no-such-host.invalid/feed.xml", deadline=5)
    assert result.status == "error"
    assert result.retryable
    assert result.error is not None
    assert "no-such-host.invalid" in result.error or "timed out" in result.error


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed.xml", "/etc/passwd", "http://", "http://[::1/feed"]
)
def test_non_http_urls_are_errors(url: str) -> None:
    result = fetch(url)
    assert result.status == "error"
    assert not result.retryable
    assert result.error == f"not a valid http(s) URL: {url}"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "http://[::1/feed"])
def test_redirect_to_unusable_location_is_an_error(server: FeedServer, location: str) -> None:
    server.redirect("/feed.xml", location, 302)
    result = fetch(server.url("/feed.xml"))
    assert result.status == "error"
    assert result.error == f"not a valid http(s) URL: {location}"
    assert result.final_url == location
    assert not result.retryable


def test_fetch_outside_context_raises() -> None:
    with pytest.raises(RuntimeError, match="outside"):
        asyncio.run(Fetcher(user_agent=UA).fetch("http://127.0.0.1/"))


# -- concurrency -------------------------------------------------------------------------------


def test_slow_feed_does_not_hold_up_the_others(server: FeedServer) -> None:
    server.set("/slow", FEED, delay=1.5)
    for i in range(30):
        server.set(f"/f{i}", FEED)
    paths = ["/slow"] + [f"/f{i}" for i in range(30)]

    async def all_of_them(f: Fetcher) -> list[str]:
        order: list[str] = []

        async def one(path: str) -> None:
            result = await f.fetch(server.url(path))
            assert result.status == "ok"
            order.append(path)

        await asyncio.gather(*(one(p) for p in paths))
        return order

    order = run(all_of_them, concurrency=10)
    assert order[-1] == "/slow"
    assert sorted(order) == sorted(paths)


def test_concurrency_bounds_fetches_in_flight(server: FeedServer) -> None:
    server.set("/slow1", FEED, delay=0.4)
    server.set("/slow2", FEED, delay=0.4)
    server.set("/fast", FEED)

    async def three(f: Fetcher) -> list[str]:
        order: list[str] = []

        async def one(path: str) -> None:
            await f.fetch(server.url(path))
            order.append(path)

        await asyncio.gather(one("/slow1"), one("/slow2"), one("/fast"))
        return order

    # With two slots both taken by slow fetches, the fast one has to wait for a slot.
    order = run(three, concurrency=2)
    assert order.index("/fast") > min(order.index("/slow1"), order.index("/slow2"))


# -- pure helpers ------------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("soon", None),
        ("0", 0.0),
        ("90", 90.0),
        ("9999999", 86400.0),
        (format_datetime(NOW + timedelta(minutes=5), usegmt=True), 300.0),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),
        (format_datetime(NOW + timedelta(days=9), usegmt=True), 86400.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_backoff_examples() -> None:
    assert backoff_delay(1, None) == 60
    assert backoff_delay(2, None) == 120
    assert backoff_delay(4, None) == 480
    assert backoff_delay(30, None) == 6 * 3600
    assert backoff_delay(10**6, None) == 6 * 3600
    assert backoff_delay(1, 900) == 900
    assert backoff_delay(1, 10**9) == 6 * 3600
    with pytest.raises(ValueError, match="failures"):
        backoff_delay(0, None)


bases = st.floats(min_value=0.001, max_value=1e6, allow_nan=False)
caps = st.floats(min_value=0.001, max_value=1e7, allow_nan=False)
retry_afters = st.none() | st.floats(min_value=-1e6, max_value=1e12, allow_nan=False)


@given(st.integers(min_value=1, max_value=500), retry_afters, bases, caps)
def test_backoff_properties(
    failures: int, retry_after: float | None, base: float, cap: float
) -> None:
    delay = backoff_delay(failures, retry_after, base=base, cap=cap)
    assert min(base, cap) <= delay <= cap
    assert delay <= backoff_delay(failures + 1, retry_after, base=base, cap=cap)
    if retry_after is not None:
        assert delay >= min(retry_after, cap)


# -- the test server itself --------------------------------------------------------------------


def test_server_stop_interrupts_a_delayed_answer() -> None:
    outcome: list[str] = []
    server = FeedServer().start()
    server.set("/forever", FEED, delay=60)

    def client() -> None:
        try:
            with urllib.request.urlopen(server.url("/forever"), timeout=30) as resp:
                outcome.append(f"answered {resp.status}")
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    time.sleep(0.3)  # let the request reach the handler and start its delay
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 3
    assert outcome
    assert not outcome[0].startswith("answered")


def test_server_logs_requests_and_counts_paths(server: FeedServer) -> None:
    server.set("/feed.xml", FEED)
    server.redirect("/moved", "/feed.xml", 308)
    for path in ["/feed.xml", "/feed.xml?x=1", "/moved"]:
        with urllib.request.urlopen(server.url(path), timeout=5) as resp:
            assert resp.status == 200
            assert resp.read() == FEED.encode()  # urllib asks for no gzip, so none is sent
    assert server.count("/feed.xml") == 3
    assert server.count("/feed.xml?x=1") == 1
    assert server.count("/moved") == 1
    assert [r.status for r in server.requests] == [200, 200, 308, 200]
    assert server.requests[0].method == "GET"
    assert all(name == name.lower() for r in server.requests for name in r.headers)
