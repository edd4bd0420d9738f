"""Fetching feeds over HTTP: the only module of the package that imports aiohttp.

`Fetcher` turns one URL (plus the validators stored from the last fetch) into a `FetchResult`.
Network and HTTP problems are returned as error results, never raised; it does not parse,
store or schedule anything. `backoff_delay` and `parse_retry_after` are pure helpers the
scheduler uses to decide when to try a failing feed again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Literal, Self

import aiohttp
from yarl import URL

from monitor.records import FetchResult, Validators

log = logging.getLogger(__name__)

RETRY_AFTER_CAP = 24 * 3600.0  # a server asking us to wait longer than a day is not taken literally
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_RETRYABLE_STATUS = frozenset({408, 429})
_CHUNK = 64 * 1024
_NO_VALIDATORS = Validators()  # a frozen record, safe to share as a default
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def backoff_delay(
    failures: int, retry_after: float | None, *, base: float = 60, cap: float = 6 * 3600
) -> float:
    """Seconds to wait before the next try after `failures` consecutive failures (>= 1).

    Exponential: base * 2**(failures - 1), capped at `cap`; never less than `retry_after`
    when given (itself capped at `cap`, so a server cannot park a feed for longer).
    Adds no jitter: the scheduler does that.
    """
    if failures < 1:
        raise ValueError(f"failures must be >= 1, got {failures}")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    # Clamp the exponent: past 2**63 the cap has long been reached, and floats stay finite.
    delay = min(cap, base * 2.0 ** min(failures - 1, 63))
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(max(retry_after, 0.0), cap))
    return delay


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = RETRY_AFTER_CAP
) -> float | None:
    """Seconds from a Retry-After header value: delay-seconds or an HTTP date.

    Returns None when the header is absent or unreadable; never negative; at most `cap`.
    `now` (UTC-aware) is only used for the date form and defaults to the current time.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; a date without a zone is read as such
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), cap)


@dataclass(slots=True)
class _Progress:
    """Where one fetch has got to, so an error can say which URL and status it happened at."""

    url: str
    final_url: str
    started: float
    hops: list[int] = field(default_factory=list)  # status of each redirect followed
    http_status: int | None = None


