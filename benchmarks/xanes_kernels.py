"""Benchmark: spectro's batched XANES kernels against an xraylarch loop.

Inputs: ``n`` simulated Ni K-edge spectra (:func:`spectro.simulate.xanes`,
valence 2-3, noise 0.005 of the step, 8200-8700 eV in 0.25 eV steps).

* xraylarch: for each spectrum, ``find_e0`` and ``pre_edge`` with the
  windows below (a Python loop, as larch works one group at a time);
* spectro: one call each of :func:`spectro.xanes.normalize_arrays` (E0 from
  the derivative maximum, same windows), :func:`spectro.xanes.e0_crossing_arrays`
  (E0 at 0.8 with its uncertainty) and
  :func:`spectro.xanes.preedge_centroid_arrays` (model-free pre-edge
  centroid, with the edge-tail baseline the analysis uses) on the whole
  (n, energy) array. ``spectro_seconds`` times the three calls;
  ``spectro_norm_e0_seconds`` the first two alone (normalization + E0),
  timed separately in the same run.

* rexafs (Rust core, from PyPI; the ``bench`` extra): for each spectrum,
  ``Spectrum.from_arrays``, a ``PrePostEdge`` normalization with the same
  windows and order, and ``normalize()`` with its automatic E0 (the
  derivative maximum on the grid): normalization + E0, one spectrum at a
  time, as its Python interface works. Skipped when rexafs is not
  installed.

Timings are the best of ``--repeat`` runs (default 3) of each side, in
one process, on whatever else the machine is doing.

Ratios: ``kernel_speedup_vs_larch`` is ``larch_seconds / spectro_seconds``:
larch's ``find_e0`` + ``pre_edge`` (normalization and E0) against spectro's
normalization, E0 crossing and model-free pre-edge centroid (the same
definition since it was introduced, so it compares with earlier runs).
``kernel_speedup_vs_rexafs`` is ``rexafs_seconds / spectro_norm_e0_seconds``:
the same work on both sides, normalization + E0 per spectrum (rexafs:
pre/post-edge normalization with its derivative-maximum E0; spectro:
:func:`~spectro.xanes.normalize_arrays`, whose E0 is the derivative
maximum, and :func:`~spectro.xanes.e0_crossing_arrays`, the 0.8 crossing
with its uncertainty), without the pre-edge centroid.

Agreement: ``max_abs_norm_diff`` is the largest difference of the
normalized spectra inside the windows; ``max_rel_edge_step_diff`` the
largest relative difference of the edge steps; ``max_abs_e0_diff_ev`` the largest
difference between the anchoring E0 (derivative maximum) and larch's
``find_e0``; ``max_abs_e08_diff_ev`` the largest difference between
spectro's 0.8 crossing and the same crossing taken on larch's normalized
spectrum (a check of the normalization where it matters for E0).
``max_abs_norm_diff_rexafs`` and ``max_rel_edge_step_diff_rexafs`` compare
rexafs's normalized spectra and edge steps (post-edge minus pre-edge
curve at its E0) the same way; its E0 is a grid point, so its windows
may start one grid step (0.25 eV) away from spectro's.

Usage::

    python benchmarks/xanes_kernels.py [--quick] [--json] [--n N]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

WINDOWS = {
    "pre1": -150.0,
    "pre2": -30.0,
    "norm1": 50.0,
    "norm2": 400.0,
    "nnorm": 2,
    "nvict": 0,
}
N_FULL = 2000
N_QUICK = 200


def spectra(n: int, seed: int = 0):
    """Simulated spectra: (energy, mu)."""
    import spectro

    ds = spectro.simulate.xanes(
        valence=np.linspace(2.0, 3.0, n), n_scans=n, noise=0.005, seed=seed
    )
    return ds.energy.values, ds.mu.values


def run_spectro(e: np.ndarray, mu: np.ndarray):
    """Seconds and results of the batched kernels."""
    from spectro.xanes import preedge_centroid_arrays
    from spectro.xanes._preedge import MODEL_FREE_BASELINE

    start = time.perf_counter()
    n, e0 = normalize_e0(e, mu)
    pre = preedge_centroid_arrays(e, n.norm, sigma=n.sigma, baseline=MODEL_FREE_BASELINE)
    return time.perf_counter() - start, n, e0, pre


def normalize_e0(e: np.ndarray, mu: np.ndarray):
    """spectro's normalization + E0 (the work of the rexafs loop): normalization and E0 crossing."""
    from spectro.xanes import e0_crossing_arrays, normalize_arrays

    n = normalize_arrays(e, mu, **WINDOWS)
    search = (float(np.nanmin(n.e0)) - 30.0, float(np.nanmax(n.e0)) + 40.0)
    e0 = e0_crossing_arrays(
        e, n.norm, sigma=n.sigma, level_err=n.level_err, search=search
    )
    return n, e0


def run_norm_e0(e: np.ndarray, mu: np.ndarray) -> float:
    """Seconds of spectro's normalization + E0 alone."""
    start = time.perf_counter()
    normalize_e0(e, mu)
    return time.perf_counter() - start


