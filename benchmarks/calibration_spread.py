"""Measurement: how much the calibration shift of real reference foils moves between conventions and smoothings.

Inputs: every scan with a reference-foil channel (``mu_ref``) among the
Ni K-edge files of ``$SPECTRO_DATA_DIR/xanes`` (read with
:func:`spectro.read`, default options).

For each scan, :func:`spectro.xanes.calibration_shifts` gives the shift
under the four foil-edge conventions (``derivative``, ``inflection``,
``half``, ``xcorr``) at the smoothings 0.6, 1.5 and 4.0 eV (``half`` once),
and :func:`spectro.xanes.calibration_spread` their standard deviation. The
table shows, per scan, the default shift, the range (max - min) and the
spread, then the range of each column's difference to the default shift
over all scans, and the ``ambiguous`` flag of the default convention.

Usage::

    SPECTRO_DATA_DIR=../shared/data python benchmarks/calibration_spread.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np

import spectro
from spectro.xanes import calibration_arrays, calibration_shifts, calibration_spread


def measure(data_dir: Path) -> dict:
    """The shifts of every foil channel in ``data_dir/xanes`` (see the module)."""
    rows, labels = [], None
    for path in sorted((data_dir / "xanes").iterdir()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = spectro.read(path)
            except spectro.errors.SpectroError:
                continue
        if "mu_ref" not in ds.data_vars or abs(float(np.nanmedian(ds.energy.values)) - 8333.0) > 2000:
            continue
        energy, mu_ref = ds.energy.values, ds.mu_ref.values
        labels, shifts = calibration_shifts(energy, mu_ref)
        spread = calibration_spread(energy, mu_ref)
        ambiguous = calibration_arrays(energy, mu_ref).ambiguous
        for i, scan in enumerate(ds["scan"].values):
            rows.append({
                "file": path.name, "scan": str(scan), "shifts": shifts[i].tolist(),
                "spread": float(spread[i]), "ambiguous": bool(ambiguous[i]),
            })
    return {"labels": [f"{c}" + ("" if w != w else f"@{w:g}") for c, w in labels], "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args()
    out = measure(Path(os.environ.get("SPECTRO_DATA_DIR", "../shared/data")))
    if args.json:
        print(json.dumps(out, indent=1))
        return
    shifts = np.array([r["shifts"] for r in out["rows"]])
    print(f"{'file':34s} {'scan':>10s} {'shift':>7s} {'range':>6s} {'spread':>6s} ambiguous")
    for r, s in zip(out["rows"], shifts):
        print(f"{r['file'][:34]:34s} {r['scan'][:10]:>10s} {s[0]:7.3f} {np.nanmax(s) - np.nanmin(s):6.3f} "
              f"{r['spread']:6.3f} {r['ambiguous']}")
    diff = shifts - shifts[:, :1]
    print("\ncolumn minus the default shift (derivative@1.5), over all scans: min .. max (median |.|), eV")
    for k, label in enumerate(out["labels"]):
        d = diff[:, k]
        print(f"  {label:16s} {np.nanmin(d):+.3f} .. {np.nanmax(d):+.3f} ({np.nanmedian(np.abs(d)):.3f})")
    spread = np.array([r["spread"] for r in out["rows"]])
    print(f"\nspread (sd over the 10 shifts): median {np.nanmedian(spread):.3f} eV, max {np.nanmax(spread):.3f} eV, "
          f"{len(spread)} scans")


if __name__ == "__main__":
    main()
