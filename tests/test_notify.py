"""Channels from Apprise YAML with ${VAR}, secret masking, and real delivery through Apprise
to a local SMTP server and a local JSON endpoint."""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.notify import (
    AppriseNotifier,
    ChannelConfigError,
    Channels,
    ConsoleNotifier,
    RecordingNotifier,
    SecretMaskFilter,
    Target,
    check_channels,
    load_channels,
    mask,
)
from monitor.records import AlertMessage
from tests.support.sink import JsonSink
from tests.support.smtp import SmtpServer

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Tr0ub4dor-and-3"

MESSAGE = AlertMessage(
    alert_id=7,
    severity="critical",
    rule_id="health-attack",
    rule_title="Attack on health care",
    article_title="Clinic hit <script>alert(1)</script> in Idlib",
    source="example-news",
    link="https://news.example.org/clinic",
    sentence="Medics said the clinic was hit twice.",
    terms=("clinic",),
    published=datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
    explain="term clinic; place Idlib",
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(credentials=("monitor", PASSWORD)) as server:
        yield server


@pytest.fixture
def sink() -> Iterator[JsonSink]:
    with JsonSink() as server:
        yield server


def email_channels(tmp_path: Path, smtp: SmtpServer) -> Channels:
    path = write(
        tmp_path,
        "urls:\n"
        f"  - mailto://${{SMTP_USER}}:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}"
        "?to=ops@example.org&from=monitor@example.org&mode=insecure&cto=3:\n"
        "      tag: alerts\n",
    )
    return load_channels(path, {"SMTP_USER": "monitor", "SMTP_PASSWORD": PASSWORD})


# -- loading -------------------------------------------------------------------------------


def test_shipped_default_has_no_active_url() -> None:
    channels = load_channels(REPO / "config" / "channels.yaml", {})
    assert channels.is_empty()
    assert check_channels(REPO / "config" / "channels.yaml", {}) == []


@pytest.mark.parametrize("text", ["", "# nothing\n", "urls: []\n", "version: 1\nurls:\n"])
def test_empty_files_give_empty_channels(tmp_path: Path, text: str) -> None:
    assert load_channels(write(tmp_path, text), {}).is_empty()


def test_missing_file_gives_empty_channels(tmp_path: Path) -> None:
    assert load_channels(tmp_path / "absent.yaml", {}).is_empty()


def test_targets_by_tag_with_kind_label_and_stable_id(tmp_path: Path) -> None:
    text = (
        "tag: everything\n"
        "urls:\n"
        "  - json://127.0.0.1:9/hook:\n"
        "      tag: alerts, Digest\n"
        f"  - mailto://monitor:{PASSWORD}@127.0.0.1:2525?to=a@example.org&from=m@example.org&mode=insecure:\n"
        "      tag: urgent\n"
        "  - https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/c0ccccccccccccccccccccccc:\n"
        "      tag: alerts\n"
    )
    channels = load_channels(write(tmp_path, text), {})
    kinds = [t.kind for t in channels.all_targets()]
    assert kinds == ["json", "email", "slack"]
    assert [t.kind for t in channels.targets(["ALERTS"])] == ["json", "slack"]
    assert [t.kind for t in channels.targets(["urgent", "digest"])] == ["json", "email"]
    assert len(channels.targets(["everything"])) == 3
    assert channels.targets(["nobody"]) == ()
    assert channels.tags() == {"alerts", "digest", "urgent", "everything"}
    email = channels.targets(["urgent"])[0]
    assert PASSWORD not in email.label
    assert "127.0.0.1:2525" in email.label
    slack = channels.targets(["alerts"])[1]
    assert "c0ccccccccccccccccccccccc" not in slack.label
    assert {PASSWORD, "c0ccccccccccccccccccccccc"} <= channels.secrets()
    again = load_channels(write(tmp_path, text), {})
    assert [t.id for t in again.all_targets()] == [t.id for t in channels.all_targets()]
    moved = load_channels(write(tmp_path, text.replace("2525", "2526")), {})
    assert moved.all_targets()[1].id != email.id
    assert channels.target(email.id) == email


ROTATING = (
    "urls:\n"
    "  - mailto://monitor:${SMTP_PASSWORD}@127.0.0.1:2525"
    "?to=a@example.org&from=m@example.org&mode=insecure:\n"
    "      tag: alerts\n"
    "  - json://127.0.0.1:9/hook?+X-Token=${HOOK_TOKEN}:\n"
    "      tag: alerts\n"
    "  - ${SLACK_WEBHOOK}:\n"
    "      tag: alerts\n"
)


def rotating_env(n: int) -> dict[str, str]:
    return {
        "SMTP_PASSWORD": f"smtp-password-{n}",
        "HOOK_TOKEN": f"hook-token-{n}",
        "SLACK_WEBHOOK": f"https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/{n}secret{n}tok",
    }


def test_target_ids_survive_rotating_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, ROTATING)
    before = load_channels(path, rotating_env(1))
    after = load_channels(path, rotating_env(2))
    assert [t.kind for t in before.all_targets()] == ["email", "json", "slack"]
    assert [t.id for t in after.all_targets()] == [t.id for t in before.all_targets()]
    assert after.all_targets() == before.all_targets()  # labels too: nothing of a secret shows
    for channels, n in ((before, 1), (after, 2)):
        for target in channels.all_targets():
            for secret in rotating_env(n).values():
                assert secret.rsplit("/", 1)[-1] not in target.label
            assert f"{n}...k" not in target.label  # not even Apprise's first-and-last glimpse
    # a cosmetic change (parameter order, a default spelt out) keeps the id as well
    cosmetic = ROTATING.replace("?to=a@example.org&from=", "?from=").replace(
        "&mode=insecure", "&mode=insecure&to=a@example.org"
    )
    cosmetic = cosmetic.replace("/hook?+X-Token", "/hook?retry=0&+X-Token")
    assert cosmetic.count("to=a@example.org") == 1
    assert "retry=0" in cosmetic
    again = load_channels(write(tmp_path, cosmetic), rotating_env(3))
    assert [t.id for t in again.all_targets()] == [t.id for t in before.all_targets()]


