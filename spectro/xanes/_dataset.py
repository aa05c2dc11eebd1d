"""``spectro.xanes.analyze``: the XANES analysis of a Dataset, with or without the uncertainty budget.

The door above the kernel (:func:`spectro.xanes.analyze_arrays`, in
``_analyze``) and the budget (``_budget``): :func:`analyze` runs the kernel
through :func:`xarray.apply_ufunc` for NumPy and dask alike, or, with the
option ``budget``, :func:`spectro.xanes.budget`.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from .. import _apply
from ..options import XanesOptions, options_of
from ._analyze import OUTPUTS, analyze_arrays, finish, is_normalized, result_attrs
from ._budget import budget

__all__ = ["analyze"]


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
        r = analyze_arrays(energy, mu, rest[0] if rest else None, opts, normalized=normalized, spectra=spectra)
        return r.arrays(outputs)

    out = _apply.run(
        kernel, mu, args=[ds.mu_ref] if use_ref else [], outputs=outputs,
        attrs=result_attrs(opts, calibrated=use_ref, normalized=normalized), integers=("flags", "nnorm"),
        coords_of=ds,
    )
    finish(out, ds, opts, normalized=normalized)
    return out
