"""A real SMTP server on 127.0.0.1 for tests: aiosmtpd in a background thread.

Messages arrive as parsed `email.message.EmailMessage` objects. `stop()` and `start()` simulate an
outage and its recovery on the same port, so a channel URL written once stays valid.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self._server._received(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A local SMTP server without TLS. Use as a context manager or call start()/stop().

    With `credentials=(user, password)` it advertises AUTH (LOGIN/PLAIN, allowed without TLS) and
    accepts only those; without, it takes any mail and does not advertise AUTH (so a client
    must not try to log in). It does not relay anything anywhere.
    """

    def __init__(self, port: int | None = None, credentials: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.credentials = credentials
        self.messages: list[EmailMessage] = []
        self.auth_failures = 0
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Listen (again) on self.port; a no-op when already running."""
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        # Right after stop() the port can briefly refuse to bind again; retry for a moment.
        deadline = time.monotonic() + 5
        while True:
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections to the port are refused until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what arrived ----------------------------------------------------------------------
    def url(self, to: str = "alerts@example.org", sender: str = "monitor@example.org") -> str:
        """An Apprise mailto:// URL that delivers here (plain SMTP, no STARTTLS)."""
        auth = ""
        if self.credentials is not None:
            auth = f"{self.credentials[0]}:{self.credentials[1]}@"
        return f"mailto://{auth}{self.host}:{self.port}?to={to}&from={sender}&mode=insecure&cto=5"

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least n messages have arrived; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.messages) >= n, timeout)

    def _received(self, message: EmailMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and auth_data.login.decode() == self.credentials[0]
            and auth_data.password.decode() == self.credentials[1]
        )
        if not ok:
            with self._cond:
                self.auth_failures += 1
        # handled=False: aiosmtpd itself answers 235 or 535 (True would leave the client waiting).
        return AuthResult(success=ok, handled=False)
