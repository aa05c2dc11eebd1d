"""Checks every reader's spectra pass, after duplicate energies are merged.

:func:`spectro.io.parse` runs :func:`check_spectra` on what any format
module returns, so the same rules hold for XDI, SPEC, column files, Athena
projects, NeXus, BLISS and I20 alike:

- the energies lie within the hard X-ray range, 1-100 keV
  (:func:`spectro.io.units.check_energy_range`: a column of 0 eV, a
  Bragg angle or keV values taken for eV are refused);
- every scan keeps at least :data:`spectro.io.channels.MIN_POINTS` finite
  points of its signal (``mu``, or ``intensity`` for XES) once duplicate
  and near-duplicate energies are merged (a constant energy column, or
  one point repeated, is refused rather than read as one point).

Examples
--------
>>> import numpy as np
>>> from spectro.model import Scan, Spectra
>>> e = np.full(20, 8333.0)
>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     sp = Spectra.from_scans([Scan(e, {"mu": np.arange(20.0)}, "flat")], kind="xanes")
>>> check_spectra(sp)
Traceback (most recent call last):
...
spectro.errors.DataError: scan 'flat': only 1 distinct energy point(s) with a finite mu after duplicate energies were merged, need at least 6
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..model import Spectra
from .channels import MIN_POINTS
from .units import check_energy_range

__all__ = ["check_spectra"]


def check_spectra(spectra: Spectra) -> None:
    """Refuse spectra outside 1-100 keV or with a scan of fewer than MIN_POINTS points.

    Raises
    ------
    DataError
        Naming the scan and what is wrong.
    """
    check_energy_range(spectra.energy, label=spectra.dim)
    name = "mu" if "mu" in spectra.signals else "intensity"
    if name not in spectra.signals:
        return
    values = np.asarray(spectra.signals[name][0], dtype=float)
    counts = np.isfinite(values).sum(axis=-1)
    for label, count in zip(spectra.labels, counts):
        if count < MIN_POINTS:
            raise DataError(
                f"only {int(count)} distinct energy point(s) with a finite {name} after duplicate "
                f"energies were merged, need at least {MIN_POINTS}",
                scan=str(label),
            )
