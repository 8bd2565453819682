"""A clean stop for the long-running commands (watch, scheduler) on every OS.

POSIX service managers send SIGTERM, a terminal Ctrl-C sends SIGINT. On Windows a console program
gets Ctrl-C as SIGINT and Ctrl-Break as SIGBREAK; NSSM stops a service by sending Ctrl-C to its
console (then waits), and `taskkill` without /F sends the close event, which Python also delivers
as SIGBREAK. Every one of them calls the same `on_stop`.
"""
from __future__ import annotations

import signal
from collections.abc import Callable

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGBREAK")  # SIGBREAK exists only on Windows


def on_stop(callback: Callable[[int], None]) -> list[int]:
    """Call `callback(signum)` on each stop signal this OS has; the signal numbers handled."""
    handled = []
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        signal.signal(number, lambda signum, frame: callback(signum))
        handled.append(int(number))
    return handled
