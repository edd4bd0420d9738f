"""Channels: Apprise's YAML channel file, secrets from the environment, and masking them.

The only module of the monitor that imports apprise: it parses the channel URLs, and `Service`
is the handle through which monitor.notify sends. channels.yaml is Apprise's own YAML config
format (`urls:` with `tag:`), after `${VAR}` / `${VAR:-default}` expansion from the environment
(`$$` is a literal `$`).

Bounded time: each URL can carry Apprise's own socket timeouts, `cto=` (connect) and `rto=`
(read), in seconds; `Service.notify` also takes a limit for the whole call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import apprise

from monitor import yamlio

# -- records -------------------------------------------------------------------------------


class ChannelConfigError(Exception):
    """A problem in channels.yaml; str() is 'path:line: message' (or 'path: message')."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


@dataclass(frozen=True, slots=True)
class Target:
    """One channel URL, named without its secrets.

    The id is stored with every delivery, so it must survive a change of secret: it is the
    first 12 hex digits of the sha256 of the label, i.e. of Apprise's canonical privacy form of
    the URL with every secret masked (passwords, tokens, values from the environment). Rotating
    a password or token, changing any ${VAR} value, reordering query parameters or spelling
    out a default keeps the id; changing what the label shows (host, port, path, recipients,
    another option written in the file) gives a new one.

    URLs whose labels are equal (they differ only in their secrets, like two Slack webhooks)
    are named by the sha256 of their full URL instead: removing or reordering one never hands
    its deliveries to its twin, but rotating such a URL's secret gives it a new id (its pending
    deliveries are then retried and, if it never comes back, fail visibly). The very same URL
    listed twice is one target carrying both sets of tags.
    """

    id: str
    label: str  # Apprise's privacy form of the URL, secrets masked, default parameters dropped
    kind: str  # "email" | "slack" | "json" | another Apprise schema, e.g. "discord"
    tags: tuple[str, ...] = ()  # lower-case Apprise tags, sorted


# URL schemas that share one rendering.
_KINDS = {"mailto": "email", "mailtos": "email", "json": "json", "jsons": "json"}


