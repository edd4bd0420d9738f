"""What every command shares: its error type and how it reads config and builds the app."""

from __future__ import annotations

import argparse
import logging
import os

from monitor.app import App, build
from monitor.config import Config, load_config
from monitor.notify import SecretMaskFilter
from monitor.settings import Settings

log = logging.getLogger("monitor")


class CliError(Exception):
    """A problem to report in one line (or a few) and exit non-zero."""


def read_config(settings: Settings, args: argparse.Namespace) -> Config:
    """The config, with its secrets added to the log filter so no log line shows them."""
    config = load_config(settings.config_dir, os.environ, settings.default_interval)
    mask_filter: SecretMaskFilter | None = getattr(args, "mask_filter", None)
    if mask_filter is not None:
        mask_filter.update(config.channels.secrets())
    return config


def load_config_for(settings: Settings, args: argparse.Namespace) -> Config:
    """read_config(), logging its warnings."""
    config = read_config(settings, args)
    for problem in config.problems:
        log.warning("%s", problem)
    return config


def build_app(settings: Settings, args: argparse.Namespace) -> App:
    config = load_config_for(settings, args)
    app = build(settings, config=config)  # a database it cannot open raises StoreError
    app.mask_filter = getattr(args, "mask_filter", None)
    return app
