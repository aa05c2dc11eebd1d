"""Kbeta XES analysis: Kbeta1,3 and Kbeta' spin metrics, valence-to-core, IAD.

Dataset functions (results along ``scan``, per-scan coordinates kept):
:func:`analyze`, :func:`normalize`, :func:`kbeta`, :func:`kbeta_fit`,
:func:`vtc`, :func:`iad`, :func:`spin`; the same as ``ds.xes.<name>()``.
NumPy kernels over ``(..., emission_energy)`` live in the submodules
(:mod:`~spectro.xes.background`, :mod:`~spectro.xes.kbeta`,
:mod:`~spectro.xes.vtc`, :mod:`~spectro.xes.iad`, :mod:`spectro.spin`,
:mod:`~spectro.xes.fit`); windows in :mod:`~spectro.xes.windows`; von Hamos
detector frames in :mod:`~spectro.xes.vonhamos`.

Examples
--------
>>> import spectro
>>> r = spectro.xes.analyze(spectro.simulate.xes(spin="low", seed=0))
>>> round(float(r.kb25_intensity[0]), 3)
0.03
"""

from . import accessor  # noqa: F401  (registers ds.xes)
from .api import analyze, iad, kbeta, kbeta_fit, normalize, spin, vtc
from .windows import Windows, line_energies, windows

__all__ = [
    "Windows",
    "analyze",
    "iad",
    "kbeta",
    "kbeta_fit",
    "line_energies",
    "normalize",
    "spin",
    "vtc",
    "windows",
]