class Channels:
    """The channels of one channels.yaml: targets by tag, plus what must never be shown."""

    def __init__(
        self,
        targets: Sequence[Target] = (),
        services: Mapping[str, Service] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self._targets = tuple(targets)
        self._services = dict(services or {})
        self._secrets = frozenset(secrets)

    def targets(self, tags: Sequence[str]) -> tuple[Target, ...]:
        """Targets carrying any of the tags (compared case-insensitively), in file order."""
        wanted = {t.strip().lower() for t in tags}
        return tuple(t for t in self._targets if wanted.intersection(t.tags))

    def all_targets(self) -> tuple[Target, ...]:
        return self._targets

    def target(self, target_id: str) -> Target | None:
        """The target with that id, e.g. for a stored delivery row; None when it is gone."""
        return next((t for t in self._targets if t.id == target_id), None)

    def tags(self) -> frozenset[str]:
        return frozenset(tag for t in self._targets for tag in t.tags)

    def is_empty(self) -> bool:
        return not self._targets

    def secrets(self) -> frozenset[str]:
        """Expanded variable values and passwords/tokens seen in the URLs, for masking."""
        return self._secrets

    def service(self, target_id: str) -> Service | None:
        """How to reach the target with that id; None when there is no such target."""
        return self._services.get(target_id)


# -- loading channels.yaml -----------------------------------------------------------------


def load_channels(path: Path, environ: Mapping[str, str]) -> Channels:
    """Read channels.yaml; raise the first ChannelConfigError found.

    A missing or empty file, or an empty `urls:` list, gives empty Channels. Does not contact
    any service: a URL Apprise understands may still fail to deliver.
    """
    channels, errors = _load(path, environ)
    if errors:
        raise errors[0]
    return channels


def check_channels(path: Path, environ: Mapping[str, str]) -> list[ChannelConfigError]:
    """Every problem in channels.yaml, in file order ([] when it loads)."""
    return _load(path, environ)[1]


_TOP_KEYS = {"version", "tag", "tags", "urls", "asset"}
_UNSUPPORTED = {
    "include": "list every URL under urls: in this file",
    "groups": "put the tags on each URL",
    "template": "use ${VAR} from the environment",
}


def _load(path: Path, environ: Mapping[str, str]) -> tuple[Channels, list[ChannelConfigError]]:
    source = str(path)
    errors: list[ChannelConfigError] = []
    if not path.exists():
        return Channels(), errors
    try:
        doc = yamlio.load(path)
    except yamlio.YamlError as exc:
        return Channels(), [ChannelConfigError(source, exc.line, exc.message)]
    if doc is None:
        return Channels(), errors
    used: dict[str, str] = {}

    def fail(line: int | None, message: str) -> None:
        errors.append(ChannelConfigError(source, line, message))

    if not isinstance(doc, yamlio.Mapping):
        fail(getattr(doc, "line", 1) or 1, "expected a mapping with a 'urls:' list")
        return Channels(), errors
    for key in doc:
        if key in _UNSUPPORTED:
            fail(doc.line_of(key), f"'{key}' is not supported here: {_UNSUPPORTED[key]}")
        elif key not in _TOP_KEYS:
            fail(doc.line_of(key), f"unknown key '{key}' (expected urls, tag, version, asset)")
    if doc.get("version", 1) != 1:
        fail(doc.line_of("version"), "only Apprise YAML version 1 is supported")
    urls = doc.get("urls")
    if urls is None:
        return Channels(), errors
    if not isinstance(urls, yamlio.Sequence):
        fail(doc.line_of("urls"), "'urls' must be a list of Apprise URLs")
        return Channels(), errors
    header: dict[str, Any] = {"version": 1}
    for key in ("tag", "tags", "asset"):
        if key in doc:
            header[key] = _expand(doc[key], doc.line_of(key), environ, used, fail)

    asset = apprise.AppriseAsset(app_id="Humanitarian Monitor", allow_templates=False)
    found: dict[str, _Found] = {}  # by Apprise's full form of the URL, in file order
    url_secrets: set[str] = set()
    for item, line in zip(urls, urls.item_lines, strict=True):
        before = len(errors)
        entry = _expand(item, line, environ, used, fail)
        if len(errors) > before:
            continue  # a missing variable was reported; Apprise would only add noise
        # JSON is YAML: one entry at a time through Apprise's own parser keeps its semantics
        # (URL strings or URL keys with options) while we keep the line of each entry.
        content = json.dumps({**header, "urls": [entry]}, default=str)
        with _apprise_logs() as records, warnings.catch_warnings():
            # Apprise's first parse loads its plugins; its PGP support imports the stdlib
            # module imghdr, deprecated since Python 3.11. Not ours to fix, not worth a failure.
            warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
            parsed, _includes = apprise.ConfigBase.config_parse_yaml(content, asset=asset)
        if not parsed:
            reason = _reason(records, logging.WARNING) or "unknown schema or missing fields"
            fail(line, f"Apprise does not understand this URL: {reason}")
            continue
        plugin: Any
        for plugin in parsed:
            full, private = plugin.url(), plugin.url(privacy=True)
            url_secrets |= _url_secrets(full, private)
            tags = {str(t) for t in plugin.tags}
            if not tags:
                fail(line, "no tag: add 'tag: alerts' under the URL (rules route alerts by tag)")
                continue
            if full in found:  # the same URL twice: one target with both sets of tags
                found[full].tags.update(tags)
                continue
            schema = full.split("://", 1)[0].lower()
            found[full] = _Found(_KINDS.get(schema, schema), _clean_label(private), tags, plugin)
    secrets = {v for v in used.values() if _worth_masking(v)} | url_secrets
    targets: list[Target] = []
    services: dict[str, Service] = {}
    labels = {full: mask(item.label, secrets) for full, item in found.items()}
    shared = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    for full, item in found.items():
        label = labels[full]
        # A label several URLs share (two Slack webhooks look alike once masked) cannot name
        # one of them: such a URL is named by its full form, so removing or reordering its
        # twin never hands its deliveries to the other. Rotating its secret renames it.
        target_id = _target_id(full if label in shared else label)
        targets.append(Target(target_id, label, item.kind, tuple(sorted(item.tags))))
        services[target_id] = Service(item.plugin)
    errors = [ChannelConfigError(e.path, e.line, mask(e.message, secrets)) for e in errors]
    return Channels(targets, services, secrets), errors


@dataclass(slots=True)
class _Found:
    kind: str
    label: str  # not yet masked with the secrets of the whole file
    tags: set[str]
    plugin: Any  # Apprise's parsed service


def _target_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


# Parameters Apprise adds to every URL with its default value: noise in a label.
_DEFAULT_PARAMS = re.compile(r"(?<=[?&])(?:overflow=upstream|retry=0|wait=0\.5|optional=no)(?:&|$)")
# Apprise's privacy form shows some tokens by their first and last character ('c...c'): that
# still changes with the token, so the label masks it like any other secret.
_GLIMPSE = re.compile(r"(?<![^/:@?&=#,])[^/:@?&=#,]?\.\.\.[^/:@?&=#,]?(?![^/:@?&=#,])")


def _clean_label(private: str) -> str:
    label = _DEFAULT_PARAMS.sub("", private).replace("?&", "?").rstrip("?&")
    return _GLIMPSE.sub(MASK, label)


_Fail = Callable[[int | None, str], None]
_VAR = re.compile(r"\$(?:\$|\{([^{}]*)\})")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expand(
    value: Any, line: int, environ: Mapping[str, str], used: dict[str, str], fail: _Fail
) -> Any:
    """Expand ${VAR} in every string (keys too) of a YAML value; report problems via fail()."""
    if isinstance(value, yamlio.Mapping):
        return {
            _expand(k, value.line_of(k), environ, used, fail): _expand(
                v, value.line_of(k), environ, used, fail
            )
            for k, v in value.items()
        }
    if isinstance(value, yamlio.Sequence):
        return [
            _expand(v, ln, environ, used, fail)
            for v, ln in zip(value, value.item_lines, strict=True)
        ]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner is None:
            return "$"
        name, sep, default = inner.partition(":-")
        if not _NAME.fullmatch(name):
            fail(
                line,
                f"bad variable reference '${{{inner}}}': write ${{NAME}} or ${{NAME:-default}}",
            )
            return m.group(0)
        found = environ.get(name, "")
        if found == "" and not sep:
            fail(line, f"environment variable {name} is not set (referenced as ${{{name}}})")
            return m.group(0)
        if found == "":
            return default  # written in the file, so not a secret
        used[name] = found
        return found

    expanded = _VAR.sub(one, value)
    if "${" in _VAR.sub("", value):
        fail(line, "unterminated '${' (a literal dollar sign is written $$)")
    return expanded


def _url_secrets(full: str, private: str) -> set[str]:
    # Apprise's privacy form replaces passwords and tokens: whatever part of the full URL is
    # missing from it is a secret.
    def parts(url: str) -> set[str]:
        return {p for p in re.split(r"[/:@?&=#,]+", url) if p}

    hidden = parts(full) - parts(private)
    return {s for p in hidden for s in (p, unquote(p)) if _worth_masking(s)}


def _worth_masking(value: str) -> bool:
    # Masking very short values or port numbers would blank out ordinary words and numbers
    # in every log line; such values are not secrets worth the name anyway.
    return len(value) >= 4 and not (value.isdigit() and len(value) <= 5)


# -- masking -------------------------------------------------------------------------------

MASK = "***"


def _mask_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    forms = {f for s in secrets if _worth_masking(s) for f in (s, quote(s, safe=""), quote_plus(s))}
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def mask(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret (and its percent-encoded forms) replaced by '***'.

    Values shorter than 4 characters and numbers of up to 5 digits are not masked.
    """
    pattern = _mask_pattern(secrets)
    return pattern.sub(MASK, text) if pattern else text


class SecretMaskFilter(logging.Filter):
    """Masks secrets in log records: the formatted message, exception text and stack.

    Attach it to handlers (a filter on a logger does not see records propagated from its
    children). It rewrites the record, so every handler after it sees the masked text.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._pattern = _mask_pattern(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        """Replace the secrets, e.g. after channels.yaml was reloaded."""
        self._pattern = _mask_pattern(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = self._pattern
        if pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the line, nor leak args
            message = f"{record.msg} {record.args}"
        record.msg, record.args = pattern.sub(MASK, message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = pattern.sub(MASK, record.exc_text)
        if record.stack_info:
            record.stack_info = pattern.sub(MASK, record.stack_info)
        return True


# -- sending through Apprise ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """What Apprise said about one send."""

    ok: bool
    status: str  # Apprise's status name: "SUCCESS", "FAILURE", "TIMEOUT", ...
    detail: str  # a one-line reason from Apprise's log, NOT masked; "" when none


class Service:
    """One parsed channel URL, ready to send: the only handle on Apprise outside this module.

    Sends are serialised with every other Apprise call: Apprise's logger is reconfigured
    during a call to capture the failure reason.
    """

    def __init__(self, plugin: Any) -> None:
        self._plugin = plugin
        self._sender: apprise.Apprise | None = None

    def notify(self, title: str, body: str, body_format: str | None, timeout: float) -> Reply:
        """Send once. body_format is "html", "text", "markdown", or None for "as is" (no
        conversion by Apprise). The whole call is bounded by timeout seconds."""
        sender = self._sender
        if sender is None:
            sender = apprise.Apprise()
            sender.add(self._plugin)
            self._sender = sender
        with _apprise_logs() as records:
            result = sender.notify(
                body=body,
                title=title,
                body_format=None if body_format is None else apprise.NotifyFormat(body_format),
                timeout=timeout,
            )
        if result:
            return Reply(True, "SUCCESS", "")
        status = getattr(getattr(result, "status", None), "name", "FAILURE")
        return Reply(False, str(status), _reason(records, logging.DEBUG))


# -- Apprise's log output ------------------------------------------------------------------

_APPRISE_LOG_LOCK = threading.Lock()

# Debug lines worth quoting in a failure reason: they carry the socket or HTTP error.
_DETAIL = re.compile(r"exception|error|refused|timed out|timeout|denied|unreachable", re.I)
_NOISE = re.compile(r"^(Response Details|JSON Payload|Notifying \d|Threaded notification)", re.I)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _apprise_logs() -> Iterator[list[logging.LogRecord]]:
    """Collect everything the 'apprise' logger says meanwhile, instead of letting it through.

    Apprise logs the useful detail (the socket error) at DEBUG; we raise its level for the call
    and stop propagation, so that neither the detail nor URL fragments reach the app's logs
    unmasked. Serialised by a lock because logger configuration is process-wide.
    """
    logger = logging.getLogger("apprise")
    handler = _Collect()
    with _APPRISE_LOG_LOCK:
        level, propagate = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield handler.records
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def _reason(records: Sequence[logging.LogRecord], detail_level: int) -> str:
    """A one-line failure reason from Apprise's log records: its warnings and errors, plus
    DEBUG/INFO lines (from detail_level up) that name an exception or error."""
    seen: list[str] = []
    for record in records:
        try:
            text = record.getMessage().strip().splitlines()[0].strip()
        except (IndexError, TypeError, ValueError):
            continue
        if not text or _NOISE.match(text) or text in seen:
            continue
        if record.levelno >= logging.WARNING or (
            record.levelno >= detail_level and _DETAIL.search(text)
        ):
            seen.append(text)
    reason = "; ".join(seen)
    return reason if len(reason) <= 500 else reason[:499] + "…"
