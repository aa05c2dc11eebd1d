"""Deterministic simulated spectra with known ground truth.

Every generator takes a ``seed`` and returns a model Dataset whose
``true_*`` per-scan coordinates hold what it was built from, so tests, the
demo and the benchmarks can compare what spectro recovers with what went in.

- :func:`xanes`: Ni K-edge XANES (valence, structural shift, pre-edge,
  feature C, noise, glitches, reference foil, miscalibration; optionally
  end-member mixtures, self-absorption, drift, correlated and counting
  noise, realistic and ambiguous foils);
- :func:`xes`: Kbeta XES of any 3d metal (spin, Kbeta2,5 shift and scale);
- :func:`pressure_series`: La3Ni2O7-like and NiO compression and cooling runs;
- :func:`pressure_results`: the same campaign as analysis results (E0,
  pre-edge centroid with stated errors), without spectra;
- :func:`beamtime`: a whole simulated beamtime, as the demo processes it;
- :func:`realistic_xanes`, :func:`realistic_xes`: many scans with a
  beamtime's systematics drawn from documented distributions, in sessions
  with their references (what the coverage of the errors is measured on).
"""

from .. import _lazy

#: Public names and their modules, imported on first use (``spectro.simulate.xes`` does not load xraydb).
_SOURCES = {
    "beamtime": "_beamtime",
    "pressure_results": "series",
    "pressure_series": "series",
    "realistic_xanes": "_realistic",
    "realistic_xes": "_realistic",
    "xanes": "_xanes",
    "xes": "_xes",
}

__all__ = ["beamtime", "pressure_results", "pressure_series", "realistic_xanes", "realistic_xes", "xanes", "xes"]


__getattr__, __dir__ = _lazy.attributes(__name__, _SOURCES, __all__)
