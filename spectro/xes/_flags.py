"""Why a Kbeta result of a scan is missing or not to be trusted: the bits of ``flags``."""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["XesFlag", "where"]


class XesFlag(enum.IntFlag):
    """Why a XES result of a scan is missing or not to be trusted (bits of ``flags``).

    The kernels set them instead of warning; :func:`spectro.xes.analyze`
    turns them into one warning per flag for in-memory data.
    """

    #: No Kbeta1,3 maximum inside its search window: every metric is NaN.
    KB13_NOT_FOUND = 1
    #: The Kbeta1,3 window is not covered: ``kb13_m1``, ``kb13_area`` and the Kbeta' ratio are NaN.
    KB13_WINDOW_MISSING = 2
    #: The Kbeta' window is not covered: ``kb_prime``, ``kb_prime_ratio`` and the fit are NaN.
    KB_PRIME_MISSING = 4
    #: The Kbeta2,5 window is not covered: every valence-to-core metric is NaN.
    KB25_MISSING = 8
    #: The Kbeta'' window is not covered: the ``kbpp_*`` metrics are NaN.
    KBPP_MISSING = 16
    #: Too few points to fit the Kbeta1,3 tail: every valence-to-core metric is NaN.
    TAIL_FIT_FAILED = 32
    #: The IAD range is not covered by the scan or by the aligned reference: ``iad`` is NaN.
    IAD_RANGE_MISSING = 64
    #: The Kbeta1,3 + Kbeta' fit could not be made or gave no covariance.
    FIT_FAILED = 128
    #: The highest point of the spectrum stands less than :data:`spectro.xes.PEAK_SIGMAS` point errors above the
    #: background (noise, no emission line): every metric is NaN.
    NO_PEAK_ABOVE_NOISE = 256


def where(condition: np.ndarray, flag: XesFlag) -> np.ndarray:
    """``flag`` where ``condition`` holds, else 0 (int64).

    Examples
    --------
    >>> where(np.array([True, False]), XesFlag.KB25_MISSING).tolist()
    [8, 0]
    """
    return np.where(condition, np.int64(flag), np.int64(0))
