"""The stop signals of every OS reach the same handler (Windows' SIGBREAK simulated here)."""
from __future__ import annotations

import os
import signal
import time

import pytest

from kakari.stop import on_stop


@pytest.fixture(autouse=True)
def _restore_handlers() -> None:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def test_sigterm_and_sigint_call_the_stop() -> None:
    got: list[int] = []
    handled = on_stop(got.append)
    assert {signal.SIGINT, signal.SIGTERM} <= set(handled)
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.1)
    assert got == [signal.SIGTERM, signal.SIGINT]


def test_ctrl_break_on_windows_calls_the_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows delivers Ctrl-Break and a console close (NSSM, taskkill) as SIGBREAK; here an unused
    POSIX signal stands in for it, since Linux has no SIGBREAK."""
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR1, raising=False)
    got: list[int] = []
    assert signal.SIGUSR1 in on_stop(got.append)
    os.kill(os.getpid(), signal.SIGUSR1)
    time.sleep(0.1)
    assert got == [signal.SIGUSR1]
