"""Limits of a batch: inputs per chunk and the time one input may take.

The command line shows the defaults before it imports the batch machinery,
so this module imports only the standard library and :mod:`spectro.errors`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import SpectroError

__all__ = ["CHUNK_SIZE", "TIME_LIMIT", "InputTimeoutError", "within"]

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
