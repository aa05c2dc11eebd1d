"""Limits of a batch: inputs per chunk and the time one input may take.

The command line shows the defaults before it imports the batch machinery,
so this module imports only the standard library and :mod:`spectro.errors`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import SpectroError

__all__ = ["CHUNK_SIZE", "TIME_LIMIT", "InputTimeoutError", "within", "within_each"]

#: Inputs per chunk (one record, one kernel call; one executor task unless run_batch groups chunks).
CHUNK_SIZE = 16

#: Seconds one input may take to be read and analysed before it is recorded as failed; also the
#: time each valence anchor may take to be hashed, and each set of anchors to be read and analysed.
TIME_LIMIT = 600.0

T = TypeVar("T")


class InputTimeoutError(SpectroError, TimeoutError):
    """An input took longer than the batch's time limit (a read blocked on a pipe, a stalled disk, ...).

    Its ``thread`` is the thread left running the call (None when unknown).
    """

    thread: threading.Thread | None = None


def within(limit: float | None, function: Callable[..., T], *args: Any, file: str | None = None,
           doing: str = "read and analysed") -> T:
    """``function(*args)``, or :class:`InputTimeoutError` when it takes more than ``limit`` seconds.

    The call runs in a daemon thread of its own, which works in any thread
    (a dask worker's too, where signals cannot be used) and lets the
    caller go on when the call never returns: a read blocked in the
    operating system cannot be interrupted, so the thread is left behind
    (it ends with the process) and the input is recorded as failed.
    ``limit`` None or 0 calls ``function`` directly. ``file`` and ``doing``
    make the message: ``<file>: not <doing> within the time limit of ...``.

    Examples
    --------
    >>> import time
    >>> within(5.0, sum, [1, 2, 3])
    6
    >>> try:
    ...     within(0.05, time.sleep, 10.0, file="slow.xdi")
    ... except InputTimeoutError as err:
    ...     print(err)
    slow.xdi: not read and analysed within the time limit of 0.05 s
    """
    if not limit:
        return function(*args)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = function(*args)
        except BaseException as err:  # handed to the caller as it is
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True, name="spectro-input")
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        err = InputTimeoutError(f"not {doing} within the time limit of {limit:g} s", file=file)
        err.thread = thread
        raise err
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Sequence:
    """The progress of one thread of :func:`within_each`: the item it is on and when that item started."""

    def __init__(self, start: int) -> None:
        self.index = start
        self.started = time.monotonic()
        self.finished = False
        self.abandoned = False


def within_each(limit: float | None, function: Callable[[Any], T], items: Sequence[Any], *,
                files: Sequence[str | None], doing: str = "read and analysed") -> list[tuple[bool, Any]]:
    """``function(item)`` for each of ``items`` in order, each within ``limit`` seconds.

    Returns ``(True, value)`` or ``(False, exception)`` per item: what
    :func:`within` gives or raises for ``function(item)`` alone (an item
    that takes longer than ``limit`` gets :class:`InputTimeoutError` naming
    ``files[i]``, its thread left behind), without a thread started and
    joined per item. The calls run one after the other in one daemon
    thread while the caller waits until the last one returns or the item
    in progress passes its limit; then the thread is left to its item and
    the following items run in a new thread. An exception that is not an
    :class:`Exception` (``KeyboardInterrupt``) is raised. ``limit`` None or
    0 calls ``function`` in this thread.

    Examples
    --------
    >>> import time
    >>> within_each(5.0, abs, [-1, 2], files=["a", "b"])
    [(True, 1), (True, 2)]
    >>> [(ok, str(v)) for ok, v in within_each(0.05, time.sleep, [0.0, 10.0, 0.0], files=["a", "b", "c"])]
    [(True, 'None'), (False, 'b: not read and analysed within the time limit of 0.05 s'), (True, 'None')]
    """
    results: list[tuple[bool, Any] | None] = [None] * len(items)
    if not limit:
        for i, item in enumerate(items):
            results[i] = _outcome(function, item)
        return _checked(results)
    done = threading.Condition()

    def run(state: _Sequence) -> None:
        for i in range(state.index, len(items)):
            with done:
                if state.abandoned:
                    return
                state.index, state.started = i, time.monotonic()
            outcome = _outcome(function, items[i])
            with done:
                if state.abandoned:
                    return
                results[i] = outcome
        with done:
            state.finished = True
            done.notify()

    start = 0
    while start < len(items):
        state = _Sequence(start)
        thread = threading.Thread(target=run, args=(state,), daemon=True, name="spectro-input")
        thread.start()
        with done:
            while not state.finished:
                left = state.started + limit - time.monotonic()
                if left <= 0:  # the item in progress is late: it fails, the next ones go on in a new thread
                    state.abandoned = True
                    err = InputTimeoutError(f"not {doing} within the time limit of {limit:g} s",
                                            file=files[state.index])
                    err.thread = thread
                    results[state.index] = (False, err)
                    break
                done.wait(left)
            start = len(items) if state.finished else state.index + 1
    return _checked(results)


def _outcome(function: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, function(item)
    except BaseException as err:  # handed to the caller as it is
        return False, err


def _checked(results: list[tuple[bool, Any] | None]) -> list[tuple[bool, Any]]:
    """The results, after raising the first exception that is not an :class:`Exception`."""
    for result in results:
        if result is not None and not result[0] and not isinstance(result[1], Exception):
            raise result[1]
    return results  # type: ignore[return-value]
