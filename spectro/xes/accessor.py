"""The ``ds.xes`` accessor: one-line shells over :mod:`spectro.xes.api`.

Examples
--------
>>> import spectro
>>> ds = spectro.simulate.xes(spin="high", seed=0)
>>> float(ds.xes.kbeta().kb13_energy[0]) == float(spectro.xes.kbeta(ds).kb13_energy[0])
True
"""

from __future__ import annotations

import xarray as xr

from . import api

__all__ = ["XesAccessor"]


@xr.register_dataset_accessor("xes")
class XesAccessor:
    """Kbeta XES analysis of an XES Dataset (``ds.xes.<function>(...)``)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def normalize(self, **options) -> xr.Dataset:
        """:func:`spectro.xes.normalize` of this Dataset."""
        return api.normalize(self._ds, **options)

    def kbeta(self, **options) -> xr.Dataset:
        """:func:`spectro.xes.kbeta` of this Dataset."""
        return api.kbeta(self._ds, **options)

    def kbeta_fit(self, **options) -> xr.Dataset:
        """:func:`spectro.xes.kbeta_fit` of this Dataset."""
        return api.kbeta_fit(self._ds, **options)

    def vtc(self, **options) -> xr.Dataset:
        """:func:`spectro.xes.vtc` of this Dataset."""
        return api.vtc(self._ds, **options)

    def iad(self, reference, **options) -> xr.Dataset:
        """:func:`spectro.xes.iad` of this Dataset against ``reference``."""
        return api.iad(self._ds, reference, **options)

    def spin(self, **options) -> xr.Dataset:
        """:func:`spectro.xes.spin` of this Dataset."""
        return api.spin(self._ds, **options)

    def analyze(self, **options) -> xr.Dataset:
        """:func:`spectro.xes.analyze` of this Dataset."""
        return api.analyze(self._ds, **options)
