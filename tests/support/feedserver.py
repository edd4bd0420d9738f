"""A real local HTTP server for tests: serves feeds, answers conditional requests, redirects.

    with FeedServer() as server:
        server.set("/feed.xml", rss_text)
        url = server.url("/feed.xml")
        ...
        assert server.count("/feed.xml") == 2

It runs a ThreadingHTTPServer on 127.0.0.1 (a free port) in a daemon thread. What a path serves
can be replaced at any time from the test; every request is logged in `server.requests`.
It is not a general web server: GET and HEAD only, no ranges, no TLS.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import time
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

DEFAULT_CONTENT_TYPE = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class RequestLog:
    """One request the server received."""

    method: str  # GET, HEAD, ...
    path: str  # as requested, query string included
    headers: dict[str, str]  # lower-cased names
    status: int  # what the server answered; 0 when it gave up (shutdown, client gone)


@dataclass(frozen=True, slots=True)
class _Page:
    body: bytes
    content_type: str
    status: int
    headers: dict[str, str]
    delay: float  # seconds to wait before answering
    etag: str | None  # strong ETag, quoted; None when not served
    last_modified: float | None  # epoch seconds; None when not served
    drip: float  # seconds between body pieces; 0 sends the body at once
    chunked: bool  # send with Transfer-Encoding: chunked and no Content-Length
    gzip: bool  # gzip the body when the client accepts it


@dataclass(frozen=True, slots=True)
class _Redirect:
    to: str
    status: int


class FeedServer:
    """A context manager running a local feed server; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[RequestLog] = []
        self._routes: dict[str, _Page | _Redirect] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        handler = _make_handler(self)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True  # a client that keeps a connection open must not block exit
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay or a drip
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what the tests call -----------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FeedServer is not running")
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def set(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        etag: bool = True,
        last_modified: bool | None = None,
        drip: float = 0.0,
        chunked: bool = False,
        gzip: bool = True,
    ) -> None:
        """Serve `body` at `path` from now on, replacing whatever was there.

        etag=True serves a strong ETag derived from the body and a Last-Modified, and answers 304
        to a matching If-None-Match / If-Modified-Since. `last_modified` overrides the
        Last-Modified part alone (None: same as etag), so a test can serve only one validator.
        `headers` are added (or replace ours); `delay` waits before answering; `drip` sends the
        body a byte at a time with that pause between bytes; `chunked` omits Content-Length.
        """
        data = body.encode("utf-8") if isinstance(body, str) else body
        tag = f'"{hashlib.sha256(data).hexdigest()[:20]}"' if etag else None
        stamp: float | None = None
        if etag if last_modified is None else last_modified:
            with self._lock:
                old = self._routes.get(path)
            stamp = float(int(time()))
            # Last-Modified has one-second resolution: a new body set within the same second as
            # the old one must still look newer, or If-Modified-Since would wrongly answer 304.
            if isinstance(old, _Page) and old.last_modified is not None:
                stamp = old.last_modified if old.body == data else max(stamp, old.last_modified + 1)
        page = _Page(
            body=data,
            content_type=content_type,
            status=status,
            headers=dict(headers or {}),
            delay=delay,
            etag=tag,
            last_modified=stamp,
            drip=drip,
            chunked=chunked,
            gzip=gzip,
        )
        with self._lock:
            self._routes[path] = page

    def redirect(self, path: str, to_path: str, status: int = 301) -> None:
        """Answer requests for `path` with a redirect to `to_path` (a path or an absolute URL)."""
        with self._lock:
            self._routes[path] = _Redirect(to=to_path, status=status)

    def count(self, path: str) -> int:
        """How many requests asked for `path` (with or without a query string)."""
        with self._lock:
            return sum(1 for r in self.requests if path in (r.path, urlsplit(r.path).path))

    # -- used by the handler -----------------------------------------------------------------
    def _route(self, path: str) -> _Page | _Redirect | None:
        with self._lock:
            return self._routes.get(path) or self._routes.get(urlsplit(path).path)

    def _log(self, entry: RequestLog) -> None:
        with self._lock:
            self.requests.append(entry)


def _not_modified(page: _Page, headers: dict[str, str]) -> bool:
    """RFC 9110 order: If-None-Match decides when present; else If-Modified-Since."""
    inm = headers.get("if-none-match")
    if inm is not None:
        if page.etag is None:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or page.etag in tags
    ims = headers.get("if-modified-since")
    if ims is None or page.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(ims).timestamp()
    except (TypeError, ValueError, IndexError):
        return False
    return page.last_modified <= since


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _pieces(body: bytes, drip: float) -> Iterator[bytes]:
    if not body:
        return
    if drip <= 0:
        yield body
        return
    for i in range(len(body)):
        yield body[i : i + 1]


def _make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real feed servers do
        timeout = 10  # an idle kept-alive connection frees its thread eventually

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet test output

        def send_response(self, code: int, message: str | None = None) -> None:
            # Logged before anything is written: once a client has its answer, the log has it too.
            headers = {k.lower(): v for k, v in self.headers.items()}
            server._log(RequestLog(self.command, self.path, headers, code))
            self.logged = True
            super().send_response(code, message)

        def _serve(self, *, send_body: bool) -> None:
            self.logged = False  # one handler serves every request of a kept-alive connection
            headers = {k.lower(): v for k, v in self.headers.items()}
            route = server._route(self.path)
            self._answer(route, headers, send_body)
            if not self.logged:
                server._log(RequestLog(self.command, self.path, headers, 0))

        def _answer(
            self, route: _Page | _Redirect | None, headers: dict[str, str], send_body: bool
        ) -> int:
            try:
                if route is None:
                    return self._plain(404, b"no such feed\n", send_body)
                if isinstance(route, _Redirect):
                    self.send_response(route.status)
                    self.send_header("Location", route.to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return route.status
                if route.delay > 0 and server._stopping.wait(route.delay):
                    self.close_connection = True
                    return 0  # shutting down: answer nothing
                return self._page(route, headers, send_body)
            except (ConnectionError, TimeoutError):
                self.close_connection = True  # the client went away; nothing to tell it
                return 0

        def _plain(self, status: int, body: bytes, send_body: bool) -> int:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return status

        def _page(self, page: _Page, headers: dict[str, str], send_body: bool) -> int:
            validators: dict[str, str] = {}
            if page.etag is not None:
                validators["ETag"] = page.etag
            if page.last_modified is not None:
                validators["Last-Modified"] = formatdate(page.last_modified, usegmt=True)
            if page.status == 200 and _not_modified(page, headers):
                self.send_response(304)
                for name, value in {**validators, **page.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                return 304
            body = page.body
            extra: dict[str, str] = {"Content-Type": page.content_type, **validators}
            if page.gzip and "gzip" in headers.get("accept-encoding", ""):
                body = gzip.compress(body)
                extra["Content-Encoding"] = "gzip"
                extra["Vary"] = "Accept-Encoding"
            if page.chunked:
                extra["Transfer-Encoding"] = "chunked"
            else:
                extra["Content-Length"] = str(len(body))
            self.send_response(page.status, _phrase(page.status))
            for name, value in {**extra, **page.headers}.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self._body(body, page)
            return page.status

        def _body(self, body: bytes, page: _Page) -> None:
            for i, piece in enumerate(_pieces(body, page.drip)):
                if i and page.drip > 0 and server._stopping.wait(page.drip):
                    self.close_connection = True
                    return
                if page.chunked:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
                self.wfile.flush()
            if page.chunked:
                self.wfile.write(b"0\r\n\r\n")

    return Handler
