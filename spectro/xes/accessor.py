"""The ``ds.xes`` accessor: one-line shells over :mod:`spectro.xes.api`.

Examples
--------
>>> import spectro
>>> ds = spectro.simulate.xes(spin="high", seed=0)
>>> float(ds.xes.kbeta().kb13_energy[0]) == float(spectro.xes.kbeta(ds).kb13_energy[0])
True
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from ..options import XesOptions
from . import api

__all__ = ["XesAccessor"]


@xr.register_dataset_accessor("xes")
class XesAccessor:
    """Kbeta XES analysis of an XES Dataset (``ds.xes.<function>(options, **changes)``)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def normalize(self, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.normalize` of this Dataset."""
        return api.normalize(self._ds, options, **changes)

    def kbeta(self, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.kbeta` of this Dataset."""
        return api.kbeta(self._ds, options, **changes)

    def kbeta_fit(self, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.kbeta_fit` of this Dataset."""
        return api.kbeta_fit(self._ds, options, **changes)

    def vtc(self, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.vtc` of this Dataset."""
        return api.vtc(self._ds, options, **changes)

    def iad(self, reference: xr.Dataset | xr.DataArray, options: XesOptions | None = None, /,
            **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.iad` of this Dataset against ``reference``."""
        return api.iad(self._ds, reference, options, **changes)

    def spin(self, options: XesOptions | None = None, /, *, high: xr.Dataset, low: xr.Dataset,
             metric: str = "iad", **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.spin` of this Dataset."""
        return api.spin(self._ds, options, high=high, low=low, metric=metric, **changes)

    def analyze(self, options: XesOptions | None = None, /, *,
                reference: xr.Dataset | xr.DataArray | None = None, **changes: Any) -> xr.Dataset:
        """:func:`spectro.xes.analyze` of this Dataset."""
        return api.analyze(self._ds, options, reference=reference, **changes)
