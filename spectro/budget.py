"""The uncertainty budget of the valence, and the scatter of repeated scans.

:func:`valence_budget` is :func:`spectro.valence.from_spectra` with the
budget of :func:`spectro.xanes.budget` (XANES) or of
:func:`spectro.xes.budget` (Kbeta XES, e.g. on ``kb25_energy``): every anchor
and sample spectrum is analysed with its variations, the valence line is fitted again for each
variation (anchors and samples varied alike, so what moves every compound
the same way cancels) and the valence's change is the systematic
component; the anchors add one more component:

* three or more anchor compounds: the consistency of the line, the scatter
  of the anchors about it beyond their statistical errors,
  ``sqrt(max(0, sum(r**2) / (n - 2) - mean(s**2))) / |b|``;
* two anchor compounds: no consistency check is possible; the
  cross-beamline term :data:`ANCHOR_TRANSFER` is added instead, measured on
  NiO and LaNiO3 from two beamlines (ESRF BM08 and NSLS-II BMM): each pair
  as anchors places the other pair's compounds, and the term is what the
  four departures from 2 and 3 hold beyond their other components (their
  foil terms already cover them: the term is 0; see ``docs/uncertainty.md``
  for the command).

The scatter of repeated scans about their own errors is :mod:`spectro.repeats`'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr

from .calibration_line import LinearCalibration, add_flag, apply_calibration, flag_warnings, linear_calibration
from .errors import DataError, SpectroWarning
from .model import kind_of
from .options import XanesOptions, XesOptions, options_of
from .references import Conditions
from . import valence, xanes, xes
from .xanes._budget import BUDGETED, COMPONENTS, BudgetFlag
from .xes._budget import COMPONENTS as XES_COMPONENTS, budgeted as xes_budgeted

__all__ = ["ANCHOR_TRANSFER", "VALENCE_COMPONENTS", "XES_VALENCE_COMPONENTS", "valence_budget", "valence_from_budgets"]

#: Valence change between beamlines beyond the budget's other components (two anchors), valence units: the
#: excess of the four cross-placed BM08/BMM anchors' mean square departure (0.052**2) over their total errors'
#: without it (0.090**2: chi2 1.12 for 4 departures) is negative, so none is measured (docs/uncertainty.md).
ANCHOR_TRANSFER: float = 0.0

#: The systematic components of a valence from a XANES observable.
VALENCE_COMPONENTS: tuple[str, ...] = COMPONENTS + ("anchors",)
#: The systematic components of a valence from a Kbeta XES observable.
XES_VALENCE_COMPONENTS: tuple[str, ...] = XES_COMPONENTS + ("anchors",)


def _is_xes(res: xr.Dataset) -> bool:
    """Whether budget results are of the Kbeta analysis (:func:`spectro.xes.analyze`'s ``kind``)."""
    return str(res.attrs.get("kind", "")).startswith("xes")


def _rms(a: np.ndarray) -> np.ndarray:
    """Root mean square over the last axis, NaN ignored (0 over no column)."""
    if not a.shape[-1]:
        return np.zeros(a.shape[:-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.sqrt(np.nanmean(a**2, axis=-1))


def valence_budget(
    samples: Sequence[xr.Dataset],
    anchors: Sequence[tuple[xr.Dataset, float]],
    *,
    observable: str = "e0",
    options: XanesOptions | XesOptions | None = None,
    transfer: float = ANCHOR_TRANSFER,
    force_anchors: bool = False,
) -> tuple[LinearCalibration, list[xr.Dataset]]:
    """Valence of XANES or Kbeta XES samples with its statistical and systematic parts.

    Parameters
    ----------
    samples : sequence of xarray.Dataset
        Spectra whose valence is wanted, all of one kind (XANES or XES).
    anchors : sequence of (xarray.Dataset, float)
        Reference spectra of that kind and their valences; every scan of an
        anchor Dataset is one point of the line.
    observable : str, default "e0"
        A result with a budget: of :data:`spectro.xanes.BUDGETED` for XANES
        (``e0``, ``e0_half``, ``preedge_centroid``, ...), of
        :func:`spectro.xes.budgeted` for XES (``kb25_energy``,
        ``kb13_m1``, ...).
    options : XanesOptions or XesOptions, optional
        The analysis options of the spectra's kind (the variations are taken
        around them).
    transfer : float, keyword-only
        The cross-beamline term used with two anchor compounds, valence
        units (default :data:`ANCHOR_TRANSFER`: what two real beamlines'
        anchors show beyond the other components, none); give one measured
        for anchors whose departures exceed their other components.
    force_anchors : bool, keyword-only
        Accept catalogued spectra that are not sound valence anchors, as
        :func:`spectro.valence.from_spectra` does.

    Returns
    -------
    calibration : LinearCalibration
        The nominal line, fitted on the anchors' statistical errors (that of
        :func:`spectro.valence.from_spectra`), with the anchors' conditions.
    results : list of xarray.Dataset
        Per sample: the per-scan budget results of its analysis and
        ``valence``, ``valence_stat``, ``valence_sys``, ``valence_err``
        (total), ``valence_sys_<c>`` for ``c`` in
        :data:`VALENCE_COMPONENTS` (XANES) or :data:`XES_VALENCE_COMPONENTS`
        (XES), ``valence_err_scan`` (the sample's scan-to-scan part), the
        three statistical terms ``valence_err_sample``,
        ``valence_err_references``, ``valence_err_calibration`` and
        ``valence_flags`` (those of :func:`spectro.valence.from_spectra`
        and, for XANES, the names of the :class:`~spectro.xanes.BudgetFlag`
        bits: ``normalization_unstable``, ``foil_conventions_disagree``).

    Raises
    ------
    DataError
        The observable has no budget, the spectra mix XANES and XES, a
        catalogued anchor is not a sound valence anchor (unless
        ``force_anchors``), or the anchors cannot make a line.

    Examples
    --------
    >>> import spectro, warnings
    >>> sim = spectro.simulate.xanes(valence=[2.0, 3.0, 2.5], n_scans=3, reference=True, seed=1)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cal, (res,) = valence_budget([sim.isel(scan=[2])], [(sim.isel(scan=[0]), 2.0),
    ...                                  (sim.isel(scan=[1]), 3.0)], options=XanesOptions(preedge="centroid"))
    >>> round(float(res.valence[0]), 1), float(res.valence_sys_anchors[0]) == ANCHOR_TRANSFER
    (2.5, True)
    """
    kinds = {kind_of(ds) for ds in [*samples, *(ds for ds, _ in anchors)]}
    if len(kinds) > 1:
        raise DataError("the samples and anchors mix XANES and XES spectra: one valence line is of one kind")
    kind = kinds.pop() if kinds else "xanes"
    opts = options_of(XanesOptions if kind == "xanes" else XesOptions, options, {})
    names = BUDGETED if kind == "xanes" else xes_budgeted(opts)
    if observable not in names:
        raise DataError(f"{observable!r} has no uncertainty budget in the {kind} analysis; one of {sorted(names)}")
    conditions = valence.anchor_conditions(anchors, force_anchors=force_anchors)

    def analysed(ds: xr.Dataset) -> xr.Dataset:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpectroWarning)
            res = xanes.budget(ds, opts, spectra=False) if kind == "xanes" else xes.analyze(ds, opts, budget=True)
        keep = [v for v in res.data_vars if res[v].dims in (("scan",), ("scan", "variation"))]
        return res[keep]

    def labelled(ds: xr.Dataset) -> xr.Dataset:
        res = analysed(ds)
        source = str(ds.attrs.get("reference_id") or ds.attrs.get("source_file") or "")
        return res.assign_coords(scan=[f"{source}:{s}" if source else str(s) for s in res["scan"].values])

    return valence_from_budgets([analysed(ds) for ds in samples], [(labelled(ds), known) for ds, known in anchors],
                                observable=observable, transfer=transfer, conditions=conditions)


def valence_from_budgets(
    samples: Sequence[xr.Dataset],
    anchors: Sequence[tuple[xr.Dataset, float]],
    *,
    observable: str = "e0",
    transfer: float = ANCHOR_TRANSFER,
    conditions: Sequence[Conditions] = (),
) -> tuple[LinearCalibration, list[xr.Dataset]]:
    """:func:`valence_budget` from spectra already analysed with their budget.

    Parameters
    ----------
    samples : sequence of xarray.Dataset
        Budget results of the samples (:func:`spectro.xanes.analyze` or
        :func:`spectro.xes.analyze` with ``budget=True``, or the batch's):
        per scan ``<observable>``, ``<observable>_stat`` and
        ``<observable>_variation`` along ``variation`` with its
        ``variation_component`` coordinate; XANES results also
        ``<observable>_err_scan``, ``calibration_shift`` and
        ``budget_flags`` (Kbeta results, whose ``kind`` attr starts with
        ``xes``, have no energy calibration and each scan's error is its
        statistical one).
    anchors : sequence of (xarray.Dataset, float)
        Budget results of each anchor compound (the same variables, the
        same variations; the scan labels name the points of the line) and
        its valence.
    observable, transfer : keyword-only
        As in :func:`valence_budget`.
    conditions : sequence of spectro.references.Conditions, keyword-only
        Each anchor's conditions (:func:`spectro.valence.anchor_conditions`):
        when they differ, every valence is flagged ``anchor_mismatch``.

    Returns
    -------
    calibration : LinearCalibration
    results : list of xarray.Dataset
        As :func:`valence_budget` returns them.

    Examples
    --------
    >>> import spectro, warnings
    >>> sim = spectro.simulate.xanes(valence=[2.0, 3.0, 2.5], n_scans=3, reference=True, seed=1)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = spectro.xanes.analyze(sim, preedge="centroid", budget=True, spectra=False)
    >>> cal, (out,) = valence_from_budgets([res.isel(scan=[2])], [(res.isel(scan=[0]), 2.0),
    ...                                                           (res.isel(scan=[1]), 3.0)])
    >>> round(float(out.valence[0]), 1), bool(out.valence_err[0] > out.valence_stat[0])
    (2.5, True)
    """
    is_xes = _is_xes(anchors[0][0]) if anchors else False
    missing = [res for res, _ in anchors if f"{observable}_variation" not in res] + [
        res for res in samples if f"{observable}_variation" not in res]
    if missing:
        budgeted = sorted(str(v)[: -len("_variation")] for v in missing[0].data_vars if str(v).endswith("_variation"))
        raise DataError(f"{observable!r} has no uncertainty budget; one of {budgeted}")
    q_ = np.concatenate([np.full(res.sizes["scan"], float(known)) for res, known in anchors])
    x_, s_, d_ = (np.concatenate([res[name].values for res, _ in anchors]).astype(float)
                  for name in (observable, f"{observable}_stat", f"{observable}_variation"))
    labels = [str(label) for res, _ in anchors for label in res["scan"].values]
    cal = valence.with_conditions(linear_calibration(q_, x_, s_, labels=labels, observable=observable), conditions)
    components = anchors[0][0]["variation_component"].values
    names = XES_VALENCE_COMPONENTS if is_xes else VALENCE_COMPONENTS
    lines = []
    for k in range(d_.shape[1]):
        xk = x_ + d_[:, k]
        ok = np.isfinite(xk)
        try:
            c = linear_calibration(q_[ok], xk[ok], s_[ok], observable=observable)
            lines.append((c.intercept, c.slope))
        except DataError:
            lines.append((np.nan, np.nan))
    if len(anchors) >= 3:
        excess = np.sum(cal.residuals**2) / max(cal.dof, 1) - np.mean(s_**2)
        anchor_term = float(np.sqrt(max(excess, 0.0)) / abs(cal.slope))
        anchor_method = (f"consistency of {len(anchors)} anchor compounds: scatter about the line beyond "
                         "their statistical errors, over the slope")
    else:
        anchor_term = float(transfer)
        measured = ("measured on XANES anchors only: none is measured for Kbeta" if is_xes else
                    "two real beamlines' anchors show none beyond the other components")
        anchor_method = ("two anchor compounds: no consistency check is possible; cross-beamline term "
                         f"{anchor_term:g} ({measured}, see docs/uncertainty.md)")

    out = []
    for res in samples:
        stat_in = xr.Dataset({observable: res[observable], f"{observable}_err": res[f"{observable}_stat"],
                              **{k: res[k] for k in ("calibration_shift", "flags") if k in res}})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = apply_calibration(stat_in, cal, calibration_err=0.0, flag_uncalibrated=not is_xes)
        est["valence_err_references"] = est["valence_err_references"] / np.sqrt(cal.scale)
        stat = np.sqrt(est.valence_err_sample**2 + est.valence_err_references**2)
        xs = res[observable].values
        dv = np.stack([(xs + res[f"{observable}_variation"].values[:, k] - a) / b - est.valence.values
                       for k, (a, b) in enumerate(lines)], axis=-1) if lines else np.zeros(xs.shape + (0,))
        parts = {c: _rms(dv[:, components == c]) for c in names[:-1]}
        parts["anchors"] = np.full(xs.shape, anchor_term)
        sys = np.sqrt(sum(p**2 for p in parts.values()))
        attrs = {"units": "1", "anchors": est.valence.attrs["anchors"], "observable": observable,
                 **cal.mismatch_attrs()}
        err_scan = res[f"{observable}_err_scan" if f"{observable}_err_scan" in res else f"{observable}_stat"]
        new = {
            "valence": est.valence,
            "valence_stat": stat.assign_attrs(attrs, long_name="valence statistical uncertainty (1 sigma)",
                                              method="sample and reference noise, line covariance unscaled"),
            "valence_sys": xr.DataArray(sys, dims="scan").assign_attrs(
                attrs, long_name="valence systematic uncertainty (1 sigma)",
                method="components in quadrature: " + ", ".join(names)),
            "valence_err": xr.DataArray(np.hypot(stat.values, sys), dims="scan").assign_attrs(
                attrs, long_name="valence total uncertainty (1 sigma)", method="stat and sys in quadrature"),
            "valence_err_scan": xr.DataArray(err_scan.values / abs(cal.slope), dims="scan")
            .assign_attrs(attrs, long_name="valence uncertainty that varies from scan to scan",
                          method=f"{err_scan.name} over the slope"),
            "valence_err_sample": est.valence_err_sample,
            "valence_err_references": est.valence_err_references.assign_attrs(
                long_name="valence uncertainty from the anchors' statistical errors"),
            "valence_err_calibration": est.valence_err_calibration,
        }
        for c, p in parts.items():
            method = anchor_method if c == "anchors" else (
                f"rms change of the valence when anchors and sample are analysed with the {c.replace('_', ' ')} "
                "variations and the line refitted")
            new[f"valence_sys_{c}"] = xr.DataArray(p, dims="scan").assign_attrs(
                attrs, long_name=f"valence systematic uncertainty from the {c.replace('_', ' ')}", method=method)
        flags = est.valence_flags.values
        for flag in BudgetFlag if "budget_flags" in res else ():
            flags = add_flag(flags, flag.name.lower(), (res["budget_flags"].values & flag) > 0)
        new["valence_flags"] = xr.DataArray(flags, dims="scan").assign_attrs(units="", long_name="valence flags")
        for warning in flag_warnings(flags, res["scan"].values, cal):
            warnings.warn(warning, stacklevel=2)
        merged = res.drop_vars([v for v in res.data_vars if res[v].dims != ("scan",)])
        merged = merged.assign({k: v.variable if isinstance(v, xr.DataArray) else v for k, v in new.items()})
        out.append(merged.assign_attrs(kind="valence_budget", valence_method=est.valence.attrs["method"],
                                       **cal.mismatch_attrs()))
    return cal, out