def run_larch(e: np.ndarray, mu: np.ndarray):
    """Seconds, E0, normalized spectra and edge steps of the xraylarch loop."""
    from larch import Group
    from larch.xafs import find_e0, pre_edge

    e0 = np.empty(mu.shape[0])
    step = np.empty(mu.shape[0])
    norm = np.empty_like(mu)
    start = time.perf_counter()
    for i in range(mu.shape[0]):
        group = Group()
        e0[i] = find_e0(e, mu[i])
        pre_edge(e, mu[i], group=group, e0=e0[i], **WINDOWS)
        norm[i] = group.norm
        step[i] = group.edge_step
    return time.perf_counter() - start, e0, norm, step


def run_rexafs(e: np.ndarray, mu: np.ndarray):
    """Seconds, E0, normalized spectra and edge steps of a rexafs loop (None without rexafs)."""
    try:
        import rexafs
    except ImportError:
        return None
    settings = rexafs.PrePostEdge(
        pre_edge_start=WINDOWS["pre1"], pre_edge_end=WINDOWS["pre2"], norm_start=WINDOWS["norm1"],
        norm_end=WINDOWS["norm2"], norm_polyorder=WINDOWS["nnorm"], n_victoreen=WINDOWS["nvict"],
    )
    e0 = np.empty(mu.shape[0])
    step = np.empty(mu.shape[0])
    norm = np.empty_like(mu)
    start = time.perf_counter()
    for i in range(mu.shape[0]):
        spectrum = rexafs.Spectrum.from_arrays(e, mu[i])
        spectrum.set_normalization_method(settings)
        spectrum.normalize()
        e0[i] = spectrum.e0()
        norm[i] = spectrum.norm()
    seconds = time.perf_counter() - start
    for i in range(mu.shape[0]):  # outside the timing: the curves at E0
        spectrum = rexafs.Spectrum.from_arrays(e, mu[i])
        spectrum.set_normalization_method(settings)
        spectrum.normalize()
        j = int(np.argmin(np.abs(e - e0[i])))
        step[i] = spectrum.post_edge()[j] - spectrum.pre_edge()[j]
    return seconds, e0, norm, step


def main(argv=None) -> dict:
    """Run the benchmark; print and return the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{N_QUICK} spectra instead of {N_FULL}"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--n", type=int, help="number of spectra")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timings are the best of this many runs"
    )
    args = parser.parse_args(argv)
    n = args.n or (N_QUICK if args.quick else N_FULL)
    from spectro.xanes import e0_crossing_arrays

    e, mu = spectra(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [run_spectro(e, mu) for _ in range(args.repeat)]
        t_spectro = min(r[0] for r in runs)
        t_norm_e0 = min(run_norm_e0(e, mu) for _ in range(args.repeat))
        _, norm, e0, pre = runs[-1]
        larch_runs = [run_larch(e, mu) for _ in range(args.repeat)]
        t_larch = min(r[0] for r in larch_runs)
        _, larch_e0, larch_norm, larch_step = larch_runs[-1]
        rexafs_runs = [run_rexafs(e, mu) for _ in range(args.repeat)]
    inside = (e[None, :] >= (norm.e0 + norm.pre1)[:, None]) & (
        e[None, :] <= (norm.e0 + norm.norm2)[:, None]
    )
    larch_e08 = e0_crossing_arrays(e, larch_norm).e0
    out = {
        "n_spectra": n,
        "n_points": int(e.size),
        "spectro_seconds": t_spectro,
        "spectro_norm_e0_seconds": t_norm_e0,
        "larch_seconds": t_larch,
        "kernel_speedup_vs_larch": t_larch / t_spectro,
        "max_abs_norm_diff": float(
            np.max(np.abs(np.where(inside, norm.norm - larch_norm, 0.0)))
        ),
        "max_rel_edge_step_diff": float(np.max(np.abs(norm.edge_step / larch_step - 1))),
        "max_abs_e0_diff_ev": float(np.max(np.abs(norm.e0 - larch_e0))),
        "max_abs_e08_diff_ev": float(np.max(np.abs(e0.e0 - larch_e08))),
        "median_e0_err_ev": float(np.median(e0.e0_err)),
        "median_preedge_centroid_ev": float(np.median(pre.centroid)),
    }
    if rexafs_runs[0] is not None:
        t_rexafs = min(r[0] for r in rexafs_runs)
        _, rexafs_e0, rexafs_norm, rexafs_step = rexafs_runs[-1]
        out.update({
            "rexafs_seconds": t_rexafs,
            "rexafs_ms_per_spectrum": 1e3 * t_rexafs / n,
            "spectro_ms_per_spectrum": 1e3 * t_spectro / n,
            "spectro_norm_e0_ms_per_spectrum": 1e3 * t_norm_e0 / n,
            "kernel_speedup_vs_rexafs": t_rexafs / t_norm_e0,
            "max_abs_norm_diff_rexafs": float(np.max(np.abs(np.where(inside, norm.norm - rexafs_norm, 0.0)))),
            "max_rel_edge_step_diff_rexafs": float(np.max(np.abs(norm.edge_step / rexafs_step - 1))),
            "max_abs_e0_diff_rexafs_ev": float(np.max(np.abs(norm.e0 - rexafs_e0))),
        })
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for key, value in out.items():
            print(
                f"{key:28s} {value:.6g}"
                if isinstance(value, float)
                else f"{key:28s} {value}"
            )
    return out


if __name__ == "__main__":
    main()
