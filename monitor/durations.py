"""Durations as people write them in config: 90, "30s", "10m", "1h30m", "2d"."""

from __future__ import annotations

import math
import re

MAX_DURATION = 3650 * 86400.0  # ten years: longer is a typo, and overflows the scheduler
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(value: object) -> float:
    """Seconds from a number or a string like '30s', '10m', '1h30m', '2d'. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            pos = 0
            seconds = 0.0
            for m in _PART.finditer(text):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
            if pos != len(text) or not text:
                raise ValueError(
                    f"not a duration: {value!r} (use seconds, or e.g. 30s, 10m, 1h, 2d)"
                ) from None
    else:
        raise ValueError(f"not a duration: {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"not a duration: {value!r} (it must be a finite number)")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    if seconds > MAX_DURATION:
        raise ValueError(f"duration {value!r} is longer than ten years")
    return seconds


def format_duration(seconds: float) -> str:
    """A short readable form: 45s, 10m, 1h30m, 2d."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out.append(f"{s // size}{unit}")
            s %= size
    return "".join(out[:2])
