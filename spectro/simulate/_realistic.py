"""Many realistic scans with known truth in one Dataset: what the coverage of the stated errors is measured on.

A draw is one scan. Scans come in *sessions* (one beamtime, one sample
environment): the scans of a session share the noise level and colour, the
drift's size and kind; each scan has its own composition, miscalibration,
damping, scale, background, noise and drift. The first two scans of every
session are its references (XANES: the end members, valence 2 and 3; XES:
high and low spin), measured like the samples of that session.

The distributions are chosen from beamline practice, not fitted to any
coverage (see ``docs/uncertainty.md``, "Coverage on simulated beamtimes"):
:data:`XANES_DRAWS` and :data:`XES_DRAWS` hold them.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from scipy.interpolate import PchipInterpolator

from ..errors import DataError
from ..xanes.energy_calibration import reference_foil
from ._xanes import FOIL_E0, POST_DECAY, _damped, _drift, _noise, xanes
from ._xes import xes

__all__ = ["XANES_DRAWS", "XES_DRAWS", "realistic_xanes", "realistic_xes"]

#: The XANES draws. Per session: ``noise`` log-uniform (relative to the edge step; transmission at a bending
#: magnet, 0.5-5 s per point), ``white`` the probability of white noise (else AR(1) of lag-1 correlation
#: ``ar1_corr`` uniform: a continuous scan whose amplifier time constant is 0.6-2 point times), ``drift``
#: log-uniform (RMS of an I0 gain drift over the scan, relative to the step; a cubic or a random walk, even odds).
#: Per scan: ``valence`` uniform (the LaNiO3-like fraction of a NiO/LaNiO3-like mixture), ``energy_offset``
#: uniform (eV: the monochromator's miscalibration, removed by the Ni-foil channel), ``self_absorption``
#: uniform (the damping ``a`` of a transmission sample with about 1 % harmonics or pinholes at 2.5 absorption
#: lengths; no term of the budget claims to cover it).
#: The reference foil (``mu_ref``) is the tabulated Ni foil (:func:`spectro.xanes.reference_foil`, a measured foil)
#: on the scan's miscalibrated scale, per scan: ``foil_broadening`` half-normal, ``|N(0, s)|`` with ``s`` the
#: second number (eV, standard deviation of a Gaussian resolution added to the tabulated foil's: another
#: monochromator crystal, slit or beam heat load), ``foil_thickness`` half-normal likewise (its damping ``a``, as
#: ``self_absorption``: a thick foil or harmonics in the third chamber), ``foil_ripple`` log-uniform (RMS,
#: relative to the jump, of ripples of 3-12 eV period: the ``larch_NiO.prj`` foils differ from their mean by
#: 0.0014-0.0026 of the jump); its noise, noise colour and drift are the session's. The two scales are the rms
#: over seven beamlines of what their real foils show, each fitted as the tabulated foil broadened and damped
#: (``tests/test_simulate_realistic.py``): broadenings of 0.06 (NSLS X23A2) to 1.25 and 1.69 eV (two SSRL 4-1
#: sets), rms 0.83 eV; dampings of 0 to 0.03, rms 0.01. The widest broadenings lower the foil's first derivative
#: maximum below that at +12 eV: the derivative-maximum convention is then ambiguous on it, as on the XASLIB
#: "Ni2O3" foils.
XANES_DRAWS: dict[str, tuple[float, float]] = {
    "noise": (0.0005, 0.005),
    "white": (0.5, 0.5),
    "ar1_corr": (0.2, 0.6),
    "drift": (0.001, 0.01),
    "valence": (2.0, 3.0),
    "energy_offset": (-3.0, 3.0),
    "self_absorption": (0.0, 0.1),
    "foil_broadening": (0.0, 0.83),
    "foil_thickness": (0.0, 0.01),
    "foil_ripple": (0.0005, 0.003),
}

#: The XES draws. Per session: ``counts`` log-uniform (Kbeta1,3 maximum of a sample in a diamond-anvil cell;
#: Poisson noise; the references are measured outside the cell with ``reference_gain`` times the counts).
#: Per scan: ``high_spin_fraction`` uniform, ``energy_offset`` uniform (eV: the spectrometer's calibration; the
#: two references of a session share one, each sample in its cell has its own), ``background`` uniform (constant,
#: fraction of the Kbeta1,3 maximum).
XES_DRAWS: dict[str, tuple[float, float]] = {
    "counts": (2000.0, 20000.0),
    "reference_gain": (4.0, 4.0),
    "high_spin_fraction": (0.0, 1.0),
    "energy_offset": (-1.0, 1.0),
    "background": (0.0, 0.05),
}


def _check(n_sessions: int, scans_per_session: int) -> None:
    if n_sessions < 1 or scans_per_session < 3:
        raise DataError(f"need at least 1 session of at least 3 scans (2 references and a sample), got "
                        f"{n_sessions} x {scans_per_session}")


def _loguniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _sessions(parts: list[xr.Dataset], per: int) -> xr.Dataset:
    ds = xr.concat(parts, dim="scan", combine_attrs="drop_conflicts")
    session = np.repeat(np.arange(len(parts)), per)
    role = np.tile(np.array(["reference", "reference"] + ["sample"] * (per - 2)), len(parts))
    return ds.assign_coords(scan=[f"s{i:02d}_{k:03d}" for i in range(len(parts)) for k in range(per)],
                            session=("scan", session, {"long_name": "simulated session (beamtime)"}),
                            role=("scan", role, {"long_name": "reference (first two of a session) or sample"}))


#: Grid step (eV) on which the tabulated foil is broadened, and the margin (eV) kept beyond the scans' energies.
_FOIL_STEP, _FOIL_MARGIN = 0.05, 40.0


def _foils(energy: np.ndarray, offset: np.ndarray, broadening: np.ndarray, thickness: np.ndarray,
           ripple: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Normalized reference foils: the tabulated Ni foil broadened, damped, rippled and shifted by ``offset``.

    The tabulated foil (its derivative point at the Ni K edge, 8333.0 eV)
    is read on a fine grid (monotone cubic), convolved with each row's
    Gaussian (by FFT, its ends held flat), damped (``n (1 + a) / (1 + a n)``),
    given three sinusoidal ripples of random period (3-12 eV) and phase
    scaled to ``ripple`` RMS, and read at ``energy - offset``.
    """
    e_ref, mu_ref = reference_foil()
    lo, hi = energy.min() - _FOIL_MARGIN, energy.max() + _FOIL_MARGIN
    x = np.arange(lo, hi + _FOIL_STEP / 2, _FOIL_STEP)
    base = PchipInterpolator(e_ref, mu_ref, extrapolate=False)(np.clip(x, e_ref[0], e_ref[-1]))
    freq = np.fft.rfftfreq(x.size, _FOIL_STEP)
    kernel = np.exp(-2.0 * (np.pi * freq[None, :] * broadening[:, None]) ** 2)
    fine = np.fft.irfft(np.fft.rfft(base)[None, :] * kernel, n=x.size, axis=-1)
    fine = _damped(fine, thickness[:, None])
    n = len(offset)
    period, phase = rng.uniform(3.0, 12.0, (n, 3)), rng.uniform(0.0, 2.0 * np.pi, (n, 3))
    waves = np.sin(2.0 * np.pi * x[None, None, :] / period[..., None] + phase[..., None]).sum(axis=1)
    fine = fine + ripple[:, None] * waves / np.sqrt(1.5)
    at = (energy[None, :] - offset[:, None] - lo) / _FOIL_STEP  # fractional index on the fine grid
    i = np.clip(np.floor(at).astype(int), 0, x.size - 2)
    w = at - i
    return (1.0 - w) * np.take_along_axis(fine, i, -1) + w * np.take_along_axis(fine, i + 1, -1)


