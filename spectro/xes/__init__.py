"""Kbeta XES analysis: Kbeta1,3 and Kbeta' spin metrics, valence-to-core, IAD.

Dataset functions (results along ``scan``, per-scan coordinates kept):
:func:`analyze`, :func:`normalize`, :func:`kbeta`, :func:`kbeta_fit`,
:func:`vtc`, :func:`iad`, :func:`spin`; the same as ``ds.xes.<name>()``.
Energy windows: :func:`windows`, :class:`Windows`, :func:`line_energies`,
:data:`KB_PRIME_OFFSET`. NumPy kernels over ``(..., emission_energy)``:
:mod:`~spectro.xes.background` and :mod:`~spectro.xes.fit` (those of the
Kbeta, valence-to-core and IAD metrics are private to this package, behind
the functions of the same name); von Hamos detector frames in
:mod:`~spectro.xes.vonhamos`.

Examples
--------
>>> import spectro
>>> r = spectro.xes.analyze(spectro.simulate.xes(spin="low", seed=0))
>>> round(float(r.kb25_intensity[0]), 3)
0.03
"""

from . import accessor  # noqa: F401  (registers ds.xes)
from ._windows import KB_PRIME_OFFSET, Windows, line_energies, windows
from .api import analyze, iad, kbeta, kbeta_fit, normalize, spin, vtc

__all__ = [
    "KB_PRIME_OFFSET",
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
