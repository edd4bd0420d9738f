"""A local HTTP endpoint for Apprise's json:// plugin: records what it is sent, fails on demand."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class JsonSink:
    """A threaded HTTP server on 127.0.0.1 (port chosen by the OS) accepting POSTs of JSON.

    `.url` is the Apprise URL (json://127.0.0.1:PORT/), `.http_url` the raw one. Accepted bodies go
    to `.received` (parsed JSON; a body that is not JSON is stored as {"_raw": text}); every
    request, accepted or not, goes to `.requests`. `fail_next(n, status)` answers the next n
    POSTs with that status and does not record them in `.received`.
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self._fail: list[int] = []
        self._cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw}
                if not isinstance(body, dict):
                    body = {"_value": body}
                status = sink._record(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"json://127.0.0.1:{self.port}/"
        self.http_url = f"http://127.0.0.1:{self.port}/"
        self._thread: threading.Thread | None = None

    def start(self) -> JsonSink:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> JsonSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next n POSTs with `status` instead of 200."""
        with self._cond:
            self._fail.extend([status] * n)

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least n bodies were accepted; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.received) >= n, timeout)

    def _record(self, path: str, body: dict[str, Any]) -> int:
        with self._cond:
            status = self._fail.pop(0) if self._fail else 200
            self.requests.append({"path": path, "status": status, "body": body})
            if status < 300:
                self.received.append(body)
            self._cond.notify_all()
            return status
