"""A simulated La3Ni2O7-like high-pressure beamtime, with its ground truth.

Modelled on the runs of Mijit et al. (2024), every part SIMULATED:

``xanes_references``
    NiO (Ni2+, valence 2) and LaNiO3 (Ni3+, valence 3), ambient, 300 K,
    two scans each, each with a Ni-foil reference channel and its own
    monochromator miscalibration (``energy_offset``);
``xanes_ambient``
    the sample at ambient pressure (valence :data:`SAMPLE_VALENCE`), three
    scans with foil channels and miscalibrations;
``xanes_series``
    :func:`spectro.simulate.pressure_series`: run2 (cooling at 1-2.4 GPa,
    then compression at 10 K), run3 (compression at 300 K, then cooling at
    24-25 GPa) and a NiO compression run at 300 K; the edge shift is purely
    structural (equal slopes dE0/d(Ni-O) for sample and NiO) and the
    sample's Ni-O compressibility changes at :data:`KINK_PRESSURE`;
``xes_references``
    Kbeta XES of NiO (high spin) and LaNiO3 (low spin), ambient;
``xes_series``
    Kbeta XES of the sample (low spin, Kbeta2,5 0.35 eV below LaNiO3)
    compressed at 300 K to 19.5 GPa, the Kbeta2,5 moving down by
    :data:`KB25_EV_PER_GPA` per GPa.

Every Dataset has ``attrs["simulated"] = "yes"`` and the truth as
per-scan ``true_*`` coordinates (and ``truth_*`` attrs), see
:func:`spectro.simulate.xanes`, :func:`spectro.simulate.xes` and
:func:`spectro.simulate.pressure_series`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._xanes import xanes
from ._xes import xes
from .series import pressure_series

__all__ = ["beamtime", "SAMPLE_VALENCE", "KINK_PRESSURE", "EDGE_SLOPE", "KB25_EV_PER_GPA", "XES_PRESSURES"]

#: Ni valence of the simulated sample (the study's 2.53(5)).
SAMPLE_VALENCE = 2.53
#: Pressure (GPa) where the simulated sample's Ni-O compressibility changes.
KINK_PRESSURE = 14.0
#: Structural edge shift per Å of Ni-O change, eV/Å, for sample and NiO alike.
EDGE_SLOPE = -15.0
#: Kbeta2,5 shift of the sample with pressure, eV/GPa (downwards, as observed).
KB25_EV_PER_GPA = -0.02
#: Pressures (GPa) of the simulated XES compression.
XES_PRESSURES = np.array([0.5, 5.0, 10.0, 15.0, 19.5])
#: Kbeta2,5 of the sample relative to low-spin LaNiO3, eV (Mijit et al.: -0.35 eV).
KB25_SAMPLE_SHIFT = -0.35


def _labelled(ds: xr.Dataset, prefix: str) -> xr.Dataset:
    labels = [f"{prefix}-{i:02d}" for i in range(ds.sizes["scan"])]
    ds = ds.assign_coords(scan=("scan", labels, ds["scan"].attrs))
    ds.attrs["simulated"] = "yes"
    return ds


def _join(parts: list[xr.Dataset]) -> xr.Dataset:
    out = xr.concat(parts, dim="scan", combine_attrs="drop_conflicts")
    out.attrs["simulated"] = "yes"
    return out


def beamtime(*, seed: int = 0, noise: float = 0.002, xes_noise: float = 0.01) -> dict[str, xr.Dataset]:
    """Simulate every measurement of a La3Ni2O7-like high-pressure beamtime.

    Parameters
    ----------
    seed : int
        Seed of every random draw (miscalibrations, noise, pressures).
    noise : float
        XANES noise, standard deviation relative to the edge step.
    xes_noise : float
        XES counting noise relative to the Kbeta1,3 maximum.

    Returns
    -------
    dict of str to xarray.Dataset
        ``xanes_references``, ``xanes_ambient``, ``xanes_series``,
        ``xes_references``, ``xes_series`` (see the module docstring); each
        a model Dataset with ``attrs["simulated"] == "yes"``, ``sample`` and
        ``run`` per scan, and the ``true_*`` coordinates of its simulator.

    Examples
    --------
    >>> bt = beamtime(seed=0)
    >>> sorted(bt)
    ['xanes_ambient', 'xanes_references', 'xanes_series', 'xes_references', 'xes_series']
    >>> float(bt["xanes_ambient"].true_valence[0]), bt["xes_series"].sizes["scan"]
    (2.53, 5)
    """
    rng = np.random.default_rng(seed)
    refs = []
    for k, (sample, val) in enumerate((("NiO", 2.0), ("LaNiO3", 3.0))):
        ds = xanes(valence=val, n_scans=2, noise=noise, reference=True, energy_offset=rng.uniform(-1.5, 1.5, 2),
                   pressure=0.0, temperature=300.0, run="refs", sample=sample, seed=seed * 10 + k + 1)
        refs.append(_labelled(ds, sample))
    ambient = xanes(valence=SAMPLE_VALENCE, n_scans=3, noise=noise, reference=True,
                    energy_offset=rng.uniform(-1.5, 1.5, 3), pressure=0.0, temperature=300.0, run="ambient",
                    sample="La3Ni2O7", seed=seed * 10 + 3)
    series = pressure_series(slope=EDGE_SLOPE, kink_pressure=KINK_PRESSURE, valence=SAMPLE_VALENCE, noise=noise,
                             seed=seed)
    series.attrs["simulated"] = "yes"
    xes_refs = [
        _labelled(xes(spin=spin, noise=xes_noise, pressure=0.0, temperature=300.0, run="refs", sample=sample,
                      seed=seed * 10 + 4 + k), sample)
        for k, (sample, spin) in enumerate((("NiO", "high"), ("LaNiO3", "low")))
    ]
    xes_series = xes(spin="low", kb25_shift=KB25_SAMPLE_SHIFT + KB25_EV_PER_GPA * XES_PRESSURES,
                     n_scans=XES_PRESSURES.size, noise=xes_noise, pressure=XES_PRESSURES, temperature=300.0,
                     run="run1", sample="La3Ni2O7", seed=seed * 10 + 6)
    return {
        "xanes_references": _join(refs),
        "xanes_ambient": _labelled(ambient, "La3Ni2O7"),
        "xanes_series": series,
        "xes_references": _join(xes_refs),
        "xes_series": _labelled(xes_series, "run1"),
    }
