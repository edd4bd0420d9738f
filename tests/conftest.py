"""Shared fixtures: one gazetteer per test session, built into a session cache folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.gazetteer import Gazetteer

MIN_POPULATION = 5000


@pytest.fixture(scope="session")
def gazetteer_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gazetteer-cache")


@pytest.fixture(scope="session")
def shared_gazetteer(gazetteer_cache: Path) -> Gazetteer:
    return Gazetteer.load(MIN_POPULATION, cache_dir=gazetteer_cache)
