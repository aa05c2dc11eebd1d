"""Valence from a linear calibration on references of known valence.

An observable ``x`` (edge position ``e0``, pre-edge centroid, Kβ2,5 energy,
all in eV) is assumed linear in the valence ``v`` between references of
known valence::

    x = a + b v

The line, its covariance and the three-term error budget of each sample
(sample, references, energy calibration) are those of
:mod:`spectro.calibration_line`: :func:`fit_calibration` fits the line on
the analysis results of the references, :func:`valence` places the samples
on it, :func:`from_spectra` does both from the spectra. A valence outside the
range spanned by the references is flagged ``"extrapolated"`` and an
:class:`~spectro.errors.ExtrapolationWarning` is issued.

This is the method of the La3Ni2O7 study for two anchors:
``v = 2 + (E0 - E0[NiO]) / (E0[LaNiO3] - E0[NiO])``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from . import references
from .calibration_line import (
    LinearCalibration,
    _calibration_error,
    _error_of,
    _uncalibrated,
    apply_calibration,
    calibration_from_results,
    linear_calibration,
)
from .errors import DataError, SpectroWarning
from .options import XanesOptions, XesOptions

__all__ = ["OBSERVABLES", "anchor_conditions", "fit_calibration", "from_spectra", "valence", "with_conditions"]

#: Observables a valence can be calibrated on: name -> kind of Dataset.
OBSERVABLES = {"e0": "xanes", "preedge_centroid": "xanes", "kb25_energy": "xes"}


def fit_calibration(
    results: xr.Dataset,
    valences: np.typing.ArrayLike | Mapping[str, float] | str,
    *,
    observable: str = "e0",
    calibration_err: float | None = None,
) -> LinearCalibration:
    """Fit the valence line ``observable = a + b * valence`` on the analysis results of references.

    Parameters
    ----------
    results : xarray.Dataset
        Results along ``scan`` (from :func:`spectro.xanes.analyze` or
        :func:`spectro.xes.analyze`) holding ``observable`` and, when
        known, ``<observable>_err`` and ``calibration_shift_err``.
    valences : array_like, mapping or str
        Known valence of each scan: an array along ``scan``, a mapping
        from scan label to valence, or the name of a per-scan variable.
    observable : str, default "e0"
        One of :data:`OBSERVABLES` or any per-scan variable in eV.
    calibration_err : float, optional
        Energy-calibration uncertainty of every anchor (eV); by default
        ``calibration_shift_err`` from ``results`` (0 when absent). Added in
        quadrature to each anchor's error.

    Returns
    -------
    spectro.calibration_line.LinearCalibration
        With ``quantity = "valence"``; the fit of
        :func:`spectro.calibration_line.linear_calibration`.

    Raises
    ------
    DataError
        ``results`` without ``observable``, a mapping without a valence for
        some scan, or references of a single valence.

    Examples
    --------
    >>> import spectro
    >>> refs = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2)
    >>> res = xr.Dataset({"e0": refs.true_e0, "e0_err": 0.02 + 0 * refs.true_e0})
    >>> cal = fit_calibration(res, "true_valence")
    >>> round(cal.slope, 3) == round(float(refs.true_e0[1] - refs.true_e0[0]), 3)
    True
    """
    return calibration_from_results(
        results, valences, observable=observable, quantity="valence", calibration_err=calibration_err
    )


def valence(
    results: xr.Dataset,
    calibration: LinearCalibration,
    *,
    calibration_err: float | None = None,
) -> xr.Dataset:
    """Valence of each scan from its observable and a calibration.

    Parameters
    ----------
    results : xarray.Dataset
        Results along ``scan`` holding ``calibration.observable`` and, when
        known, ``<observable>_err``, ``calibration_shift`` and
        ``calibration_shift_err``. May be dask-backed.
    calibration : spectro.calibration_line.LinearCalibration
        From :func:`fit_calibration` or
        :func:`spectro.calibration_line.linear_calibration`.
    calibration_err : float, optional
        Energy-calibration uncertainty of every scan (eV); by default
        ``calibration_shift_err`` from ``results`` (0 when absent).

    Returns
    -------
    xarray.Dataset
        Along ``scan`` (per-scan coordinates carried over): ``valence``,
        ``valence_err`` (total), ``valence_err_sample``,
        ``valence_err_references``, ``valence_err_calibration`` and
        ``valence_flags``: ``"extrapolated"`` outside the anchor range,
        ``"uncalibrated"`` when the scan has no ``calibration_shift`` (its
        absolute energy was not aligned on a reference channel: energies
        from different beamlines can differ by about 2 eV), ``"anchor_mismatch"``
        when the line's anchors were measured under different conditions
        (:func:`with_conditions`), joined by commas, or ``""``.

    Warns
    -----
    ExtrapolationWarning
        When any scan lies outside the anchor range.
    ValenceFlagWarning
        For the other flags (:func:`spectro.calibration_line.flag_warnings`).

    Examples
    --------
    >>> import spectro
    >>> sim = spectro.simulate.xanes(valence=[2.0, 2.53, 3.0], n_scans=3)
    >>> res = xr.Dataset({"e0": sim.true_e0, "calibration_shift": 0.0 * sim.true_e0})
    >>> cal = fit_calibration(res.isel(scan=[0, 2]), [2.0, 3.0])
    >>> valence(res, cal).valence.values.round(3)
    array([2.  , 2.53, 3.  ])
    """
    return apply_calibration(results, calibration, calibration_err=calibration_err)


def anchor_conditions(
    anchors: Sequence[tuple[xr.Dataset, float]], *, force_anchors: bool = False
) -> list[references.Conditions]:
    """Check that catalogued anchors are sound valence anchors, and read each anchor's conditions.

    Parameters
    ----------
    anchors : sequence of (xarray.Dataset, float)
        Anchor spectra and their known valences.
    force_anchors : bool, keyword-only
        Accept catalogued spectra that are not sound valence anchors.

    Returns
    -------
    list of spectro.references.Conditions
        Per anchor, labelled ``"<name> (<valence>)"``
        (:func:`spectro.references.conditions_of`).

    Raises
    ------
    DataError
        A catalogued anchor that is not a sound valence anchor, unless
        ``force_anchors`` (:func:`spectro.references.check_anchor`).

    Examples
    --------
    >>> ds = xr.Dataset(attrs={"reference_id": "ceric_lanio3_80k"})
    >>> anchor_conditions([(ds, 3.0)])[0].describe()
    'ceric_lanio3_80k (3): 80 K, ESRF BM08-LISA, 2024-10-26'
    """
    out = []
    for ds, known in anchors:
        if ds.attrs.get("reference_id"):
            references.check_anchor(str(ds.attrs["reference_id"]), force=force_anchors)
        temperature = ds["temperature"].values if "temperature" in ds.coords else None
        source = Path(str(ds["source"].values.ravel()[0])).name if "source" in ds.coords else ""
        label = str(ds.attrs.get("reference_id") or ds.attrs.get("source_file") or source or "anchor")
        out.append(references.conditions_of(dict(ds.attrs), temperature, label=f"{label} ({known:g})"))
    return out


def with_conditions(calibration: LinearCalibration, conditions: Sequence[references.Conditions]) -> LinearCalibration:
    """The line with its anchors' conditions: which differ (every scan placed on it is then flagged
    ``anchor_mismatch``, with a warning) and each anchor's, in words.

    Examples
    --------
    >>> from spectro.calibration_line import linear_calibration
    >>> line = linear_calibration([2, 3], [8345.0, 8347.0])
    >>> both = [references.conditions_of({"reference_id": r}) for r in ("ceric_nio_300k", "ceric_lanio3_80k")]
    >>> [k for k, _ in with_conditions(line, both).anchor_mismatch]
    ['temperature', 'beamtime']
    """
    differ = references.mismatches(conditions)
    return dataclasses.replace(calibration, anchor_mismatch=tuple(differ.items()),
                               anchor_conditions=tuple(c.describe() for c in conditions))


def _scan_results(ds: xr.Dataset, observable: str, options: XanesOptions | XesOptions | None) -> xr.Dataset:
    """Per-scan results of the analysis of ``ds`` (scan variables only)."""
    from . import xanes, xes
    from .model import kind_of

    kind = kind_of(ds)
    results = (xanes.analyze if kind == "xanes" else xes.analyze)(ds, options)
    if observable not in results:
        raise DataError(f"the {kind} analysis gives no {observable!r}", file=ds.attrs.get("source_file"))
    return results[[v for v in results.data_vars if results[v].dims == ("scan",)]].assign_attrs(kind=kind)


def from_spectra(
    samples: Sequence[xr.Dataset],
    anchors: Sequence[tuple[xr.Dataset, float]],
    *,
    observable: str = "e0",
    options: XanesOptions | XesOptions | None = None,
    force_anchors: bool = False,
) -> tuple[LinearCalibration, list[xr.Dataset]]:
    """Analyze anchor and sample spectra, fit the valence line on the anchors, give each sample's valence.

    Every spectrum is analyzed on its own: a XANES Dataset by
    :func:`spectro.xanes.analyze` (``e0``, ``preedge_centroid``, ...), which
    calibrates each scan on its own reference channel ``mu_ref`` when it has
    one; a XES Dataset by :func:`spectro.xes.analyze` (``kb25_energy``,
    ``kb13_energy``, ...). Each scan of an anchor
    Dataset is one anchor point with the anchor's valence; its error is its
    observable's error and its calibration-shift error in quadrature.

    Parameters
    ----------
    samples : sequence of xarray.Dataset
        Spectra whose valence is wanted.
    anchors : sequence of (xarray.Dataset, float)
        Reference spectra and their known valences (at least two valences).
    observable : str, default "e0"
        One of :data:`OBSERVABLES` or any other per-scan result of the analysis.
    options : XanesOptions or XesOptions, optional
        The options of the analysis of the spectra's kind (default: its
        defaults); options of the other kind are an
        :class:`~spectro.errors.OptionError`.
    force_anchors : bool, keyword-only
        Accept catalogued spectra (``attrs["reference_id"]``) that are not
        sound valence anchors (metal foils, suspect compounds); refused by
        default (:func:`spectro.references.check_anchor`).

    Returns
    -------
    calibration : LinearCalibration
    results : list of xarray.Dataset
        One per sample: its per-scan analysis results merged with the
        output of :func:`valence` (flags ``"uncalibrated"`` only for XANES
        observables: a XANES scan without reference channel keeps its
        beamline's absolute energy scale; ``"anchor_mismatch"`` on every
        scan when the anchors' conditions differ), with attrs ``anchor_mismatch``
        (the conditions that differ between the anchors, comma-separated:
        ``temperature``, ``beamline``, ``beamtime``; ``""`` when none, see
        :mod:`spectro.references.anchors`), ``anchor_mismatch_detail`` and
        ``anchor_conditions`` (each anchor's temperature, beamline and date).

    Raises
    ------
    DataError
        A catalogued anchor that is not a sound valence anchor, unless
        ``force_anchors``.

    Warns
    -----
    ExtrapolationWarning
        For samples outside the anchor range.
    ValenceFlagWarning
        For samples placed on anchors measured at different temperatures,
        beamlines or beamtimes (and for the other flags of :func:`valence`).
    SpectroWarning
        For XANES anchors without a reference channel.

    Examples
    --------
    >>> import spectro
    >>> sim = spectro.simulate.xanes(valence=[2.0, 3.0, 2.53], n_scans=3, reference=True,
    ...                              energy_offset=[0.5, -0.7, 1.2], seed=1)
    >>> cal, (res,) = from_spectra([sim.isel(scan=[2])], [(sim.isel(scan=[0]), 2.0), (sim.isel(scan=[1]), 3.0)])
    >>> round(float(res.valence[0]), 2), res.valence_flags.values.tolist()
    (2.53, [''])
    """
    conditions = anchor_conditions(anchors, force_anchors=force_anchors)
    q, x, s, labels = [], [], [], []
    for ds, known in anchors:
        res = _scan_results(ds, observable, options)
        err = np.hypot(_error_of(res, observable), _calibration_error(res, None))
        uncal = _uncalibrated(res).values if res.attrs["kind"] == "xanes" else np.zeros(res.sizes["scan"], bool)
        source = str(ds.attrs.get("reference_id") or ds.attrs.get("source_file") or "")
        for i, label in enumerate(res["scan"].values):
            name = f"{source}:{label}" if source else str(label)
            if uncal[i]:
                warnings.warn(
                    f"anchor {name!r} has no reference channel: its {observable} is on its "
                    "beamline's uncalibrated energy scale",
                    SpectroWarning,
                    stacklevel=2,
                )
            q.append(float(known))
            x.append(float(res[observable].values[i]))
            s.append(float(err.values[i]))
            labels.append(name)
    cal = with_conditions(linear_calibration(q, x, s, labels=labels, observable=observable), conditions)
    out = []
    for ds in samples:
        res = _scan_results(ds, observable, options)
        est = apply_calibration(res, cal, flag_uncalibrated=res.attrs["kind"] == "xanes")
        out.append(xr.merge([res, est]).assign_attrs(cal.mismatch_attrs()))
    return cal, out
