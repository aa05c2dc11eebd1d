"""Cost of the uncertainty budget: budget time / plain analysis time, one spectrum and a batch.

``budget_cost_ratio`` (one real spectrum, ESRF BM08 NiO with its foil) and
``budget_cost_ratio_batch`` (the 12 scans of NSLS X23A2 NiO, ``larch_NiO.prj``,
in one call): the best of several runs of :func:`spectro.xanes.budget_arrays`
over the best of as many runs of :func:`spectro.xanes.analyze_arrays` on the
same arrays, with the default options (pre-edge fitted). Target: <= 10.
``xes_budget_cost_ratio``: the same for the Kbeta budget
(:func:`spectro.xes._budget.budget_arrays` over
:func:`spectro.xes.analyze_arrays`) on the Diamond I20 Mn2O3 spectrum.

Usage::

    SPECTRO_DATA_DIR=../shared/data python benchmarks/budget.py
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import spectro
from spectro.xanes import analyze_arrays, budget_arrays
from spectro.xes import analyze_arrays as xes_analyze_arrays
from spectro.xes._budget import budget_arrays as xes_budget_arrays


def _best(func, repeat: int) -> float:
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(root: Path, repeat: int = 5) -> dict[str, float]:
    """The two ratios and the times they come from (seconds)."""
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, name in (("", "xanes/ceric_NiO_111.xdi"), ("_batch", "xanes/larch_NiO.prj")):
            ds = spectro.read(root / name)
            e, mu, ref = ds.energy.values, ds.mu.values, ds.mu_ref.values
            plain = _best(lambda: analyze_arrays(e, mu, ref), repeat)
            full = _best(lambda: budget_arrays(e, mu, ref), repeat)
            out[f"budget_cost_ratio{key}"] = round(full / plain, 2)
            out[f"budget_seconds{key}"] = round(full, 4)
            out[f"plain_seconds{key}"] = round(plain, 4)
        ds = spectro.read(root / "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat")
        e, y = ds.emission_energy.values, ds.intensity.values
        plain = _best(lambda: xes_analyze_arrays(e, y), repeat)
        full = _best(lambda: xes_budget_arrays(e, y), repeat)
        out["xes_budget_cost_ratio"] = round(full / plain, 2)
        out["xes_budget_seconds"] = round(full, 4)
        out["xes_plain_seconds"] = round(plain, 4)
    return out


if __name__ == "__main__":
    print(json.dumps(measure(Path(os.environ["SPECTRO_DATA_DIR"])), indent=1))
    sys.exit(0)
