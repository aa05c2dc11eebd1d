"""A simulated high-pressure XANES campaign with known structural edge shift.

Modelled on the La3Ni2O7 study's paths: run 2 cools at about 1-2 GPa from
300 K to 10 K and then compresses at 10 K; run 3 compresses at 300 K and
then cools at the highest pressure; a NiO run compresses at 300 K.

Edge shifts are structural: ``edge_shift = slope * (d(P) - d(0))`` with
``d`` the Ni-O distance at the true pressure (NiO from its
Birch-Murnaghan equation of state, :data:`spectro.pressure.NIO`; the sample
from :data:`MODEL_SAMPLE_BOND`). The model table's compressibility changes
at ``kink_pressure``, so E0(P) of the sample has a kink there while E0
against Ni-O stays a straight line. An optional valence change above
``valence_onset`` adds ``EV_PER_VALENCE * valence_rate * (P - onset)`` to
the sample's edge: that shift is not structural.

The truth can differ from what an analysis assumes, as it does in an
experiment: ``nio_bond`` and ``sample_bond`` are the true Ni-O models (e.g.
drawn around :data:`spectro.pressure.NIO` and the model table with
:meth:`~spectro.pressure.eos.EOS.draw`), and ``pressure_scale`` is a
relative miscalibration of the gauge, common to every reported pressure.

Temperature does not change the spectra (the study saw no change on
cooling); feature C grows by :data:`FEATURE_C_PER_GPA` per GPa; the
pre-edge centroid moves only with valence. ``true_e0`` is the exact 0.8
crossing of the model, so it also contains the small pull of feature C's
tail on the rising edge (under 0.5 % of the structural shift).

:func:`pressure_results` gives the same campaign without spectra, as an
analysis would report it (true E0 and pre-edge centroid plus Gaussian
noise of stated size): fast enough for studies of the tests' size and
power over many simulated campaigns.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..pressure.contraction import BondModel
from ..pressure.structure import NIO, BondTable
from ._xanes import (
    E0_LEVEL,
    EDGE_NI2,
    EV_PER_VALENCE,
    PREEDGE_EV_PER_VALENCE,
    PREEDGE_NI2,
    _true_crossing,
    xanes,
)

__all__ = [
    "FEATURE_C_PER_GPA",
    "MODEL_SAMPLE_BOND",
    "MODEL_SAMPLE_BOND_SCALE_ERR",
    "model_sample_bond",
    "pressure_results",
    "pressure_series",
]

#: Growth of feature C with pressure, normalized units per GPa.
FEATURE_C_PER_GPA = 0.004

#: Ambient in-plane Ni-O proxy of La3Ni2O7, Å (half the pseudo-tetragonal
#: cell edge of the study's ambient refinement).
_D0 = 1.9157
_SLOPE_BELOW = -0.0020  # Å/GPa
_SLOPE_ABOVE = -0.0028  # Å/GPa


#: Relative uncertainty given to the model table's contraction (a simulator
#: choice standing for a compressibility measured by X-ray diffraction to a
#: few per cent).
MODEL_SAMPLE_BOND_SCALE_ERR = 0.03


def model_sample_bond(kink_pressure: float = 14.0, *, scale_err: float = MODEL_SAMPLE_BOND_SCALE_ERR) -> BondTable:
    """The model in-plane Ni-O table of the simulated sample.

    A MODEL, not a measurement: ``d = 1.9157 Å`` at 0 GPa, contracting by
    0.0020 Å/GPa up to ``kink_pressure`` and 0.0028 Å/GPa above it (a
    stiffer-to-softer change standing in for the Amam -> I4/mmm transition
    near 14 GPa), tabulated from 0 to 40 GPa, with a relative uncertainty
    ``scale_err`` of the whole contraction (see
    :class:`~spectro.pressure.structure.BondTable`).

    Examples
    --------
    >>> t = model_sample_bond()
    >>> round(float(t.distance(20.0)), 4)
    1.8709
    """
    p = np.array([0.0, kink_pressure, 40.0])
    d = _D0 + np.array([0.0, _SLOPE_BELOW * kink_pressure,
                        _SLOPE_BELOW * kink_pressure + _SLOPE_ABOVE * (40.0 - kink_pressure)])
    return BondTable(p, d, "in_plane", source="spectro.simulate.series model table", scale_err=scale_err)


#: Model sample bond table with the kink at 14 GPa.
MODEL_SAMPLE_BOND = model_sample_bond()


def _paths() -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(run, sample, pressures GPa, temperatures K) of the simulated campaign."""
    cool_t = np.array([300.0, 200.0, 100.0, 50.0, 10.0])
    cool_p = np.array([1.0, 1.3, 1.6, 2.0, 2.4])
    comp2_p = np.array([2.4, 4.0, 6.0, 8.0, 10.0, 12.0, 13.0, 15.0, 16.5, 18.0, 20.0, 22.0, 24.0])
    comp3_p = np.array([1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 12.5, 13.5, 15.5, 17.0, 19.0, 21.0, 23.7])
    cool3_t = np.array([200.0, 100.0, 10.0])
    nio_p = np.array([0.5, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0])
    return [
        ("run2", "La3Ni2O7", np.r_[cool_p, comp2_p],
         np.r_[cool_t, np.full(comp2_p.size, 10.0)]),
        ("run3", "La3Ni2O7", np.r_[comp3_p, np.array([24.0, 24.5, 25.0])],
         np.r_[np.full(comp3_p.size, 300.0), cool3_t]),
        ("nio", "NiO", nio_p, np.full(nio_p.size, 300.0)),
    ]


