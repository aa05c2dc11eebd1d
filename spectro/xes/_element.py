"""The emitting element of Kbeta spectra, from their emission energies.

When the option ``element`` is not given (None, the default) it is decided
from the data, one rule for every door (the kernels, :func:`spectro.xes.analyze`,
``spectro batch``, ``spectro xes``):

1. each spectrum's **highest point** (raw intensity) is taken as its
   Kbeta1,3 maximum: Kbeta1,3 is the strongest line of any Kbeta spectrum;
2. the candidates are the elements Ti to Nd (those with tabulated Kb1, Kb3
   and Kb5 lines in xraydb, Elam *et al.*, Radiat. Phys. Chem. 63, 121
   (2002)) whose tabulated Kbeta1,3 (:func:`spectro.xes.line_energies`)
   lies in the spectrum's measured range widened by the peak-search window
   (``kb13_search``, +-8 eV);
3. the element is the candidate whose tabulated Kbeta1,3 is closest to the
   highest point, provided it is within the search window of it (Kbeta1,3
   lines of neighbouring elements are 500 eV or more apart, so at most one
   can be);
4. every spectrum that shows an element must show the same one.

No element matching is a :class:`~spectro.errors.DataError` (give the
element). A given element is checked against the same rule: when the data
show another element, :class:`ElementMismatchError` names both (and the
file and scans when known); when the data show none (no peak near any
tabulated Kbeta1,3), the given element is used and the per-scan flags say
what could not be found.

Examples
--------
>>> import numpy as np
>>> e = np.arange(6470.0, 6505.0, 0.3)
>>> y = 10.0 + 100.0 / (1 + ((e - 6490.6) / 1.5) ** 2)
>>> element_of(e, y)
'Mn'
>>> element_of(e, y, given="Ni")
Traceback (most recent call last):
...
spectro.xes._element.ElementMismatchError: element 'Ni' was given, but the data show Mn: the Kbeta1,3 maximum \
at 6490.7 eV is 1.1 eV from the tabulated Mn Kbeta1,3 (6491.8 eV); Ni's (8266.2 eV) is not in the measured range \
6470.0 to 6504.8 eV
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..errors import DataError
from ..options import XesOptions
from ._windows import Windows, line_energies

__all__ = ["ElementMismatchError", "element_from_peaks", "element_of", "peak_energies", "with_element"]

#: Atomic numbers of the candidate emitters (xraydb tabulates their Kb1, Kb3 and Kb5).
_Z_RANGE = range(22, 61)


class ElementMismatchError(DataError):
    """The element given for a Kbeta analysis is not the one the data show."""


@cache
def _candidates() -> tuple[tuple[str, ...], np.ndarray]:
    import xraydb

    names, kb13 = [], []
    for z in _Z_RANGE:
        symbol = xraydb.atomic_symbol(z)
        names.append(symbol)
        kb13.append(line_energies(symbol)["Kb13"])
    return tuple(names), np.asarray(kb13)


def peak_energies(energy: np.ndarray, intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The energy of each spectrum's highest point and its measured range.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Emission energies, eV (NaN = no point).
    intensity : ndarray, shape (..., n)
        Raw intensities (NaN = no point).

    Returns
    -------
    peak, low, high : ndarray, shape (...)
        eV; NaN for a spectrum without finite points.

    Examples
    --------
    >>> peak_energies(np.array([1.0, 2.0, 3.0]), np.array([[0.0, 5.0, 1.0], [np.nan] * 3]))
    (array([ 2., nan]), array([ 1., nan]), array([ 3., nan]))
    """
    y = np.asarray(intensity, dtype=float)
    e = np.broadcast_to(np.asarray(energy, dtype=float), y.shape)
    ok = np.isfinite(y) & np.isfinite(e)
    any_ok = np.any(ok, axis=-1)
    idx = np.argmax(np.where(ok, y, -np.inf), axis=-1)
    peak = np.take_along_axis(e, idx[..., None], -1)[..., 0]
    low = np.min(np.where(ok, e, np.inf), axis=-1)
    high = np.max(np.where(ok, e, -np.inf), axis=-1)
    return tuple(np.where(any_ok, a, np.nan) for a in (peak, low, high))  # type: ignore[return-value]