def test_urls_differing_only_in_secrets_get_distinct_ids(tmp_path: Path) -> None:
    text = (
        "urls:\n"
        "  - json://127.0.0.1:9/hook?+X-Token=${TOKEN_A}:\n"
        "      tag: alerts\n"
        "  - json://127.0.0.1:9/hook?+X-Token=${TOKEN_B}:\n"
        "      tag: alerts\n"
        "  - https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/c0ccccccccccccccccccccccc:\n"
        "      tag: alerts\n"
        "  - https://hooks.slack.com/services/T0AAAAAA/B0BBBBBB/d0dddddddddddddddddddddddd:\n"
        "      tag: alerts\n"
    )
    env = {"TOKEN_A": "first-token", "TOKEN_B": "second-token"}
    channels = load_channels(write(tmp_path, text), env)
    targets = channels.all_targets()
    assert len(targets) == 4
    assert len({t.id for t in targets}) == 4
    assert targets[0].label == targets[1].label
    assert targets[2].label == targets[3].label
    assert all(s not in t.label for t in targets for s in channels.secrets())
    # each id still reaches its own URL
    assert channels.service(targets[0].id) is not channels.service(targets[1].id)
    # removing one twin never hands its id to the other (its deliveries would go astray)
    only_b = text.replace("  - json://127.0.0.1:9/hook?+X-Token=${TOKEN_A}:\n      tag: alerts\n", "")
    survivors = load_channels(write(tmp_path, only_b), env).all_targets()
    assert targets[0].id not in {t.id for t in survivors}
    # (the survivor, no longer ambiguous, is named by its label again: its pending deliveries
    # are retried and then fail visibly, rather than reach a channel they were not meant for)


def test_the_same_url_twice_is_one_target_with_both_tags(tmp_path: Path) -> None:
    text = (
        "urls:\n  - json://127.0.0.1:9/a:\n      tag: x\n  - json://127.0.0.1:9/a:\n      tag: y\n"
    )
    (target,) = load_channels(write(tmp_path, text), {}).all_targets()
    assert target.tags == ("x", "y")


