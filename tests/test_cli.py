"""The command line, run in-process on real files: check, replay, test-rule, eval, status."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from tests.support.feedserver import FeedServer
from tests.support.rss import Item, rss

ROOT = Path(__file__).resolve().parent.parent

STORY = Item(
    "Strikes hit hospital in Idlib as fighting spreads",
    "A hospital in Idlib was struck by warplanes on Monday. Nearly 45,000 people have been "
    "displaced across Idlib province in a week, and clashes were reported near Hama.",
    "https://news.example.org/idlib",
    guid="story-1",
    published=datetime.now(UTC) - timedelta(hours=1),
)
CALM = Item("Book fair opens", "A book fair opened in the capital.", "https://news.example.org/b")


@pytest.fixture(autouse=True)
def env_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gazetteer_cache: Path
) -> Iterator[Path]:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    monkeypatch.setenv("MONITOR_CONFIG_DIR", str(config))
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(gazetteer_cache))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield config
    # main() configures logging for its process; give the next test the logging it had
    root.handlers[:] = handlers
    root.setLevel(level)


def test_check_passes_on_the_shipped_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert "config OK: 9 feeds, 3 rules" in capsys.readouterr().out


def test_check_reports_every_problem_with_file_and_line(
    env_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env_config / "feeds.yaml").write_text(
        "feeds:\n  - name: a\n    url: ftp://x\n  - name: b\n    url: https://x.org/rss\n"
        "    interval: 10 parsecs\n"
    )
    (env_config / "channels.yaml").write_text(
        "urls:\n  - json://${NOT_SET_ANYWHERE}/:\n      tag: alerts\n"
    )
    assert main(["check", "--config-dir", str(env_config)]) == 1
    err = capsys.readouterr().err
    assert (
        f"{env_config / 'feeds.yaml'}:3: feed url 'ftp://x' must be an http:// or https:// address"
        in err
    )
    assert f"{env_config / 'feeds.yaml'}:6: not a duration" in err
    assert f"{env_config / 'channels.yaml'}:2:" in err and "NOT_SET_ANYWHERE" in err


def test_replay_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(rss([STORY, CALM]))
    assert main(["replay", "--json", str(feed)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    story, calm = (json.loads(line) for line in lines)
    for key in ("guid", "link", "title", "feed", "rules", "figures", "places", "explain"):
        assert key in story
    assert story["guid"] == "story-1"
    assert set(story["rules"]) >= {"health-care-attack", "displacement"}
    displaced = [f for f in story["figures"] if f["kind"] == "displaced"]
    assert [(f["value"], f["qualifier"]) for f in displaced] == [(45000, "nearly")]
    names = {p["name"] for p in story["places"]}
    assert any(n.startswith("Idlib") for n in names)
    assert calm["rules"] == []


def test_replay_reads_every_input_and_names_the_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.xml"
    good.write_text(rss([CALM]))
    bad = tmp_path / "bad.xml"
    bad.write_text("this is not a feed")
    with FeedServer() as server:
        server.set("/gone.xml", "gone", status=404)
        code = main(
            ["replay", str(bad), str(tmp_path / "missing.xml"), server.url("/gone.xml"), str(good)]
        )
    captured = capsys.readouterr()
    assert code == 1
    assert "Book fair opens" in captured.out  # the good input was still read
    assert f"{bad}: not a readable feed" in captured.err
    assert "missing.xml: cannot read" in captured.err
    assert "gone.xml: HTTP 404" in captured.err


def test_replay_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    with FeedServer() as server:
        server.set("/wire.xml", rss([STORY]))
        assert main(["replay", server.url("/wire.xml")]) == 0
    assert "FIRES health-care-attack" in capsys.readouterr().out


def test_test_rule_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test-rule", "health-care-attack", "Shelling struck the clinic in Goma."]) == 0
    out = capsys.readouterr().out
    assert "health-care-attack FIRES" in out
    assert "Shelling" in out and "clinic" in out
    assert main(["test-rule", "health-care-attack", "The clinic treated the wounded."]) == 0
    assert "does not fire" in capsys.readouterr().out


def test_test_rule_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test-rule", "no-such-rule", "text"]) == 1
    assert "no rule 'no-such-rule'" in capsys.readouterr().err


def test_eval_prints_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text(
        json.dumps(
            {
                "id": "a",
                "lang": "en",
                "text": STORY.text,
                "rules": ["health-care-attack", "displacement"],
                "displaced": {"value": 45000, "unit": "people"},
                "places": ["Idlib"],
            }
        )
        + "\n"
        + json.dumps({"id": "b", "lang": "en", "text": CALM.text, "rules": [], "places": []})
        + "\n"
    )
    assert main(["eval", "--json", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 2


def test_run_once_then_status_commands(
    env_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FeedServer() as server:
        server.set("/wire.xml", rss([STORY, CALM]))
        (env_config / "feeds.yaml").write_text(
            f"feeds:\n  - name: wire\n    url: {server.url('/wire.xml')}\n    interval: 5m\n"
            f"  - name: dead\n    url: http://127.0.0.1:9/none.xml\n"
        )
        assert main(["run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "Attack on health care" in out  # no channel configured: printed on standard output
    assert main(["feeds"]) == 0
    feeds = capsys.readouterr().out
    assert "wire" in feeds and "dead" in feeds and "connection refused" in feeds
    assert main(["alerts"]) == 0
    alerts = capsys.readouterr().out
    assert "health-care-attack" in alerts and "standard output: sent" in alerts


def test_notify_test_without_channels_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify-test"]) == 0
    out = capsys.readouterr().out
    assert "Test notification" in out and "standard output: sent" in out


def test_secrets_never_reach_output_or_logs(
    env_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cr3t-hook-token-0042"
    monkeypatch.setenv("HOOK_TOKEN", secret)
    (env_config / "channels.yaml").write_text(
        "version: 1\nurls:\n  - json://monitor:${HOOK_TOKEN}@127.0.0.1:9/hook:\n      tag: alerts\n"
    )
    with FeedServer() as server:
        server.set("/wire.xml", rss([STORY]))
        (env_config / "feeds.yaml").write_text(
            f"feeds:\n  - name: wire\n    url: {server.url('/wire.xml')}\n"
        )
        assert main(["run", "--once", "--log-level", "DEBUG"]) == 0
    assert main(["alerts"]) == 0
    assert main(["notify-test"]) == 1  # port 9 refuses: the send fails, and says so
    # the log handler main() set up now knows the secret: a careless log line is masked too
    logging.getLogger("monitor.test").warning("calling the hook with %s", secret)
    captured = capsys.readouterr()
    assert "calling the hook with ***" in captured.err
    assert "FAILED" in captured.out
    assert secret not in captured.out
    assert secret not in captured.err


def test_check_warns_about_unknown_places(
    env_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env_config / "rules.d").mkdir()
    (env_config / "rules.d" / "sahel.yaml").write_text(
        "rules:\n  - id: sahel\n    any: [attack]\n    places: {include: [Mali, Burkina Fasso, region:SY-ID]}\n"
        "    notify: [alerts]\n"
    )
    assert main(["check"]) == 0  # a warning, not an error
    err = capsys.readouterr().err
    assert (
        f"{env_config / 'rules.d' / 'sahel.yaml'}:2: warning: rule 'sahel': place 'Burkina Fasso'"
        in err
    )
    assert "'Mali'" not in err
    assert "SY-ID" not in err


def test_json_logs_mask_secrets_in_tracebacks(
    env_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "another-s3cret-value-77"
    monkeypatch.setenv("HOOK_TOKEN", secret)
    monkeypatch.setenv("MONITOR_LOG_FORMAT", "json")
    (env_config / "channels.yaml").write_text(
        "version: 1\nurls:\n  - json://monitor:${HOOK_TOKEN}@127.0.0.1:9/hook:\n      tag: alerts\n"
    )
    assert main(["check"]) == 0
    try:
        raise RuntimeError(f"connecting with {secret} failed")
    except RuntimeError:
        logging.getLogger("monitor.test").exception("a crash")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "a crash"
    assert "***" in entry["error"]
    assert secret not in line