def _shown(peak, low, high) -> tuple[np.ndarray, np.ndarray]:
    """Index of the element each spectrum shows (-1: none) and its distance to the highest point."""
    _, kb13 = _candidates()
    lo, hi = Windows("", 0.0, 0.0).kb13_search
    with np.errstate(invalid="ignore"):
        inside = (kb13 >= low[..., None] + lo) & (kb13 <= high[..., None] + hi)
        dist = np.where(inside, np.abs(peak[..., None] - kb13), np.inf)
    best = np.argmin(dist, axis=-1)
    d = np.take_along_axis(dist, best[..., None], -1)[..., 0]
    found = np.isfinite(peak) & (d <= max(-lo, hi))
    return np.where(found, best, -1), d


def element_of(
    energy: np.ndarray,
    intensity: np.ndarray,
    *,
    given: str | None = None,
    labels: Any = None,
    file: str | None = None,
) -> str:
    """The element of Kbeta spectra (the rule of the module docs), or check a given one.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Emission energies, eV.
    intensity : ndarray, shape (..., n)
        Raw intensities (NaN = no point).
    given : str, optional
        An element given by the user, checked against the data.
    labels : sequence, optional
        Scan labels of the rows, for the messages.
    file : str, optional
        The file the spectra come from, for the messages.

    Returns
    -------
    str
        The element symbol.

    Raises
    ------
    ElementMismatchError
        ``given`` is not the element the data show.
    DataError
        No element given and none found in the data, or rows showing
        different elements.
    """
    return element_from_peaks(*peak_energies(energy, intensity), given=given, labels=labels, file=file)


def element_from_peaks(peak, low, high, *, given: str | None = None, labels: Any = None,
                       file: str | None = None) -> str:
    """:func:`element_of` from the output of :func:`peak_energies` (for lazy data, computed first)."""
    names, kb13 = _candidates()
    peak, low, high = (np.atleast_1d(np.asarray(a, dtype=float)).ravel() for a in (peak, low, high))
    best, dist = _shown(peak, low, high)
    rows = np.arange(best.size)
    names_of = [str(v) for v in (rows if labels is None else np.asarray(labels).ravel())]

    def scans(where: np.ndarray) -> str:
        return ", ".join(repr(names_of[i]) for i in np.flatnonzero(where))

    shown = sorted(set(best[best >= 0].tolist()))
    if len(shown) > 1:
        parts = "; ".join(f"{names[k]} in scans {scans(best == k)}" for k in shown)
        raise DataError(f"the scans show different emitting elements ({parts}); analyse them separately",
                        file=file)
    if not shown:
        if given is not None:
            line_energies(given)  # an unknown symbol is an error even when the data show nothing
            return given
        span = f"{np.nanmin(low):.1f} to {np.nanmax(high):.1f} eV" if np.any(np.isfinite(low)) else "no points"
        raise DataError(f"no element's tabulated Kbeta1,3 line (Ti to Nd) lies within 8 eV of the spectra's "
                        f"highest point (measured range {span}); give the element (option element, --element)",
                        file=file)
    k = shown[0]
    if given is None or given == names[k]:
        return names[k]
    mine = line_energies(given)["Kb13"]
    i = int(np.flatnonzero(best == k)[0])
    if np.any((low <= mine) & (mine <= high)):
        where = "is in the measured range but no peak is near it"
    else:
        where = f"is not in the measured range {np.nanmin(low):.1f} to {np.nanmax(high):.1f} eV"
    scan = names_of[i] if labels is not None else None
    raise ElementMismatchError(
        f"element {given!r} was given, but the data show {names[k]}: the Kbeta1,3 maximum at {peak[i]:.1f} eV "
        f"is {dist[i]:.1f} eV from the tabulated {names[k]} Kbeta1,3 ({kb13[k]:.1f} eV); {given}'s "
        f"({mine:.1f} eV) {where}", file=file, scan=scan)


def with_element(options: XesOptions, energy: np.ndarray, intensity: np.ndarray, *, labels: Any = None,
                 file: str | None = None) -> XesOptions:
    """``options`` with the element the data show (checked against a given one).

    Examples
    --------
    >>> e = np.arange(8240.0, 8290.0, 0.5)
    >>> with_element(XesOptions(), e, 100.0 / (1 + ((e - 8265.0) / 1.5) ** 2)).element
    'Ni'
    """
    found = element_of(energy, intensity, given=options.element, labels=labels, file=file)
    return options if found == options.element else options.replace(element=found)