def test_variables_are_expanded_with_defaults_and_dollar_escape(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "urls:\n"
        "  - json://${HOOK_HOST:-127.0.0.1}:${HOOK_PORT}/p$$th?+X-Token=${TOKEN}:\n"
        "      tag: ${TAG:-alerts}\n",
    )
    channels = load_channels(path, {"HOOK_PORT": "8099", "TOKEN": "s3cr3t-t0ken"})
    (target,) = channels.targets(["alerts"])
    assert "127.0.0.1:8099/p%24th" in target.label or "127.0.0.1:8099/p$th" in target.label
    assert "s3cr3t-t0ken" not in target.label
    assert "s3cr3t-t0ken" in channels.secrets()
    assert "127.0.0.1" not in channels.secrets()  # a default written in the file is no secret


def test_missing_variable_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "tag: a\nurls:\n  - json://127.0.0.1/\n  - mailto://u:${SMTP_PASSWORD}@h\n"
    )
    with pytest.raises(ChannelConfigError) as info:
        load_channels(path, {})
    assert str(info.value) == (
        f"{path}:4: environment variable SMTP_PASSWORD is not set (referenced as ${{SMTP_PASSWORD}})"
    )
    assert info.value.line == 4


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "urls:\n  - json://127.0.0.1/:\n      tag: [alerts\n")
    with pytest.raises(ChannelConfigError) as info:
        load_channels(path, {})
    assert str(info.value).startswith(f"{path}:")
    assert "YAML syntax error" in str(info.value)
    assert info.value.line is not None
    assert info.value.line >= 3


def test_check_channels_reports_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "include: other.yaml\n"
        "urls:\n"
        "  - nonsense://whatever:\n"
        "      tag: alerts\n"
        "  - json://127.0.0.1/untagged\n"
        "  - json://127.0.0.1/${NOPE}:\n"
        "      tag: alerts\n"
        "  - json://127.0.0.1/${bad-name}:\n"
        "      tag: alerts\n"
        "  - json://127.0.0.1/ok:\n"
        "      tag: alerts\n",
    )
    errors = check_channels(path, {})
    found = [(e.line, e.message.split(":")[0]) for e in errors]
    assert found == [
        (1, "'include' is not supported here"),
        (3, "Apprise does not understand this URL"),
        (5, "no tag"),
        (6, "environment variable NOPE is not set (referenced as ${NOPE})"),
        (8, "bad variable reference '${bad-name}'"),
    ]
    assert all(str(e).startswith(f"{path}:{e.line}: ") for e in errors)


def test_urls_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(ChannelConfigError, match=r":1: 'urls' must be a list"):
        load_channels(write(tmp_path, "urls: json://127.0.0.1/\n"), {})


# -- masking -------------------------------------------------------------------------------


def test_mask_replaces_secrets_and_their_encoded_forms() -> None:
    secrets = {"p@ss word!", "tok"}
    text = "a p@ss word! b p%40ss%20word%21 c p%40ss+word%21 tok"
    assert mask(text, secrets) == "a *** b *** c *** tok"  # 'tok' is too short to mask


def test_mask_filter_masks_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(SecretMaskFilter({PASSWORD}))
    logger = logging.getLogger("monitor.test")
    with caplog.at_level(logging.INFO):
        logger.info("login with %s at %s", PASSWORD, "host")
        try:
            raise ValueError(f"bad password {PASSWORD}")
        except ValueError:
            logger.exception("failed")
    assert PASSWORD not in caplog.text
    assert "login with *** at host" in caplog.text
    assert "bad password ***" in caplog.text


# -- delivery ------------------------------------------------------------------------------


def test_email_arrives_multipart_with_escaped_feed_html(tmp_path: Path, smtp: SmtpServer) -> None:
    channels = email_channels(tmp_path, smtp)
    (target,) = channels.targets(["alerts"])
    assert target.kind == "email"
    result = AppriseNotifier(channels, timeout=10).send(target, MESSAGE)
    assert result.ok, result.error
    assert result.error is None
    assert smtp.wait_for(1, 5)
    mail = smtp.messages[0]
    assert mail.get_content_type() == "multipart/alternative"
    assert "[CRITICAL] Attack on health care" in str(mail["Subject"])
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None
    assert text is not None
    html_body = html.get_content()
    assert "<script>" not in html_body
    assert "&lt;script&gt;" in html_body
    assert "<b>clinic</b>" in html_body
    assert "Medics said the" in text.get_content()


