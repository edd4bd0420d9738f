"""Settings: MONITOR_* environment variables, a .env file, and an optional config/settings.yaml.

Precedence, highest first: values passed in code (the CLI), environment, .env, settings.yaml, defaults.
The only module that imports pydantic-settings.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor import yamlio
from monitor.durations import format_duration, parse_duration

SETTINGS_FILE = "settings.yaml"


class Settings(BaseSettings):
    """Everything an operator can set. Durations accept seconds or 30s / 10m / 1h / 2d."""

    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_file=".env", extra="forbid", validate_default=True
    )

    config_dir: Path = Field(Path("config"), description="folder with feeds.yaml, rules.yaml, ...")
    data_dir: Path = Field(Path("data"), description="where the default SQLite file lives")
    database_url: str = Field(
        "", description="SQLAlchemy URL; default sqlite:///DATA_DIR/monitor.db"
    )
    default_interval: float = Field(600, ge=1, description="poll interval of a feed that sets none")
    max_age: float = Field(2 * 86400, description="older entries are recorded but not alerted")
    jitter: float = Field(
        0.1, ge=0, le=0.5, description="share of a feed's interval added at random"
    )
    household_size: float = Field(5.0, gt=0, description="people per household/family")
    min_city_population: int = Field(
        5000, ge=1000, description="smallest city the gazetteer knows (1000, 5000 or 15000)"
    )
    cache_dir: Path | None = Field(
        None, description="gazetteer index cache; default DATA_DIR/cache"
    )
    user_agent: str = Field(
        "humanitarian-monitor/0.1 (news alert daemon; polls each feed at its set interval)",
        description="User-Agent of feed requests",
    )
    connect_timeout: float = Field(10, gt=0, description="seconds to connect to a feed server")
    read_timeout: float = Field(30, gt=0, description="seconds without a byte before giving up")
    fetch_deadline: float = Field(60, gt=0, description="overall seconds for one feed fetch")
    max_feed_bytes: int = Field(10_000_000, gt=0, description="larger feed bodies are refused")
    fetch_concurrency: int = Field(50, gt=0, description="feeds fetched at once")
    feed_backoff_base: float = Field(60, gt=0, description="first wait after a failed fetch")
    feed_backoff_cap: float = Field(6 * 3600, gt=0, description="longest wait after failures")
    delivery_interval: float = Field(10, gt=0, description="how often pending alerts are sent")
    delivery_attempts: int = Field(8, ge=1, description="attempts before a delivery is failed")
    delivery_backoff_base: float = Field(30, gt=0, description="first wait after a failed send")
    delivery_backoff_cap: float = Field(3600, gt=0, description="longest wait between sends")
    lease: float = Field(300, gt=0, description="how long a worker's claim on work lasts")
    worker_id: str = Field("", description="this worker's name in claims; default the host name")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR"
    )
    log_format: Literal["text", "json"] = Field("text", description="log line format")

    @field_validator(
        "default_interval",
        "max_age",
        "feed_backoff_base",
        "feed_backoff_cap",
        "delivery_interval",
        "delivery_backoff_base",
        "delivery_backoff_cap",
        "lease",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to an SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'monitor.db').as_posix()}"

    @property
    def cache_path(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def worker(self) -> str:
        # The host name alone: a restarted daemon takes back its own leases at once. Two
        # workers on one host (sharing a database) must each set MONITOR_WORKER_ID.
        return self.worker_id or socket.gethostname()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, _YamlFileSource(settings_cls))


class _YamlFileSource(PydanticBaseSettingsSource):
    """config_dir/settings.yaml, when present; config_dir itself comes from the sources above."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        config_dir = self.current_state.get("config_dir") or Path("config")
        path = Path(config_dir) / SETTINGS_FILE
        if not path.is_file():
            return {}
        data = yamlio.load(path)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise yamlio.YamlError(str(path), 1, "settings.yaml must be a mapping of name: value")
        return {k: v for k, v in data.items() if k != "config_dir"}


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source; `overrides` (from the command line) win. None values are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def settings_table() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting: the README's table."""
    durations = {
        "default_interval", "max_age", "feed_backoff_base", "feed_backoff_cap",
        "delivery_interval", "delivery_backoff_base", "delivery_backoff_cap", "lease",
    }  # fmt: skip
    rows = []
    for name, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, Path):
            shown = default.as_posix()
        elif name in durations:
            shown = format_duration(float(default))
        else:
            shown = "" if default is None else str(default)
        rows.append((f"MONITOR_{name.upper()}", shown, info.description or ""))
    return rows
