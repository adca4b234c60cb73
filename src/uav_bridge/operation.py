"""Asynchronous protocol operations: started, stepped on the caller's clock, finished with a result or error.

Every protocol client returns an :class:`Operation`; the node polls it from its timer, the CLI and tests
block on it with :func:`run_until_done` while pumping the link. Nothing here knows about threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sanqin.uav_bridge.errors import Timeout, UavBridgeError

T = TypeVar("T")


class Operation(Generic[T]):
    """A running exchange with the vehicle: ``done``, then ``result`` or ``error``; ``progress`` in 0..1."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = False
        self.error: UavBridgeError | None = None
        self._result: T | None = None
        self.progress = 0.0
        self._callbacks: list[Callable[[Operation[T]], None]] = []

    @property
    def ok(self) -> bool:
        """Finished without an error."""
        return self.done and self.error is None

    def result(self) -> T:
        """The result; raises the operation's typed error, or :class:`UavBridgeError` if still running."""
        if not self.done:
            raise UavBridgeError(f"{self.name} is still running")
        if self.error is not None:
            raise self.error
        return self._result  # type: ignore[return-value]

    def finish(self, result: T | None = None) -> None:
        """Complete successfully (first completion wins)."""
        if self.done:
            return
        self._result = result
        self.progress = 1.0
        self.done = True
        self._fire()

    def fail(self, error: UavBridgeError) -> None:
        """Complete with an error (first completion wins)."""
        if self.done:
            return
        self.error = error
        self.done = True
        self._fire()

    def on_done(self, callback: Callable[[Operation[T]], None]) -> None:
        """Call ``callback(op)`` when finished (immediately if it already is)."""
        if self.done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _fire(self) -> None:
        for cb in self._callbacks:
            cb(self)
        self._callbacks.clear()

    def __repr__(self) -> str:
        state = "running" if not self.done else ("ok" if self.error is None else f"failed: {self.error}")
        return f"<Operation {self.name} {state} {self.progress:.0%}>"


def run_until_done(
    op: Operation[Any],
    pump: Callable[[float], None],
    *,
    timeout_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], None] | None = None,
    on_progress: Callable[[Operation[Any]], None] | None = None,
) -> Any:
    """Pump ``pump(now_s)`` until ``op`` finishes (bounded by ``timeout_s``); return its result or raise."""
    start = clock()
    while not op.done:
        now = clock()
        if now - start > timeout_s:
            op.fail(Timeout(op.name, 1))
            break
        pump(now)
        if on_progress is not None:
            on_progress(op)
        if not op.done:
            (wait or time.sleep)(0.002)
    return op.result()