def test_smtp_outage_fails_without_raising_then_recovers(
    tmp_path: Path, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    channels = email_channels(tmp_path, smtp)
    caplog.handler.addFilter(SecretMaskFilter(channels.secrets()))
    (target,) = channels.all_targets()
    notifier = AppriseNotifier(channels, timeout=10)
    smtp.stop()
    with caplog.at_level(logging.DEBUG):
        down = notifier.send(target, MESSAGE)
    assert not down.ok
    assert down.error is not None
    assert "refused" in down.error.lower()
    assert PASSWORD not in down.error
    assert PASSWORD not in caplog.text
    assert "failed" in caplog.text  # the failure is logged, masked
    smtp.start()
    up = notifier.send(target, MESSAGE)
    assert up.ok, up.error
    assert smtp.wait_for(1, 5)


def test_wrong_smtp_password_is_a_failure(tmp_path: Path, smtp: SmtpServer) -> None:
    path = write(
        tmp_path,
        f"urls:\n  - mailto://monitor:wrong-password@127.0.0.1:{smtp.port}"
        "?to=ops@example.org&from=m@example.org&mode=insecure:\n      tag: alerts\n",
    )
    channels = load_channels(path, {})
    result = AppriseNotifier(channels, timeout=10).send(channels.all_targets()[0], MESSAGE)
    assert not result.ok
    assert result.error
    assert "wrong-password" not in result.error
    assert smtp.messages == []


def test_json_sink_receives_the_text_body(tmp_path: Path, sink: JsonSink) -> None:
    path = write(tmp_path, f"urls:\n  - {sink.url}:\n      tag: alerts\n")
    channels = load_channels(path, {})
    (target,) = channels.targets(["alerts"])
    assert target.kind == "json"
    notifier = AppriseNotifier(channels, timeout=10)
    assert notifier.send(target, MESSAGE).ok
    assert sink.wait_for(1, 5)
    body = sink.received[0]
    assert body["title"].startswith("[CRITICAL] Attack on health care: Clinic hit")
    assert "“Medics said the *clinic* was hit twice.”" in body["message"]
    assert "<script>alert(1)</script>" in body["message"]  # plain text: nothing to escape

    sink.fail_next(1, status=500)
    failed = notifier.send(target, MESSAGE)
    assert not failed.ok
    assert failed.error is not None
    assert "500" in failed.error
    assert notifier.send(target, MESSAGE).ok
    assert len(sink.received) == 2


def test_a_silent_server_is_bounded_by_the_read_timeout(tmp_path: Path) -> None:
    # A socket that accepts connections (the kernel does, via the backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        path = write(tmp_path, f"urls:\n  - json://127.0.0.1:{port}/?rto=1:\n      tag: a\n")
        channels = load_channels(path, {})
        started = time.monotonic()
        result = AppriseNotifier(channels, timeout=5).send(channels.all_targets()[0], MESSAGE)
        elapsed = time.monotonic() - started
    assert not result.ok
    assert elapsed < 4.5


def test_unknown_target_is_a_failure_not_an_exception() -> None:
    ghost = Target(id="0123456789ab", label="json://gone/", kind="json")
    result = AppriseNotifier(Channels()).send(ghost, MESSAGE)
    assert not result.ok
    assert result.error is not None
    assert "0123456789ab" in result.error


def test_console_notifier_prints_severity_first() -> None:
    out = io.StringIO()
    notifier = ConsoleNotifier(out)
    assert notifier.send(notifier.target, MESSAGE).ok
    lines = out.getvalue().splitlines()
    assert lines[0] == "*CRITICAL* Attack on health care"
    assert "Link: https://news.example.org/clinic" in lines
    out.close()
    assert not notifier.send(notifier.target, MESSAGE).ok


def test_recording_notifier_fails_when_told() -> None:
    recorder = RecordingNotifier(fail_times=2)
    target = Target(id="t1", label="test", kind="json")
    results = [recorder.send(target, replace(MESSAGE, alert_id=i)).ok for i in range(3)]
    assert results == [False, False, True]
    assert [m.alert_id for _, m in recorder.sent] == [2]
    assert len(recorder.attempts) == 3
    recorder.fail_next(1, "boom")
    assert recorder.send(target, MESSAGE).error == "boom"
