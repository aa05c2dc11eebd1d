"""Ni K-edge XANES analysis: normalization, edge position, pre-edge, calibration.

Kernels (``*_arrays``) work on NumPy arrays shaped ``(..., energy)`` with
NaN meaning "no point"; the Dataset functions wrap them with
``xarray.apply_ufunc`` (dask-ready); ``ds.xanes.<function>()`` is the
accessor. See ``docs/xanes.md`` for every definition.
"""

from . import accessor
from ._budget import BudgetFlag, BudgetResult, budget, budget_arrays
from ._analyze import RESULTS, XanesFlag, XanesResult, analyze_arrays, flagged, result_attrs
from ._dataset import CALL_BYTES, analyze
from ._derivative import Derivatives, derivative, derivative_arrays
from .edge import E0_LEVEL, EdgePosition, e0_crossing_arrays, e0_crossings, e0_derivative_arrays
from .energy_calibration import (
    Calibration,
    align,
    align_arrays,
    calibrate_energy,
    calibration_arrays,
    calibration_shifts,
    calibration_spread,
    reference_foil,
    shift_energy,
    tabulated_edge,
)
from .features import FEATURE_C_ENERGY, FeatureIntensity, feature_intensity_arrays
from .glitch import Glitches, find_glitches, find_glitches_arrays, remove_glitches
from ._merge import merge, merge_arrays
from ._normalize import DEFAULT_WINDOWS, Normalization, normalize, normalize_arrays
from ._preedge import (
    PreedgeCentroid,
    PreedgeFit,
    preedge,
    preedge_centroid_arrays,
    preedge_fit_arrays,
)

__all__ = [
    "CALL_BYTES",
    "DEFAULT_WINDOWS",
    "E0_LEVEL",
    "FEATURE_C_ENERGY",
    "RESULTS",
    "Calibration",
    "Derivatives",
    "EdgePosition",
    "FeatureIntensity",
    "Glitches",
    "Normalization",
    "PreedgeCentroid",
    "PreedgeFit",
    "XanesFlag",
    "XanesResult",
    "accessor",
    "BudgetFlag",
    "BudgetResult",
    "align",
    "align_arrays",
    "analyze",
    "analyze_arrays",
    "budget",
    "budget_arrays",
    "calibrate_energy",
    "calibration_arrays",
    "calibration_shifts",
    "calibration_spread",
    "derivative",
    "derivative_arrays",
    "e0_crossing_arrays",
    "e0_crossings",
    "e0_derivative_arrays",
    "feature_intensity_arrays",
    "flagged",
    "find_glitches",
    "find_glitches_arrays",
    "merge",
    "merge_arrays",
    "normalize",
    "normalize_arrays",
    "preedge",
    "preedge_centroid_arrays",
    "preedge_fit_arrays",
    "reference_foil",
    "remove_glitches",
    "result_attrs",
    "shift_energy",
    "tabulated_edge",
]
