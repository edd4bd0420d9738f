"""Delivery: the Notifier protocol, SendResult, and the senders (Apprise, console, recording).

Delivery never raises for a failed send: it returns SendResult. Channel loading, Target and
secret masking live in monitor.channels (the only module that imports apprise); their names are
re-exported here for the modules that import them from monitor.notify.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol, TextIO

from monitor.channels import (
    MASK,
    ChannelConfigError,
    Channels,
    SecretMaskFilter,
    Target,
    check_channels,
    load_channels,
    mask,
)
from monitor.message import render, render_text
from monitor.records import AlertMessage

__all__ = [
    "CONSOLE_TARGET",
    "MASK",
    "AppriseNotifier",
    "ChannelConfigError",
    "Channels",
    "ConsoleNotifier",
    "Notifier",
    "RecordingNotifier",
    "SecretMaskFilter",
    "SendResult",
    "Target",
    "check_channels",
    "load_channels",
    "mask",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one send. ok only when the service reported success."""

    ok: bool
    error: str | None = None  # readable reason, secrets masked; None when ok


CONSOLE_TARGET = Target(id="console", label="standard output", kind="console")


# -- notifiers -----------------------------------------------------------------------------


class Notifier(Protocol):
    def send(self, target: Target, message: AlertMessage) -> SendResult:
        """Deliver one alert to one target; never raises for a delivery failure."""
        ...


class AppriseNotifier:
    """Sends through Apprise (via monitor.channels.Service), one cached sender per target.

    ok only when Apprise reports success. The whole call is bounded by `timeout` seconds
    (Apprise's call limit; per-URL cto=/rto= bound each socket operation).
    """

    def __init__(self, channels: Channels, timeout: float = 30.0) -> None:
        self._channels = channels
        self._timeout = timeout
        self._secrets = channels.secrets()

    def send(self, target: Target, message: AlertMessage) -> SendResult:
        try:
            return self._send(target, message)
        except Exception as exc:  # a plugin bug must not stop the outbox; report it as a failure
            log.exception("unexpected error sending alert %s to %s", message.alert_id, target.label)
            return SendResult(False, mask(f"{type(exc).__name__}: {exc}", self._secrets))

    def _send(self, target: Target, message: AlertMessage) -> SendResult:
        service = self._channels.service(target.id)
        if service is None:
            return SendResult(False, f"no channel {target.id} ({target.label}) in channels.yaml")
        rendered = render(message, target.kind)
        # Slack gets our own mrkdwn: declaring no format stops Apprise from converting it.
        body_format = None if target.kind == "slack" else rendered.body_format
        reply = service.notify(rendered.title, rendered.body, body_format, self._timeout)
        if reply.ok:
            return SendResult(True)
        reason = reply.detail
        if reply.status == "TIMEOUT":
            reason = f"timed out after {self._timeout:g} s" + (f"; {reason}" if reason else "")
        error = mask(reason or f"Apprise reported {reply.status}", self._secrets)
        log.warning("sending alert %s to %s failed: %s", message.alert_id, target.label, error)
        return SendResult(False, error)


class ConsoleNotifier:
    """Prints alerts readably, severity first: for users with no channel configured."""

    target = CONSOLE_TARGET

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, target: Target, message: AlertMessage) -> SendResult:
        text = render_text(message)
        try:
            with self._lock:
                self._stream.write(f"{text}\n\n")
                self._stream.flush()
        except (OSError, ValueError) as exc:  # closed or broken stream
            return SendResult(False, f"cannot write to the console: {exc}")
        return SendResult(True)


class RecordingNotifier:
    """For tests: records every send; `fail_next(n)` makes the next n sends fail."""

    def __init__(self, fail_times: int = 0, error: str = "simulated failure") -> None:
        self.attempts: list[tuple[Target, AlertMessage]] = []
        self.sent: list[tuple[Target, AlertMessage]] = []
        self._fail = fail_times
        self._error = error
        self._lock = threading.Lock()

    def fail_next(self, n: int, error: str | None = None) -> None:
        with self._lock:
            self._fail = n
            if error is not None:
                self._error = error

    def send(self, target: Target, message: AlertMessage) -> SendResult:
        with self._lock:
            self.attempts.append((target, message))
            if self._fail > 0:
                self._fail -= 1
                return SendResult(False, self._error)
            self.sent.append((target, message))
            return SendResult(True)
