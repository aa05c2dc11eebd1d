"""Benchmark: the default XANES chain (pre-edge ``fit``) on many spectra in one call.

Inputs: ``n`` simulated Ni K-edge spectra (:func:`spectro.simulate.xanes`,
valence 2-3, noise 0.003 of the step, the simulator's default grid), stacked
into one ``(n, energy)`` array.

Timed: one call of :func:`spectro.xanes.analyze_arrays` with
``preedge="fit"`` (the default) and one with ``preedge="centroid"`` on the
whole array (best of ``--repeat`` runs, default 3); the difference is the
cost of the pre-edge fit. Printed per spectrum, in ms. Also one call per
spectrum (``single_*``: the first 20 spectra one at a time, as a batch of
one-scan files runs), the mean per call.

Usage::

    python benchmarks/preedge_fit.py [--n N] [--repeat R] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np


def main() -> None:
    import spectro

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ds = spectro.simulate.xanes(valence=np.linspace(2.0, 3.0, args.n), n_scans=args.n, noise=0.003, seed=0)
    energy, mu = ds.energy.values, ds.mu.values
    out = {"n": args.n}
    for method in ("fit", "centroid"):
        best = np.inf
        for _ in range(args.repeat):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                spectro.xanes.analyze_arrays(energy, mu, preedge=method, spectra=False)
                best = min(best, time.perf_counter() - start)
        out[f"{method}_ms_per_spectrum"] = 1e3 * best / args.n
    out["preedge_fit_ms_per_spectrum"] = out["fit_ms_per_spectrum"] - out["centroid_ms_per_spectrum"]
    for method in ("fit", "centroid"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for i in range(20):
                spectro.xanes.analyze_arrays(energy, mu[i : i + 1], preedge=method, spectra=False)
            out[f"single_{method}_ms_per_call"] = 1e3 * (time.perf_counter() - start) / 20
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
