"""Deterministic simulated spectra with known ground truth.

Every generator takes a ``seed`` and returns a model Dataset whose
``truth_*`` attrs (or variables) hold the parameters it was built from, so
tests, the demo and the benchmarks can compare what spectro recovers with
what went in.
"""
from .xanes import xanes
from .series import pressure_series
from .xes import xes
from .beamtime import beamtime