def _foil_channel(energy, offset, foil, *, noise, white, corr, drift, kind, rng) -> np.ndarray:
    """The measured reference channel of :func:`_foils`: scale, background, noise and drift as the samples'."""
    n = len(offset)
    shape = _foils(energy, offset, foil["foil_broadening"], foil["foil_thickness"], foil["foil_ripple"], rng)
    scale, background, victoreen = rng.uniform(0.3, 1.5, n), rng.uniform(-1.5, 0.5, n), rng.uniform(0.05, 0.3, n)
    decay = 1.0 - POST_DECAY * np.clip(energy[None, :] - (FOIL_E0 + offset)[:, None], 0.0, None) / 100.0
    clean = background[:, None] + scale[:, None] * (victoreen[:, None] * (energy / FOIL_E0) ** -3 + decay * shape)
    eps = _noise(rng.standard_normal(clean.shape), "white" if white else "ar1", corr)
    return clean + scale[:, None] * (noise * eps + drift * _drift(rng, clean.shape, kind))


def realistic_xanes(n_sessions: int = 20, scans_per_session: int = 27, *, seed: int = 0) -> xr.Dataset:
    """Ni K-edge XANES scans of NiO/LaNiO3-like mixtures with a beamtime's systematics, drawn per session.

    Each session is one call of :func:`spectro.simulate.xanes` with
    ``model="mixture"``, its noise, noise colour and drift drawn from
    :data:`XANES_DRAWS`; each scan has its own valence, miscalibration and
    damping, and in ``mu_ref`` the tabulated Ni foil
    (:func:`spectro.xanes.reference_foil`) with its own broadening,
    thickness damping and ripples, on the scan's miscalibrated scale, with
    the session's noise and drift. The first two scans of a session are
    the end members (valence 2 and 3, the anchors of a valence line).

    Parameters
    ----------
    n_sessions : int
        Number of sessions.
    scans_per_session : int
        Scans per session, the two references included (at least 3).
    seed : int, keyword-only
        Seed of every draw.

    Returns
    -------
    xarray.Dataset
        The XANES Dataset with ``mu`` and ``mu_ref``, the truth coordinates
        of :func:`spectro.simulate.xanes` and, per scan: ``session``,
        ``role`` (``"reference"`` or ``"sample"``), ``true_noise``,
        ``true_noise_corr`` (0 for white noise), ``true_drift_rms``,
        ``true_foil_broadening``, ``true_foil_thickness``,
        ``true_foil_ripple`` (the foil's distortions) and the
        truth on the correctly calibrated scale: ``true_e0_calibrated``
        (the 0.8 crossing of the noise-free, undamped, drift-free mixture;
        ``true_e0 - true_energy_offset``) and
        ``true_preedge_centroid_calibrated``.

    Examples
    --------
    >>> ds = realistic_xanes(2, 4, seed=1)
    >>> ds.sizes["scan"], ds.role.values[:3].tolist(), ds.true_valence.values[:2].tolist()
    (8, ['reference', 'reference', 'sample'], [2.0, 3.0])
    """
    _check(n_sessions, scans_per_session)
    per = scans_per_session
    d = XANES_DRAWS
    parts = []
    for session in range(n_sessions):  # one vectorized simulation per session
        rng = np.random.default_rng([seed, session])
        noise = _loguniform(rng, d["noise"])
        white = rng.uniform() < d["white"][0]
        corr = 0.0 if white else float(rng.uniform(*d["ar1_corr"]))
        drift = _loguniform(rng, d["drift"])
        kind = "polynomial" if rng.uniform() < 0.5 else "walk"
        valence = np.concatenate([[2.0, 3.0], rng.uniform(*d["valence"], per - 2)])
        ds = xanes(valence=valence, n_scans=per, model="mixture", noise=noise,
                   noise_color="white" if white else "ar1", noise_corr=corr, drift=drift, drift_kind=kind,
                   self_absorption=rng.uniform(*d["self_absorption"], per),
                   energy_offset=rng.uniform(*d["energy_offset"], per), reference=True, foil="ni",
                   seed=int(rng.integers(2**31)))
        foil = {k: np.abs(rng.normal(*d[k], per)) for k in ("foil_broadening", "foil_thickness")}
        foil["foil_ripple"] = np.exp(rng.uniform(*np.log(d["foil_ripple"]), per))
        ds = ds.assign(mu_ref=(ds.mu_ref.dims, _foil_channel(
            ds.energy.values, ds.true_energy_offset.values, foil, noise=noise, white=white, corr=corr, drift=drift,
            kind=kind, rng=np.random.default_rng([seed, session, 2])), ds.mu_ref.attrs))
        ds = ds.drop_vars("true_drift").assign_coords(
            true_noise=("scan", np.full(per, noise), {"units": "1", "long_name": "noise relative to the step"}),
            true_noise_corr=("scan", np.full(per, corr), {"units": "1", "long_name": "lag-1 noise correlation"}),
            true_drift_rms=("scan", np.full(per, drift), {"units": "1", "long_name": "drift RMS (of the step)"}),
            true_foil_broadening=("scan", foil["foil_broadening"],
                                  {"units": "eV", "long_name": "reference foil's added Gaussian broadening (sigma)"}),
            true_foil_thickness=("scan", foil["foil_thickness"],
                                 {"units": "1", "long_name": "reference foil's damping a"}),
            true_foil_ripple=("scan", foil["foil_ripple"], {"units": "1", "long_name": "reference foil's ripple RMS"}),
        )
        parts.append(ds)
    ds = _sessions(parts, per)
    ds.attrs["simulation_foil"] = "ni_foil_13idc"
    off = ds.true_energy_offset
    return ds.assign_coords(
        true_e0_calibrated=(ds.true_e0 - off).assign_attrs(
            units="eV", long_name="true edge position (0.8 crossing of the undamped mixture), calibrated scale"),
        true_preedge_centroid_calibrated=(ds.true_preedge_centroid - off).assign_attrs(
            units="eV", long_name="true pre-edge centroid, calibrated scale"),
    )


