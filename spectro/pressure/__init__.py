"""Pressure series: edge shift against Ni-O contraction, equations of state, gauges.

* :mod:`~spectro.pressure.series`: shifts of E0, pre-edge centroid and
  feature C along each run's pressure or temperature path;
* :mod:`~spectro.pressure.eos` and :mod:`~spectro.pressure.structure`:
  Birch-Murnaghan and Vinet equations of state, Ni-O distance from an
  equation of state or a table;
* :mod:`~spectro.pressure.contraction`: slopes dE0/d(Ni-O) of sample and
  NiO, their difference and a verdict;
* :mod:`~spectro.pressure.anomaly`: a kink in E0(P);
* :mod:`~spectro.pressure.gauges` and :mod:`~spectro.pressure.ruby_fit`:
  ruby and diamond-Raman pressure.
"""

from .. import _lazy

#: Public names and their modules, imported on first use (the gauges do not load SciPy's statistics).
_SOURCES = {
    "BondTable": "structure",
    "Breakpoint": "anomaly",
    "ContractionResult": "contraction",
    "EOS": "eos",
    "EOSBond": "structure",
    "EOSFit": "eos",
    "GaugeReading": "gauges",
    "LineFit": "contraction",
    "NIO": "structure",
    "NIO_EOS": "structure",
    "RubyFit": "ruby_fit",
    "SlopeComparison": "contraction",
    "Stability": "series",
    "assign_paths": "series",
    "bond_contraction": "contraction",
    "compare_slopes": "contraction",
    "diamond_raman_pressure": "gauges",
    "edge_shift_vs_contraction": "contraction",
    "find_anomaly": "anomaly",
    "find_breakpoint": "anomaly",
    "fit_eos": "eos",
    "fit_line": "contraction",
    "fit_ruby": "ruby_fit",
    "preedge_stability": "series",
    "read_bond_table": "structure",
    "relative_series": "series",
    "ruby_lambda0": "gauges",
    "ruby_pressure": "gauges",
    "ruby_wavelength": "gauges",
}

__all__ = [
    "EOS",
    "NIO",
    "NIO_EOS",
    "BondTable",
    "Breakpoint",
    "ContractionResult",
    "EOSBond",
    "EOSFit",
    "GaugeReading",
    "LineFit",
    "RubyFit",
    "SlopeComparison",
    "Stability",
    "assign_paths",
    "bond_contraction",
    "compare_slopes",
    "diamond_raman_pressure",
    "edge_shift_vs_contraction",
    "find_anomaly",
    "find_breakpoint",
    "fit_eos",
    "fit_line",
    "fit_ruby",
    "preedge_stability",
    "read_bond_table",
    "relative_series",
    "ruby_lambda0",
    "ruby_pressure",
    "ruby_wavelength",
]


__getattr__, __dir__ = _lazy.attributes(__name__, _SOURCES, __all__)
