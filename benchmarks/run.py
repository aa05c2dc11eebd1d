"""Run spectro's benchmarks and print one table (or JSON) with the machine.

Keys (the targets are benchmarks, not tests):

``kernel_speedup_vs_larch``, ``max_abs_norm_diff``, ``max_abs_e0_diff_ev``
    spectro's normalization + E0 + pre-edge centroid kernels against an
    xraylarch ``pre_edge`` + ``find_e0`` loop on the same spectra and
    windows, and their agreement (``benchmarks/xanes_kernels.py``).
    Target: >= 100x with equal results.
``kernel_speedup_vs_rexafs``, ``max_abs_norm_diff_rexafs``, ``max_rel_edge_step_diff_rexafs``
    The same work on both sides: spectro's normalization + E0 kernels
    (``normalize_arrays`` + ``e0_crossing_arrays``, timed apart from the
    pre-edge centroid) against a rexafs loop (Rust core; normalization with
    its automatic E0, the same windows and order) on the same spectra
    (``benchmarks/xanes_kernels.py``; needs the ``bench`` extra).
    Target: >= 10x with normalized spectra within 0.5 % of the edge step.
``interactive_per_file_ms``, ``interactive_speedup_vs_larch``
    ``spectro.read`` + ``spectro.xanes.analyze`` (default options) one
    file at a time, against xraylarch ``read_xdi`` + ``pre_edge``
    (``benchmarks/interactive.py``). Target: >= 3x; with the uncertainty
    budget (``interactive_budget_*``) no slower than larch.
``files_speedup_vs_larch``, ``files_centroid_speedup_vs_larch``
    Files per second of ``spectro batch`` over real XDI files on a local
    cluster against an xraylarch ``read_xdi`` + ``pre_edge`` loop
    (``benchmarks/batch_files.py``). Target: >= 5x. The first key times
    the default chain, which also fits a pre-edge model with lmfit to
    every spectrum (larch fits none); the second the same batch with the
    model-free pre-edge centroid, the work of the kernel key (like for
    like). The inputs repeat the files, so many share an energy grid and
    its kernel call; ``files_own_grid_speedup_vs_larch`` times each file
    once, every input on a grid of its own (one process), the same target.
``cube_spectra_per_s``, ``cube_peak_rss_mb``
    A 10^6-spectrum, 200-point map (10^4 with ``--quick``) through
    normalization + E0 + pre-edge centroid with dask, in a subprocess whose
    peak resident memory is measured (``benchmarks/cube.py``).
    Target: 10^6 spectra in <= 60 s on 2 cores, <= 2 GB (checked on the
    full run only).
``budget_cost_ratio``, ``budget_cost_ratio_batch``, ``xes_budget_cost_ratio``
    Time of the uncertainty budget (``spectro.xanes.budget_arrays``) over
    that of the plain analysis on the same arrays, for one real spectrum and
    for the 12 scans of one file, and of the Kbeta budget for one real Mn
    spectrum (``benchmarks/budget.py``). Target: <= 10.
``cli_help_seconds``, ``import_seconds``
    Wall time of a new process running ``python -m spectro --help`` and
    ``python -c "import spectro"`` (median of 5 runs, the interpreter's own
    start-up included). Targets: <= 0.3 s and <= 0.8 s.

Usage::

    SPECTRO_DATA_DIR=../shared/data python benchmarks/run.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import batch_files
import budget
import interactive
import xanes_kernels

TARGETS = {
    "kernel_speedup_vs_larch": (">=", 100.0),
    "kernel_speedup_vs_rexafs": (">=", 10.0),
    "max_abs_norm_diff_rexafs": ("<=", 0.005),
    "interactive_speedup_vs_larch": (">=", 3.0),
    "interactive_budget_speedup_vs_larch": (">=", 1.0),
    "files_speedup_vs_larch": (">=", 5.0),
    "files_centroid_speedup_vs_larch": (">=", 5.0),
    "files_own_grid_speedup_vs_larch": (">=", 5.0),
    "cube_seconds": ("<=", 60.0),
    "cube_peak_rss_mb": ("<=", 2048.0),
    "budget_cost_ratio": ("<=", 10.0),
    "budget_cost_ratio_batch": ("<=", 10.0),
    "xes_budget_cost_ratio": ("<=", 10.0),
    "cli_help_seconds": ("<=", 0.3),
    "import_seconds": ("<=", 0.8),
}
_LIBRARIES = ("numpy", "scipy", "xarray", "dask", "distributed", "lmfit", "netCDF4", "h5netcdf", "xraylarch",
              "rexafs")


def machine() -> dict[str, object]:
    """CPUs, CPU model, memory, Python and library versions."""
    import psutil

    model = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    info: dict[str, object] = {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model or platform.processor(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }
    for name in ("spectro",) + _LIBRARIES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return info


def cube(quick: bool, workers: int, env: dict[str, str]) -> dict[str, float]:
    """Run benchmarks/cube.py in its own process (its peak RSS is its own).

    ``env`` is the environment this script started with: a local dask
    cluster sets variables in the process that starts it (e.g.
    ``MALLOC_TRIM_THRESHOLD_``), which a child would otherwise inherit.
    """
    side = 100 if quick else 1000
    out = subprocess.run(
        [sys.executable, str(HERE / "cube.py"), "--ny", str(side), "--nx", str(side),
         "--workers", str(workers), "--json"],
        check=True, capture_output=True, text=True, env=env,
    )
    return json.loads(out.stdout)


def startup(runs: int = 5) -> dict[str, float]:
    """Median wall time of a new process printing ``spectro --help`` and importing spectro, s."""
    import statistics
    import time

    def median_seconds(*args: str) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, *args], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return {"cli_help_seconds": median_seconds("-m", "spectro", "--help"),
            "import_seconds": median_seconds("-c", "import spectro")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--workers", type=int, default=2, help="workers for the batch and the cube (default 2)")
    args = parser.parse_args(argv)
    root = os.environ.get("SPECTRO_DATA_DIR")
    if not root:
        parser.error("set SPECTRO_DATA_DIR to the folder of real spectra")
    env = dict(os.environ)
    results: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        results.update(xanes_kernels.main(["--quick"] if args.quick else []))
    results.update(interactive.measure(Path(root)))
    results.update(batch_files.measure(Path(root), batch_files.N_QUICK if args.quick else batch_files.N_INPUTS,
                                       args.workers))
    results.update(cube(args.quick, args.workers, env))
    results.update(budget.measure(Path(root), 2 if args.quick else 5))
    results.update(startup())
    results["quick"] = args.quick
    results["machine"] = machine()
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print(f"{'key':34s} {'value':>14s}  target")
    for key, value in results.items():
        if key == "machine":
            continue
        target = TARGETS.get(key)
        mark = ""
        if key.startswith("cube_") and args.quick:
            target = None
        if target and isinstance(value, (int, float)):
            op, limit = target
            met = value >= limit if op == ">=" else value <= limit
            mark = f"{op} {limit:g} ({'met' if met else 'NOT met'})"
        shown = f"{value:14.4g}" if isinstance(value, float) else f"{value!s:>14s}"
        print(f"{key:34s} {shown}  {mark}")
    print("machine: " + ", ".join(f"{k}={v}" for k, v in results["machine"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
