"""Blocking work off the event loop, in threads that never hold the process at exit.

asyncio.to_thread's threads are joined when the interpreter exits, so a stop signal would wait
for a 30-second email send or a long feed to finish. Work run here is either safe to abandon
(each article is its own transaction; a delivery's claim expires and it is retried) or told to
stop through its own flag.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_daemon_thread(func: Callable[[], T], name: str = "monitor-work") -> T:
    """Run func() in a new daemon thread and await its result (or its exception)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle_result(value: T) -> None:
        if not future.done():
            future.set_result(value)

    def settle_error(exc: BaseException) -> None:
        if not future.done():
            future.set_exception(exc)

    def run() -> None:
        try:
            value = func()
        except BaseException as exc:  # handed to the awaiting task, which decides
            if not loop.is_closed():
                loop.call_soon_threadsafe(settle_error, exc)
        else:
            if not loop.is_closed():
                loop.call_soon_threadsafe(settle_result, value)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future