def realistic_xes(n_sessions: int = 20, scans_per_session: int = 27, *, seed: int = 0) -> xr.Dataset:
    """Ni Kbeta XES scans of high/low-spin mixtures with Poisson noise, backgrounds and offsets, per session.

    Each session is one call of :func:`spectro.simulate.xes` per role: its
    first two scans are the high-spin and the low-spin reference (measured
    with more counts), the others samples; the draws are those of
    :data:`XES_DRAWS`.

    Parameters
    ----------
    n_sessions : int
        Number of sessions.
    scans_per_session : int
        Scans per session, the two references included (at least 3).
    seed : int, keyword-only
        Seed of every draw.

    Returns
    -------
    xarray.Dataset
        The XES Dataset with the truth coordinates of
        :func:`spectro.simulate.xes` and ``session``, ``role``,
        ``true_counts`` (the Kbeta1,3 maximum, counts).

    Examples
    --------
    >>> ds = realistic_xes(1, 3, seed=1)
    >>> ds.true_high_spin_fraction.values[:2].tolist(), ds.role.values.tolist()
    ([1.0, 0.0], ['reference', 'reference', 'sample'])
    """
    _check(n_sessions, scans_per_session)
    per = scans_per_session
    d = XES_DRAWS
    parts = []
    for session in range(n_sessions):  # one vectorized simulation per session and role
        rng = np.random.default_rng([seed, session, 1])
        counts = _loguniform(rng, d["counts"])
        gain = d["reference_gain"][0]
        groups = []
        ref_offset = np.full(2, rng.uniform(*d["energy_offset"]))  # the references share the spectrometer's scale
        sample = rng.uniform(*d["high_spin_fraction"], per - 2), rng.uniform(*d["energy_offset"], per - 2)
        for (fraction, offset), amp in (((np.array([1.0, 0.0]), ref_offset), counts * gain), (sample, counts)):
            n = len(fraction)
            ds = xes(high_spin_fraction=fraction, n_scans=n, noise=1.0 / np.sqrt(amp), amplitude=amp,
                     energy_offset=offset, background=rng.uniform(*d["background"], n),
                     seed=int(rng.integers(2**31)))
            groups.append(ds.assign_coords(true_counts=("scan", np.full(n, amp), {"units": "counts"})))
        parts.append(xr.concat(groups, dim="scan", combine_attrs="drop_conflicts"))
    return _sessions(parts, per)