class Fetcher:
    """An async context manager owning one aiohttp session (one connection pool).

    Use `async with Fetcher(user_agent=...) as fetcher: await fetcher.fetch(url, validators)`.
    At most `concurrency` fetches run at once; the others wait before their clock starts.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float = 10,
        read_timeout: float = 30,
        deadline: float = 60,
        max_bytes: int = 10_000_000,
        max_redirects: int = 5,
        concurrency: int = 50,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("a descriptive User-Agent is required")
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Self:
        # The pool is as large as the semaphore, so a fetch that holds the semaphore never
        # waits for a connection (a wait that would eat into its deadline).
        connector = aiohttp.TCPConnector(
            limit=self.concurrency, limit_per_host=0, ttl_dns_cache=300
        )
        timeout = aiohttp.ClientTimeout(
            total=None,  # the overall deadline is ours (asyncio.timeout), over every hop
            connect=self.connect_timeout,
            sock_connect=self.connect_timeout,
            sock_read=self.read_timeout,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={
                "User-Agent": self.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            auto_decompress=True,
            # Cookies set by one feed's site must not leak into requests for another.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self._semaphore = asyncio.Semaphore(self.concurrency)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._semaphore = None

    async def fetch(self, url: str, validators: Validators = _NO_VALIDATORS) -> FetchResult:
        """Fetch one URL, conditionally when validators are given, following redirects.

        Returns "ok" with the (decoded) body, "not_modified" on 304, or "error" with a readable
        message and whether trying again later makes sense. Does not raise for network or HTTP
        problems; raises RuntimeError when used outside `async with`.
        """
        if self._session is None or self._semaphore is None:
            raise RuntimeError("Fetcher.fetch() called outside 'async with Fetcher(...)'")
        session = self._session
        async with self._semaphore:
            loop = asyncio.get_running_loop()
            progress = _Progress(url=url, final_url=url, started=loop.time())
            deadline = asyncio.timeout(self.deadline)
            try:
                async with deadline:
                    result = await self._follow(session, progress, validators)
            except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
                if deadline.expired():
                    # Checked first: a cancelled read may surface as some other client error.
                    message, retryable = f"timed out after {self.deadline:g} s", True
                elif isinstance(exc, TimeoutError):
                    message, retryable = self._timeout_message(exc), True
                else:
                    message, retryable = _describe_error(exc)
                result = self._error(progress, message, retryable=retryable)
        log.debug("fetched %s: %s %s", url, result.status, result.error or result.http_status)
        return result

    async def _follow(
        self, session: aiohttp.ClientSession, progress: _Progress, validators: Validators
    ) -> FetchResult:
        """Request, and follow redirects ourselves so every hop's status is seen."""
        headers: dict[str, str] = {}
        # Validators describe the resource at the end of the chain, so every hop gets them.
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current = _http_url(progress.url)
        while True:
            if current is None:
                message = f"not a valid http(s) URL: {progress.final_url}"
                return self._error(progress, message, retryable=False)
            progress.final_url = str(current)
            async with session.get(current, headers=headers, allow_redirects=False) as resp:
                progress.http_status = resp.status
                if resp.status not in _REDIRECTS:
                    return await self._answer(resp, progress, validators)
                location = resp.headers.get("Location")
                if not location:
                    message = f"HTTP {resp.status} redirect without a Location header"
                    return self._error(progress, message, retryable=False)
                progress.hops.append(resp.status)
                if len(progress.hops) > self.max_redirects:
                    message = f"too many redirects ({len(progress.hops)})"
                    return self._error(progress, message, retryable=False)
                progress.final_url = location  # so an unusable Location is named in the error
                current = _http_url(location, base=current)

    async def _answer(
        self, resp: aiohttp.ClientResponse, progress: _Progress, sent: Validators
    ) -> FetchResult:
        """Turn the final (non-redirect) response into a result, reading the body if wanted."""
        status = resp.status
        headers = _lower_headers(resp)
        if status == 304:
            # A 304 may refresh the validators; where it does not, the ones we sent still hold.
            fresh = Validators(
                etag=headers.get("etag", sent.etag),
                last_modified=headers.get("last-modified", sent.last_modified),
            )
            return self._result(progress, "not_modified", headers=headers, validators=fresh)
        if 200 <= status < 300:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                return self._too_large(progress, headers)
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > self.max_bytes:  # counts decoded bytes: a gzip bomb stops here too
                    return self._too_large(progress, headers)
            fresh = Validators(etag=headers.get("etag"), last_modified=headers.get("last-modified"))
            return self._result(progress, "ok", headers=headers, validators=fresh, body=bytes(body))
        reason = resp.reason or _phrase(status)
        retryable = status in _RETRYABLE_STATUS or status >= 500
        retry_after = parse_retry_after(headers.get("retry-after")) if retryable else None
        return self._error(
            progress,
            f"HTTP {status} {reason}".rstrip(),
            retryable=retryable,
            headers=headers,
            retry_after=retry_after,
        )

    def _too_large(self, progress: _Progress, headers: dict[str, str]) -> FetchResult:
        message = f"response larger than {self.max_bytes} bytes"
        return self._error(progress, message, retryable=False, headers=headers)

    def _timeout_message(self, exc: TimeoutError) -> str:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return f"connect timed out after {self.connect_timeout:g} s"
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return f"read timed out: no data for {self.read_timeout:g} s"
        return f"timed out ({exc or type(exc).__name__})"

    def _result(
        self,
        progress: _Progress,
        status: Literal["ok", "not_modified"],
        *,
        headers: dict[str, str],
        validators: Validators,
        body: bytes = b"",
    ) -> FetchResult:
        hops = progress.hops
        permanent = progress.final_url if hops and all(h in _PERMANENT for h in hops) else None
        return FetchResult(
            status=status,
            url=progress.url,
            final_url=progress.final_url,
            permanent_url=permanent,
            body=body,
            headers=headers,
            validators=validators,
            http_status=progress.http_status,
            elapsed=self._elapsed(progress),
        )

    def _error(
        self,
        progress: _Progress,
        message: str,
        *,
        retryable: bool,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> FetchResult:
        return FetchResult(
            status="error",
            url=progress.url,
            final_url=progress.final_url,
            headers=headers or {},
            http_status=progress.http_status,
            retry_after=retry_after,
            error=message,
            retryable=retryable,
            elapsed=self._elapsed(progress),
        )

    @staticmethod
    def _elapsed(progress: _Progress) -> float:
        return asyncio.get_running_loop().time() - progress.started


def _http_url(text: str, *, base: URL | None = None) -> URL | None:
    """`text` as an absolute http(s) URL (resolved against `base`), or None if it is not one."""
    try:
        url = base.join(URL(text)) if base is not None else URL(text)
    except ValueError:  # yarl's parse errors, bad IDNA host names (UnicodeError) included
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return url


def _lower_headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    """Response headers with lower-cased names; repeated headers are joined with ', '."""
    headers: dict[str, str] = {}
    for name, value in resp.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _describe_error(exc: aiohttp.ClientError | OSError) -> tuple[str, bool]:
    """A readable message for a failure below HTTP, and whether retrying later makes sense."""
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL: {exc}", False
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"DNS lookup failed for {exc.host} ({exc.os_error.strerror or exc})", True
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate not accepted ({exc.host}:{exc.port})", True
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return f"TLS handshake failed ({exc.host}:{exc.port})", True
    if isinstance(exc, aiohttp.ClientConnectorError):
        where = f"{exc.host}:{exc.port}"
        if isinstance(exc.os_error, ConnectionRefusedError):
            return f"connection refused ({where})", True
        return f"cannot connect to {where} ({exc.os_error.strerror or exc.os_error})", True
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected before the response was complete", True
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"broken response body ({exc})", True
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"malformed HTTP response ({exc.message})", True
    return f"{type(exc).__name__}: {exc}", True
