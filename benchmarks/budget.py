"""Cost of the uncertainty budget: budget time / plain analysis time, one spectrum and a batch.

``budget_cost_ratio`` (one real spectrum, ESRF BM08 NiO with its foil) and
``budget_cost_ratio_batch`` (the 12 scans of NSLS X23A2 NiO, ``larch_NiO.prj``,
in one call): the best of several runs of :func:`spectro.xanes.budget_arrays`
over the best of as many runs of :func:`spectro.xanes.analyze_arrays` on the
same arrays, with the default options (pre-edge fitted). Target: <= 10.

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
    return out


if __name__ == "__main__":
    print(json.dumps(measure(Path(os.environ["SPECTRO_DATA_DIR"])), indent=1))
    sys.exit(0)
