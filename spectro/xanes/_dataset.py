"""``spectro.xanes.analyze``: the XANES analysis of a Dataset, with or without the uncertainty budget.

The door above the kernel (:func:`spectro.xanes.analyze_arrays`, in
``_analyze``) and the budget (``_budget``): :func:`analyze` runs the kernel
through :func:`xarray.apply_ufunc` for NumPy and dask alike, or, with the
option ``budget``, :func:`spectro.xanes.budget`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from .. import _apply
from ..options import XanesOptions, options_of
from ._analyze import OUTPUTS, analyze_arrays, finish, is_normalized, result_attrs
from ._budget import budget

__all__ = ["CALL_BYTES", "analyze"]

#: Target size of the input of one kernel call (bytes): 1.5 MiB, about 1000
#: spectra of 200 float64 points. A larger block of spectra (a dask chunk of
#: a map, a large array in memory) is analysed in calls of equal size up to
#: this: the kernel's temporaries (about 15 times the input) then stay small
#: and mostly in the processor's cache (a map spectrum costs 57 us of CPU in
#: calls of 650 or 1000 spectra, 68 us in calls of 1300 and 73 us in calls of
#: 1600; see docs/performance.md). Each spectrum's numbers depend on its own
#: row only, so they are the same whatever the calls.
CALL_BYTES = 3 * 2**19


def analyze(
    ds: xr.Dataset, options: XanesOptions | None = None, /, *, spectra: bool = True, **changes: Any
) -> xr.Dataset:
    """Calibrate, normalize and extract edge, pre-edge and feature-C results of every scan.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset (``mu``, optional ``mu_ref``), in memory or dask-backed.
    options : XanesOptions, optional
        The analysis options (:class:`spectro.options.XanesOptions`: windows,
        edge level, calibration, pre-edge model).
    spectra : bool, keyword-only
        Also return the normalized spectra ``norm`` and ``flat`` (False:
        the per-scan results only, e.g. for maps; the same numbers).
    **changes
        Changes to ``options`` by name, e.g. ``preedge="centroid"``,
        ``nnorm=1``; ``budget=True`` gives the Dataset of
        :func:`spectro.xanes.budget` (each number's statistical and
        systematic uncertainty besides).

    Returns
    -------
    xarray.Dataset
        Along ``scan`` (per-scan coordinates carried over): the variables of
        :data:`RESULTS` with units and method attrs, ``flags``
        (:class:`XanesFlag` bits), and ``norm``, ``flat`` along (scan,
        energy). The options are recorded in the Dataset's attrs
        (:meth:`spectro.options.Options.to_attrs`). In memory, one warning
        per kind of flag names the file and the scans concerned; dask-backed,
        the flags say it when computed.

    Raises
    ------
    OptionError
        An option has a value it cannot take.
    DataError
        The Dataset has no ``mu``.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, reference=True,
    ...                             energy_offset=1.0, seed=0)
    >>> res = spectro.xanes.analyze(ds)
    >>> [round(float(x), 1) for x in res.calibration_shift]
    [-1.0, -1.0]
    >>> round(float(res.e0[1] - res.e0[0]), 1)
    2.0
    """
    opts = options_of(XanesOptions, options, changes)
    if opts.budget:
        return budget(ds, opts, spectra=spectra)
    mu = _apply.signal(ds, "mu")
    use_ref = opts.reference_channel and "mu_ref" in ds.data_vars
    normalized = is_normalized(ds)

    outputs = {k: v for k, v in OUTPUTS.items() if spectra or not v[0]}

    def kernel(mu, *rest, energy):
        def run(mu_, ref_):
            return analyze_arrays(energy, mu_, ref_, opts, normalized=normalized, spectra=spectra).arrays(outputs)

        return _in_calls(run, mu, rest[0] if rest else None)

    out = _apply.run(
        kernel, mu, args=[ds.mu_ref] if use_ref else [], outputs=outputs,
        attrs=result_attrs(opts, calibrated=use_ref, normalized=normalized), integers=("flags", "nnorm"),
        coords_of=ds,
    )
    finish(out, ds, opts, normalized=normalized)
    return out


def _in_calls(run: Callable[..., tuple], mu: np.ndarray, mu_ref: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """``run(mu, mu_ref)`` on spectra (..., n) in calls of equal size of at most :data:`CALL_BYTES` of ``mu``.

    Each output is shaped like the leading dims of ``mu`` followed by its own.
    """
    n = mu.shape[-1]
    rows = max(1, CALL_BYTES // max(1, n * mu.itemsize))
    total = int(np.prod(mu.shape[:-1]))
    if total <= rows:
        return run(mu, mu_ref)
    flat = mu.reshape(total, n)
    ref = None if mu_ref is None else np.broadcast_to(mu_ref, mu.shape).reshape(total, n)
    calls = -(-total // rows)
    rows = -(-total // calls)  # calls of equal size, none of a few spectra
    parts = [run(flat[i:i + rows], None if ref is None else ref[i:i + rows]) for i in range(0, total, rows)]
    return tuple(np.concatenate(p, axis=0).reshape(mu.shape[:-1] + p[0].shape[1:]) for p in zip(*parts))
