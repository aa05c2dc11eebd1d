"""The ``ds.xanes`` accessor: one-line shells over the XANES functions.

Examples
--------
>>> import spectro
>>> ds = spectro.simulate.xanes(seed=0)
>>> ds.xanes.analyze().e0.dims
('scan',)
"""

from __future__ import annotations

import xarray as xr

from ._dataset import analyze
from ._derivative import derivative
from .energy_calibration import align, calibrate_energy
from .glitch import find_glitches, remove_glitches
from ._merge import merge
from ._normalize import normalize
from ._preedge import preedge

__all__ = ["XanesAccessor"]


@xr.register_dataset_accessor("xanes")
class XanesAccessor:
    """XANES analysis of a Dataset (``ds.xanes.<function>(**options)``)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def analyze(self, *options, **changes) -> xr.Dataset:
        """:func:`spectro.xanes.analyze`."""
        return analyze(self._ds, *options, **changes)

    def normalize(self, *options, **changes) -> xr.Dataset:
        """:func:`spectro.xanes.normalize`."""
        return normalize(self._ds, *options, **changes)

    def derivative(self, **options) -> xr.Dataset:
        """:func:`spectro.xanes.derivative`."""
        return derivative(self._ds, **options)

    def preedge(self, *options, **changes) -> xr.Dataset:
        """:func:`spectro.xanes.preedge` (on ``norm``: call on a normalized Dataset)."""
        return preedge(self._ds, *options, **changes)

    def calibrate_energy(self, **options) -> xr.Dataset:
        """:func:`spectro.xanes.calibrate_energy`."""
        return calibrate_energy(self._ds, **options)

    def align(self, **options) -> xr.Dataset:
        """:func:`spectro.xanes.align`."""
        return align(self._ds, **options)

    def merge(self, **options) -> xr.Dataset:
        """:func:`spectro.xanes.merge`."""
        return merge(self._ds, **options)

    def find_glitches(self, **options) -> xr.DataArray:
        """:func:`spectro.xanes.find_glitches`."""
        return find_glitches(self._ds, **options)

    def remove_glitches(self, **options) -> xr.Dataset:
        """:func:`spectro.xanes.remove_glitches`."""
        return remove_glitches(self._ds, **options)
