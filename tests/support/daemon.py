"""The monitor daemon as a subprocess, for end-to-end tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path


class Daemon:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self) -> tuple[int, float]:
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(15)
        return code, time.monotonic() - began

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def run_command(self, *args: str) -> str:
        """Run another monitor command with the daemon's environment; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "monitor", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout + done.stderr
