"""Kbeta XES analysis: Kbeta1,3 and Kbeta' spin metrics, valence-to-core, IAD.

One kernel, :func:`analyze_arrays` (arrays in, a frozen :class:`XesResult`
out, with per-scan :class:`XesFlag` bits saying what could not be
determined), and Dataset functions that run it through
:func:`xarray.apply_ufunc` for NumPy and dask alike (results along
``scan``, per-scan coordinates kept): :func:`analyze`, :func:`normalize`,
:func:`kbeta`, :func:`kbeta_fit`, :func:`vtc`, :func:`iad`, :func:`spin`;
the same as ``ds.xes.<name>()``. Each takes an
:class:`~spectro.options.XesOptions` and keyword changes to it. Energy
windows: :func:`windows`, :func:`windows_of`, :class:`Windows`,
:func:`line_energies`, :data:`KB_PRIME_OFFSET`; the element the spectra
show: :func:`element_of` (:class:`ElementMismatchError` when a given one
contradicts them). NumPy kernels over
``(..., emission_energy)``: :mod:`~spectro.xes.background` and
:mod:`~spectro.xes.fit` (those of the Kbeta, valence-to-core and IAD
metrics are private to this package, behind :func:`analyze_arrays`); von
Hamos detector frames in :mod:`~spectro.xes.vonhamos`.

Examples
--------
>>> import spectro
>>> r = spectro.xes.analyze(spectro.simulate.xes(spin="low", seed=0))
>>> round(float(r.kb25_intensity[0]), 3)
0.03
"""

from . import accessor  # noqa: F401  (registers ds.xes)
from ._analyze import RESULTS, XesResult, analyze_arrays, flagged, result_attrs
from ._element import ElementMismatchError, element_of
from ._flags import XesFlag
from ._windows import KB_PRIME_OFFSET, Windows, line_energies, windows, windows_of
from .api import IAD_WINDOW_STEP, analyze, budget, iad, kbeta, kbeta_fit, normalize, spin, spin_errors, vtc

__all__ = [
    "ElementMismatchError",
    "IAD_WINDOW_STEP",
    "KB_PRIME_OFFSET",
    "RESULTS",
    "Windows",
    "XesFlag",
    "XesResult",
    "analyze",
    "analyze_arrays",
    "budget",
    "element_of",
    "flagged",
    "iad",
    "kbeta",
    "kbeta_fit",
    "line_energies",
    "normalize",
    "result_attrs",
    "spin",
    "spin_errors",
    "vtc",
    "windows",
    "windows_of",
]