def _campaign(slope, nio_slope, kink_pressure, valence, valence_rate, valence_onset, pressure_err,
              pressure_scale, nio_bond, sample_bond, rng):
    """Per path: (run, sample, true P, reported P, T, d, d0, edge shift, valence)."""
    table = model_sample_bond(kink_pressure) if sample_bond is None else sample_bond
    nio = NIO if nio_bond is None else nio_bond
    nio_slope = slope if nio_slope is None else nio_slope
    out = []
    for run, sample, p, t in _paths():
        bond, b = (nio, nio_slope) if sample == "NiO" else (table, slope)
        d = np.asarray(bond.distance(p), dtype=float)
        d0 = float(bond.distance(0.0))
        val = (np.full(p.size, 2.0) if sample == "NiO"
               else valence + valence_rate * np.clip(p - valence_onset, 0.0, None))
        reported = p * (1.0 + pressure_scale) + rng.normal(0.0, pressure_err, p.size)
        out.append((run, sample, p, reported, t, d, d0, b * (d - d0), val))
    return out, nio_slope


def _truth_attrs(slope, nio_slope, kink_pressure, valence_rate, valence_onset, pressure_scale) -> dict:
    return {
        "truth_slope": slope,
        "truth_nio_slope": nio_slope,
        "truth_kink_pressure": kink_pressure,
        "truth_valence_rate": valence_rate,
        "truth_valence_onset": valence_onset,
        "truth_pressure_scale": pressure_scale,
        "truth_sample_bond": "model in-plane Ni-O table (spectro.simulate.series.model_sample_bond)",
    }


def _truth_coords(run, p, d, d0, pressure_err) -> dict:
    return {
        "scan": [f"{run}-{i:02d}" for i in range(p.size)],
        "pressure_err": ("scan", np.full(p.size, pressure_err),
                         {"units": "GPa", "long_name": "pressure uncertainty (1 sigma)"}),
        "true_pressure": ("scan", p, {"units": "GPa", "long_name": "true pressure"}),
        "true_ni_o": ("scan", d, {"units": "Å", "long_name": "true Ni-O distance"}),
        "true_delta_ni_o": ("scan", d - d0, {"units": "Å", "long_name": "true Ni-O change from 0 GPa"}),
    }


