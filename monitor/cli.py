"""The command line: monitor run | check | feeds | alerts | notify-test | replay | test-rule | eval."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from monitor import __version__
from monitor.app import setup_logging
from monitor.commands.analysis import cmd_eval, cmd_replay, cmd_test_rule
from monitor.commands.common import CliError
from monitor.commands.daemon import cmd_check, cmd_health, cmd_run
from monitor.commands.status import cmd_alerts, cmd_feeds, cmd_notify_test
from monitor.config import ConfigError
from monitor.settings import load_settings
from monitor.store import StoreError
from monitor.yamlio import YamlError

log = logging.getLogger("monitor")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(
            config_dir=getattr(args, "config_dir", None),
            database_url=getattr(args, "database_url", None),
            data_dir=getattr(args, "data_dir", None),
            log_level=getattr(args, "log_level", None),
        )
    except ValidationError as exc:
        print(f"monitor: bad settings:\n{_validation_text(exc)}", file=sys.stderr)
        return 2
    except YamlError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 2
    args.mask_filter = setup_logging(settings)
    try:
        result: int = args.handler(args, settings)
        return result
    except (ConfigError, CliError, StoreError, OSError) as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _validation_text(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "settings"
        lines.append(f"  MONITOR_{name.upper()} ({name}): {err['msg']}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="folder with feeds.yaml, rules.yaml, channels.yaml (env MONITOR_CONFIG_DIR; default ./config)",
    )
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="folder for the default SQLite database (env MONITOR_DATA_DIR; default ./data)",
    )
    common.add_argument(
        "--log-level", default=argparse.SUPPRESS, help="DEBUG, INFO, WARNING or ERROR"
    )
    parser = argparse.ArgumentParser(
        prog="monitor",
        parents=[common],
        description="Watches news feeds for humanitarian emergencies and alerts the right people.",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="run the daemon (or one cycle with --once)")
    p.add_argument("--once", action="store_true", help="poll every feed once, deliver, and exit")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (env MONITOR_DATABASE_URL)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("health", parents=[common], help="exit 0 if the daemon is alive")
    p.set_defaults(handler=cmd_health)

    p = sub.add_parser("check", parents=[common], help="validate all config; exit 1 on any error")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("feeds", parents=[common], help="status of every feed")
    p.add_argument("--database-url", default=None)
    p.set_defaults(handler=cmd_feeds)

    p = sub.add_parser("alerts", parents=[common], help="recent alerts and their delivery state")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--database-url", default=None)
    p.set_defaults(handler=cmd_alerts)

    p = sub.add_parser("notify-test", parents=[common], help="send a test alert to the channels")
    p.add_argument("--tag", action="append", help="only channels with this tag (repeatable)")
    p.set_defaults(handler=cmd_notify_test)

    p = sub.add_parser(
        "replay",
        parents=[common],
        help="run fetch..match on feed files or URLs; no database, no notifications",
    )
    p.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--json", action="store_true", help="one JSON object per article, one per line")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("test-rule", parents=[common], help="does a rule fire on a text, and why")
    p.add_argument("rule_id", metavar="RULE_ID")
    p.add_argument("text", nargs="?", help="the text (default: read standard input)")
    p.add_argument("--title", default="", help="a headline to go with the text")
    p.set_defaults(handler=cmd_test_rule)

    p = sub.add_parser("eval", parents=[common], help="precision and recall on a labelled set")
    p.add_argument(
        "file", type=Path, metavar="FILE", help="YAML list or JSON lines of labelled items"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_eval)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
