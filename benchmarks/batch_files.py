"""Benchmark: ``spectro batch`` over real files against an xraylarch loop.

The inputs are the Ni K-edge XDI files of ``SPECTRO_DATA_DIR/xanes``,
repeated (each repetition is a distinct input with its own ``run`` label in
a manifest) to ``n`` inputs. xraylarch: ``read_xdi`` and ``pre_edge``
(normalization with ``find_e0``) for each file in a loop, mu taken as
spectro takes it: the file's mu column, the first of ``mutrans``, ``mu``,
``xmu`` (spectro's order; the NSLS-II BMM files give ``xmu``), else
``ln(i0 / itrans)``. spectro: :func:`spectro.batch.run_batch`
with the default chain (read, calibration on the reference channel,
normalization, E0 at 0.8, derivative and half-height E0, pre-edge fit and
model-free centroid, feature C), records and combined NetCDF/CSV outputs,
in this process and on a local dask cluster of ``workers`` processes (the
cluster's start-up and a first batch of two chunks per worker, which loads
the modules and fills the caches of every process, are not counted; the
start-up is reported). Each side runs ``ROUNDS`` times, alternated, and
its fastest run is compared. The ``files_centroid_*``
keys time the same batch with ``preedge="centroid"`` (the model-free pre-edge
centroid instead of one lmfit fit per spectrum; larch fits no pre-edge peak).

The repeated inputs share their files' energy grids, so the kernel runs once
per grid for many inputs. The ``files_own_grid_*`` keys time the other end:
each file once (every input on a grid of its own, as files whose energies
are read back from the encoder are), in this process, against the larch
loop over the same files; the best of ``REPEATS`` runs each.

Usage::

    SPECTRO_DATA_DIR=../shared/data python benchmarks/batch_files.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

N_INPUTS = 480
N_QUICK = 48


def input_files(root: Path) -> list[Path]:
    """The Ni K-edge XDI files the comparison runs on."""
    return sorted((root / "xanes").glob("*.xdi"))


#: Columns that already hold mu, in the order spectro prefers them (spectro.io.channels).
MU_COLUMNS = ("mutrans", "mu", "xmu")


def larch_loop(files: list[Path]) -> float:
    """Seconds for xraylarch read_xdi + pre_edge over ``files``."""
    from larch.io import read_xdi
    from larch.xafs import pre_edge

    start = time.perf_counter()
    for path in files:
        group = read_xdi(str(path))
        mu = next((getattr(group, name) for name in MU_COLUMNS if hasattr(group, name)), None)
        if mu is None:
            mu = np.log(group.i0 / group.itrans)
        pre_edge(group.energy, mu, group=group)
    return time.perf_counter() - start


def spectro_batch(files: list[Path], workers: int, xanes: dict | None = None) -> tuple[float, float, int]:
    """(seconds, cluster start-up seconds, inputs that succeeded) for run_batch."""
    from spectro.batch import expand_inputs, run_batch
    from spectro.batch.cluster import dask_client
    from spectro.batch.runner import CHUNK_SIZE
    from spectro.options import AnalysisOptions, XanesOptions

    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.csv"
        rows = [f"{path},{i}" for i, path in enumerate(files)]
        manifest.write_text("file,run\n" + "\n".join(rows) + "\n")
        jobs = expand_inputs([manifest])
        options = AnalysisOptions(xanes=XanesOptions(**(xanes or {})), valence=None)
        start = time.perf_counter()
        with dask_client(workers=workers) as client:
            executor = None if client is None else client.get_executor(pure=False)
            slots = None if client is None else sum(client.nthreads().values())  # as `spectro batch` does
            warm = jobs[: 2 * max(workers, 1) * CHUNK_SIZE]
            run_batch(warm, Path(tmp) / "warm", executor=executor, workers=slots, options=options)
            ready = time.perf_counter()
            summary = run_batch(jobs, Path(tmp) / "out", executor=executor, workers=slots, options=options)
            seconds = time.perf_counter() - ready
    return seconds, ready - start, summary.n_succeeded


#: Runs of the own-grid batch and its larch loop (few inputs: the best of several).
REPEATS = 5


def own_grids(root: Path) -> dict[str, float]:
    """Each file once, one process: milliseconds per input of both, and their ratio."""
    files = input_files(root)
    warnings.simplefilter("ignore")
    larch_loop(files[:2])
    larch_s = min(larch_loop(files) for _ in range(REPEATS))
    spectro_s = min(spectro_batch(files, 1)[0] for _ in range(REPEATS))
    return {
        "files_own_grid_n": len(files),
        "files_own_grid_larch_ms": 1e3 * larch_s / len(files),
        "files_own_grid_spectro_ms": 1e3 * spectro_s / len(files),
        "files_own_grid_speedup_vs_larch": larch_s / spectro_s,
    }


#: Runs of each side of the repeated-input comparison, alternated: one run of the larch loop moved by a third
#: (123 to 165 files/s) from one run of this script to the next; the best of each side is compared.
ROUNDS = 3


def _best(runs: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    """(fastest seconds, start-up of the first run, fewest inputs that succeeded) of spectro_batch runs."""
    return min(r[0] for r in runs), runs[0][1], min(r[2] for r in runs)


def measure(root: Path, n: int, workers: int, rounds: int = ROUNDS) -> dict[str, float]:
    """Files per second of both (the best of ``rounds`` alternated runs each), and their ratios."""
    base = input_files(root)
    files = [base[i % len(base)] for i in range(n)]
    warnings.simplefilter("ignore")
    larch_loop(base[:2])
    centroid = {"preedge": "centroid"}
    larch, serial, parallel, c_serial, c_parallel = [], [], [], [], []
    for _ in range(rounds):
        larch.append(larch_loop(files))
        serial.append(spectro_batch(files, 1))
        parallel.append(spectro_batch(files, workers))
        c_serial.append(spectro_batch(files, 1, centroid))
        c_parallel.append(spectro_batch(files, workers, centroid))
    larch_s = min(larch)
    serial_s, _, ok_serial = _best(serial)
    parallel_s, startup_s, ok_parallel = _best(parallel)
    centroid_serial_s, _, ok_c_serial = _best(c_serial)
    centroid_s, _, ok_c = _best(c_parallel)
    return {
        "files_n": n,
        "files_workers": workers,
        "files_larch_per_s": n / larch_s,
        "files_spectro_serial_per_s": n / serial_s,
        "files_spectro_per_s": n / parallel_s,
        "files_cluster_startup_s": startup_s,
        "files_succeeded": min(ok_serial, ok_parallel),
        "files_speedup_vs_larch_serial": larch_s / serial_s,
        "files_speedup_vs_larch": larch_s / parallel_s,
        "files_centroid_serial_per_s": n / centroid_serial_s,
        "files_centroid_per_s": n / centroid_s,
        "files_centroid_succeeded": min(ok_c_serial, ok_c),
        "files_centroid_speedup_vs_larch": larch_s / centroid_s,
        **own_grids(root),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{N_QUICK} inputs instead of {N_INPUTS}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = os.environ.get("SPECTRO_DATA_DIR")
    if not root:
        parser.error("set SPECTRO_DATA_DIR to the folder of real spectra")
    result = measure(Path(root), N_QUICK if args.quick else N_INPUTS, args.workers)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