def pressure_series(
    *,
    slope: float = -15.0,
    nio_slope: float | None = None,
    kink_pressure: float = 14.0,
    valence: float = 2.5,
    valence_rate: float = 0.0,
    valence_onset: float = 14.0,
    noise: float = 0.002,
    pressure_err: float = 0.1,
    pressure_scale: float = 0.0,
    nio_bond: BondModel | None = None,
    sample_bond: BondModel | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """Simulate a pressure campaign: sample runs with cooling paths and a NiO run.

    Parameters
    ----------
    slope : float
        Structural edge shift of the sample per Å of Ni-O change, eV/Å
        (negative: contraction moves the edge up).
    nio_slope : float, optional
        The same for NiO; default ``slope`` (a purely structural shift).
    kink_pressure : float
        GPa where the model sample's Ni-O compressibility changes.
    valence : float
        Ambient Ni valence of the sample (NiO is 2).
    valence_rate : float
        Valence units per GPa added above ``valence_onset`` (0: none).
    valence_onset : float
        GPa.
    noise : float
        Spectral noise relative to the edge step (see
        :func:`spectro.simulate.xanes`).
    pressure_err : float
        One-sigma error of the reported pressures, GPa: reported pressures
        are the true ones (times ``1 + pressure_scale``) plus Gaussian noise
        of this size, and ``pressure_err`` is stored.
    pressure_scale : float
        Relative miscalibration of the pressure gauge, common to every scan
        (0: none).
    nio_bond, sample_bond : BondModel, optional
        True Ni-O models of NiO and of the sample (default
        :data:`spectro.pressure.NIO` and :func:`model_sample_bond` with
        ``kink_pressure``).
    seed : int

    Returns
    -------
    xarray.Dataset
        XANES model Dataset along ``scan`` (runs ``run2``, ``run3``,
        ``nio``; samples ``La3Ni2O7`` and ``NiO``) with the coordinates of
        :func:`spectro.simulate.xanes` plus ``true_pressure`` (GPa),
        ``true_ni_o`` and ``true_delta_ni_o`` (Å, from 0 GPa), and attrs
        ``truth_slope``, ``truth_nio_slope``, ``truth_kink_pressure``,
        ``truth_valence_rate``, ``truth_valence_onset``,
        ``truth_pressure_scale``.

    Examples
    --------
    >>> from spectro.simulate import pressure_series
    >>> ds = pressure_series(seed=1)
    >>> sorted(set(ds.run.values.tolist())), ds.sizes["scan"]
    (['nio', 'run2', 'run3'], 43)
    >>> float(ds.attrs["truth_kink_pressure"])
    14.0
    """
    rng = np.random.default_rng(seed)
    paths, nio_slope = _campaign(slope, nio_slope, kink_pressure, valence, valence_rate, valence_onset,
                                 pressure_err, pressure_scale, nio_bond, sample_bond, rng)
    parts = []
    for k, (run, sample, p, reported, t, d, d0, shift, val) in enumerate(paths):
        ds = xanes(
            valence=val, edge_shift=shift, feature_c=FEATURE_C_PER_GPA * p, n_scans=p.size,
            noise=noise, reference=True, pressure=reported,
            temperature=t, run=run, sample=sample, seed=seed * 100 + k,
        )
        ds = ds.assign_coords(_truth_coords(run, p, d, d0, pressure_err))
        ds["scan"].attrs.update({"units": "", "long_name": "scan label"})
        parts.append(ds)
    out = xr.concat(parts, dim="scan", combine_attrs="drop_conflicts")
    out.attrs.update({"kind": "xanes", **_truth_attrs(slope, nio_slope, kink_pressure, valence_rate,
                                                      valence_onset, pressure_scale)})
    return out


def pressure_results(
    *,
    slope: float = -15.0,
    nio_slope: float | None = None,
    kink_pressure: float = 14.0,
    valence: float = 2.5,
    valence_rate: float = 0.0,
    valence_onset: float = 14.0,
    e0_err: float = 0.01,
    preedge_err: float = 0.04,
    pressure_err: float = 0.1,
    pressure_scale: float = 0.0,
    nio_bond: BondModel | None = None,
    sample_bond: BondModel | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """The campaign of :func:`pressure_series` as analysis results, without spectra.

    E0 (0.8 of the jump) and the pre-edge centroid of every scan are the
    model's true values plus Gaussian noise of ``e0_err`` and
    ``preedge_err``, which are stored as their errors: results whose
    stated errors are right. The default ``e0_err``, 0.01 eV, is the scatter
    of E0 about the truth that :func:`spectro.xanes.analyze` reaches on the
    simulated spectra (calibration included).

    Parameters
    ----------
    slope, nio_slope, kink_pressure, valence, valence_rate, valence_onset
        As in :func:`pressure_series`.
    e0_err, preedge_err : float
        One-sigma errors of E0 and of the pre-edge centroid, eV.
    pressure_err, pressure_scale, nio_bond, sample_bond, seed
        As in :func:`pressure_series`.

    Returns
    -------
    xarray.Dataset
        Along ``scan``: ``e0``, ``e0_err``, ``preedge_centroid``,
        ``preedge_centroid_err``, ``feature_c`` (eV, eV, eV, eV, 1) with the
        coordinates ``pressure`` (reported), ``pressure_err``,
        ``temperature``, ``run``, ``sample``, ``true_e0``,
        ``true_preedge_centroid`` and those of :func:`pressure_series`.

    Examples
    --------
    >>> from spectro.pressure import relative_series, edge_shift_vs_contraction
    >>> res = pressure_results(seed=2)
    >>> c = edge_shift_vs_contraction(relative_series(res), sample_bond=MODEL_SAMPLE_BOND)
    >>> c.comparison.consistent, round(c.sample.slope), round(c.reference.slope)
    (True, -15, -15)
    """
    rng = np.random.default_rng(seed)
    paths, nio_slope = _campaign(slope, nio_slope, kink_pressure, valence, valence_rate, valence_onset,
                                 pressure_err, pressure_scale, nio_bond, sample_bond, rng)
    parts = []
    for run, sample, p, reported, t, d, d0, shift, val in paths:
        e_edge = EDGE_NI2 + EV_PER_VALENCE * (val - 2.0) + shift
        e_pre = PREEDGE_NI2 + PREEDGE_EV_PER_VALENCE * (val - 2.0)
        feature_c = FEATURE_C_PER_GPA * p
        true_e0 = _true_crossing(e_edge, e_pre, feature_c, E0_LEVEL, step=0.1)
        n = p.size
        ds = xr.Dataset(
            {"e0": ("scan", true_e0 + rng.normal(0.0, e0_err, n), {"units": "eV", "long_name": "edge position E0"}),
             "e0_err": ("scan", np.full(n, e0_err), {"units": "eV"}),
             "preedge_centroid": ("scan", e_pre + rng.normal(0.0, preedge_err, n), {"units": "eV"}),
             "preedge_centroid_err": ("scan", np.full(n, preedge_err), {"units": "eV"}),
             "feature_c": ("scan", feature_c, {"units": "1"})},
            coords={"pressure": ("scan", reported, {"units": "GPa", "long_name": "pressure"}),
                    "temperature": ("scan", t, {"units": "K", "long_name": "temperature"}),
                    "run": ("scan", np.full(n, run)), "sample": ("scan", np.full(n, sample)),
                    "true_e0": ("scan", true_e0, {"units": "eV"}),
                    "true_preedge_centroid": ("scan", e_pre, {"units": "eV"}),
                    "true_valence": ("scan", val, {"units": "1"}),
                    **_truth_coords(run, p, d, d0, pressure_err)},
        )
        parts.append(ds)
    out = xr.concat(parts, dim="scan", combine_attrs="drop_conflicts")
    out.attrs.update({"kind": "xanes_results", "simulated": "yes",
                      **_truth_attrs(slope, nio_slope, kink_pressure, valence_rate, valence_onset, pressure_scale)})
    return out
