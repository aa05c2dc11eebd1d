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

from .anomaly import Breakpoint, find_anomaly, find_breakpoint
from .contraction import (
    ContractionResult,
    LineFit,
    SlopeComparison,
    bond_contraction,
    compare_slopes,
    edge_shift_vs_contraction,
    fit_line,
)
from .eos import EOS, EOSFit, fit_eos
from .gauges import (
    GaugeReading,
    diamond_raman_pressure,
    ruby_lambda0,
    ruby_pressure,
    ruby_wavelength,
)
from .ruby_fit import RubyFit, fit_ruby
from .series import Stability, assign_paths, preedge_stability, relative_series
from .structure import NIO, NIO_EOS, BondTable, EOSBond, read_bond_table

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
