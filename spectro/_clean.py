"""Energy-grid hygiene below the data model: sorting and merging near-duplicate points.

:mod:`spectro.model` cleans every scan with :func:`clean_grid` when it builds
a Dataset, and :mod:`spectro.grid` (which builds on the model) re-exports
these names; they live here so that the layers import in one direction
(``errors`` <- ``_clean`` <- ``model`` <- ``grid``). The merge tolerance is
described in :mod:`spectro.grid`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from .errors import DataError, GridWarning

__all__ = ["MERGE_TOL_EV", "clean_grid", "merge_tolerance"]

MERGE_TOL_EV = 0.05


def merge_tolerance(energy: np.ndarray) -> float:
    """Merge tolerance in eV for a sorted energy array.

    Examples
    --------
    >>> import numpy as np
    >>> merge_tolerance(np.arange(8300.0, 8310.0, 0.25))
    0.05
    >>> round(merge_tolerance(np.arange(8300.0, 8301.0, 0.02)), 6)
    0.01
    """
    steps = np.diff(energy)
    steps = steps[steps > 0]
    if steps.size == 0:
        return MERGE_TOL_EV
    return float(min(MERGE_TOL_EV, 0.5 * np.median(steps)))


def clean_grid(
    energy: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    file: str | None = None,
    scan: object | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sort a scan by energy and merge duplicate and near-duplicate points.

    Parameters
    ----------
    energy : ndarray, shape (n,)
        Energies in eV, any order. Non-finite energies are dropped.
    values : mapping of str to ndarray, shape (n,)
        Signals measured at those energies (mu, mu_ref, intensity, ...).
    file, scan : optional
        Named in the warning and in errors.

    Returns
    -------
    energy : ndarray, shape (m,)
        Strictly increasing energies in eV.
    values : dict of str to ndarray, shape (m,)
        The signals, reordered and averaged over merged points.

    Warns
    -----
    GridWarning
        When points were reordered, merged or dropped; the message gives counts.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     e, v = clean_grid(np.array([1.0, 3.0, 2.0, 2.01]), {"mu": np.arange(4.0)})
    >>> e.tolist(), v["mu"].tolist()
    ([1.0, 2.005, 3.0], [0.0, 2.5, 1.0])
    >>> print(caught[0].message)
    sorted 1 backward energy step(s); merged 1 duplicate or near-duplicate point(s) closer than 0.05 eV
    """
    energy = np.asarray(energy, dtype=float)
    arrays = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    if energy.size > 1 and np.diff(energy).min() >= MERGE_TOL_EV:  # rising, nothing to merge
        return energy.copy(), {k: v.copy() for k, v in arrays.items()}
    notes = []
    finite = np.isfinite(energy)
    if not finite.all():
        notes.append(f"dropped {int((~finite).sum())} points with non-finite energy")
        energy = energy[finite]
        arrays = {k: v[finite] for k, v in arrays.items()}
    if energy.size < 2:
        raise DataError(
            f"only {energy.size} point(s) with a finite energy", file=file, scan=scan
        )
    order = np.argsort(energy, kind="stable")
    n_backward = int(np.count_nonzero(np.diff(energy) < 0))
    if n_backward:
        notes.append(f"sorted {n_backward} backward energy step(s)")
    energy = energy[order]
    arrays = {k: v[order] for k, v in arrays.items()}

    tol = merge_tolerance(energy)
    new_cluster = np.empty(energy.size, dtype=bool)
    new_cluster[0] = True
    new_cluster[1:] = np.diff(energy) >= tol
    starts = np.flatnonzero(new_cluster)
    n_merged = energy.size - starts.size
    if n_merged:
        counts = np.diff(np.append(starts, energy.size))
        energy = np.add.reduceat(energy, starts) / counts
        arrays = {k: np.add.reduceat(v, starts) / counts for k, v in arrays.items()}
        notes.append(
            f"merged {n_merged} duplicate or near-duplicate point(s) "
            f"closer than {tol:.3g} eV"
        )
    if notes:
        where = ": ".join(
            str(p) for p in (file, None if scan is None else f"scan {scan!r}") if p
        )
        prefix = f"{where}: " if where else ""
        warnings.warn(prefix + "; ".join(notes), GridWarning, stacklevel=3)
    return energy, arrays
