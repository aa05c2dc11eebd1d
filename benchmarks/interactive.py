"""Benchmark: one file at a time, as in a notebook, against xraylarch.

The inputs are the Ni K-edge XDI files of ``SPECTRO_DATA_DIR/xanes``.
For each file, one after the other in one process:

* spectro: ``spectro.read(path)`` then ``spectro.xanes.analyze(ds)`` with
  the default options (calibration on the reference channel when the file
  has one, normalization, E0 at 0.8, derivative and half-height E0,
  pre-edge fit and model-free centroid, feature C);
* xraylarch: ``read_xdi`` then ``pre_edge`` (normalization with
  ``find_e0``), mu taken as spectro takes it (see ``batch_files.py``).

``interactive_per_file_ms`` is the median over files of the best of
``--repeat`` runs per file (default 5); ``interactive_speedup_vs_larch``
the ratio of the larch figure to it. ``interactive_centroid_per_file_ms``
times the same with ``preedge="centroid"`` (no fitted pre-edge model);
``interactive_budget_per_file_ms`` with the uncertainty budget
(``spectro.xanes.budget`` instead of ``analyze``), and
``interactive_budget_speedup_vs_larch`` its ratio to larch.

``--profile FILE`` instead prints where the time of one file goes: the
functions of ``spectro.read`` + ``spectro.xanes.analyze`` (and of the same
with ``budget=True``) by their own and cumulative CPU time (cProfile, over
``--repeat`` runs after one to warm up).

Usage::

    SPECTRO_DATA_DIR=../shared/data python benchmarks/interactive.py [--json] [--repeat N]
    python benchmarks/interactive.py --profile ../shared/data/xanes/ceric_NiO_111.xdi [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from batch_files import MU_COLUMNS, input_files


def _best(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def spectro_file(path: Path, **options) -> None:
    """Read and analyse one file as a notebook user does."""
    import spectro

    spectro.xanes.analyze(spectro.read(path), **options)


def spectro_budget_file(path: Path) -> None:
    """Read one file and analyse it with the uncertainty budget."""
    import spectro

    spectro.xanes.budget(spectro.read(path))


def larch_file(path: Path) -> None:
    """read_xdi + pre_edge on one file."""
    from larch.io import read_xdi
    from larch.xafs import pre_edge

    group = read_xdi(str(path))
    mu = next((getattr(group, name) for name in MU_COLUMNS if hasattr(group, name)), None)
    if mu is None:
        mu = np.log(group.i0 / group.itrans)
    pre_edge(group.energy, mu, group=group)


def measure(root: Path, repeat: int = 5) -> dict[str, float]:
    """Median milliseconds per file of both, and their ratio."""
    files = input_files(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files[:2]:  # imports and caches
            spectro_file(path)
            larch_file(path)
        spectro_ms = [1e3 * _best(lambda: spectro_file(p), repeat) for p in files]
        centroid_ms = [1e3 * _best(lambda: spectro_file(p, preedge="centroid"), repeat) for p in files]
        budget_ms = [1e3 * _best(lambda: spectro_budget_file(p), repeat) for p in files]
        larch_ms = [1e3 * _best(lambda: larch_file(p), repeat) for p in files]
    spectro_median = float(np.median(spectro_ms))
    larch_median = float(np.median(larch_ms))
    return {
        "interactive_files": len(files),
        "interactive_per_file_ms": spectro_median,
        "interactive_centroid_per_file_ms": float(np.median(centroid_ms)),
        "interactive_larch_per_file_ms": larch_median,
        "interactive_speedup_vs_larch": larch_median / spectro_median,
        "interactive_budget_per_file_ms": float(np.median(budget_ms)),
        "interactive_budget_speedup_vs_larch": larch_median / float(np.median(budget_ms)),
    }


def profile(path: Path, repeat: int = 5, top: int = 25) -> None:
    """Print the cProfile of read + analyze of ``path``, without and with the budget."""
    import cProfile
    import pstats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, run in (("read + analyze", lambda: spectro_file(path)),
                           ("read + analyze(budget=True)", lambda: spectro_budget_file(path))):
            run()  # imports and caches
            prof = cProfile.Profile(timer=time.process_time)
            prof.enable()
            for _ in range(repeat):
                run()
            prof.disable()
            print(f"=== {label}: {path.name}, {repeat} runs ===")
            for key in ("cumulative", "tottime"):
                pstats.Stats(prof).sort_stats(key).print_stats(top)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs per file")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="print where the time of FILE goes instead")
    args = parser.parse_args(argv)
    if args.profile is not None:
        profile(args.profile, args.repeat)
        return 0
    root = os.environ.get("SPECTRO_DATA_DIR")
    if not root:
        parser.error("set SPECTRO_DATA_DIR to the folder of real spectra")
    result = measure(Path(root), args.repeat)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
