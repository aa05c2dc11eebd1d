"""Energy-dispersive XAS: from detector pixels to energy with a foil measured on both scales.

An energy-dispersive spectrometer (a bent polychromator focusing a fan of
energies on the sample, a position-sensitive detector behind it: ESRF ID24,
Photon Factory NW2A, Diamond I20-EDE) records absorbance per detector
**pixel**. The pixel-to-energy map is found from a metal foil measured on
the same pixels and the same foil (or an equal one) measured on an energy
scale (a conventional scan), and then applied to every sample spectrum
measured on those pixels:

1. **Reference edge.** The reference foil's edge ``E0_ref`` is where
   ``d mu / dE`` is largest: the derivative is taken on a 0.1 eV grid
   (linear interpolation) with a 3 eV Savitzky-Golay window, and the edge
   is the centre of the energies around its maximum where it exceeds 95 %
   of it (a broad K edge such as that of Pd has a flat-topped derivative,
   1.7 eV wide for the Photon Factory Pd foil, 0.4 eV for the ESRF Cu
   foil). With
   ``edge_energy="tabulated"`` (default) the reference energies are
   shifted so that ``E0_ref`` lies at the tabulated K edge (xraydb, Elam
   *et al.*) of the element whose K edge is nearest (within 30 eV); a
   number puts it there instead, and None keeps the reference's own
   scale. The shift's uncertainty is ``sqrt(w^2 + h^2) / sqrt(12)``, ``w``
   the width of that 95 % region and ``h`` the reference's grid step at the
   edge.
2. **Normalized reference.** ``N(E) = (mu_ref - pre(E)) / step``: ``pre`` the
   line through ``[E0 - 200, E0 - 30]`` eV, ``step`` the post-edge line
   through ``[E0 + 50, E0 + 500]`` eV minus ``pre``, both at ``E0``;
   interpolated by a cubic spline.
3. **Start.** The foil's edge pixel ``p0`` is the largest ``|d mu / d pixel|``
   of the Savitzky-Golay-smoothed foil, and its sign the direction of the
   dispersion (absorbance rises through an edge). The dispersion ``|dE/dp|``
   is the one of 400 values from 0.01 to 10 eV/pixel for which the linear map
   ``E = E0 + d (p - p0)`` gives the smallest RMS residual of the model
   below (its linear parameters by linear least squares), among the maps
   that place the foil's pixels from at least ``E0 - 15`` to ``E0 + 30`` eV
   (the foil must show its edge) and at least half of them inside the
   reference's range.
4. **Fit.** A polynomial ``E(p)`` of degree ``degree`` (default 2) and four
   nuisance parameters are adjusted by :func:`scipy.optimize.least_squares`
   so that ``mu_foil(p) = b0 + b1 x + s N(E(p)) (1 + t x)`` with
   ``x = (E(p) - E0) / 100 eV``: the foil's own pre-edge line (``b0``,
   ``b1``), its edge step (``s``) and a linear change of the step above the
   edge (``t``; foils of different thickness or harmonic content); the
   reference is convolved with a Gaussian of fitted standard deviation
   ``sigma >= 0`` (the dispersive spectrometer's coarser resolution; without
   it the map bends to imitate the blur). The polynomial is in ``u``, the
   pixel scaled to [-1, 1]; ``N`` is a cubic spline through the reference's
   points, sampled every 0.05 eV.
   Only the pixels the starting map places inside the reference's range
   take part.
5. **Uncertainty.** The covariance of the polynomial coefficients is
   ``(J^T J)^-1 chi2 / (n - m)`` from the Jacobian ``J`` at the solution,
   multiplied by the residuals' integrated autocorrelation time ``tau``
   (``1 + 2 sum rho_k`` up to the first negative ``rho_k``): neighbouring
   pixels share resolution and model mismatch, so there are about ``n /
   tau`` independent residuals, not ``n``. The energy of a pixel has the
   one-sigma error ``sqrt(v C v^T + sigma_shift^2)``, ``v = (1, u, u^2, ...)``.

:func:`read_pixels` reads the two-column text files of such beamlines
(``pixel value`` with ``:`` or ``#`` header lines; ``pixel , value``), one
scan per value column; :func:`calibrate` makes the map
(:class:`PixelCalibration`); :func:`apply` puts spectra measured on the
pixels on the energy axis, a XANES Dataset of the data model.

Examples
--------
>>> import numpy as np, spectro
>>> ref = spectro.simulate.xanes(seed=0)                     # a foil scanned in energy
>>> e = ref.energy.values
>>> pixels = np.arange(600.0)
>>> energy = 8290.0 + 0.35 * pixels + 2e-5 * pixels**2       # the map to be found
>>> foil = pixels_dataset(pixels, np.interp(energy, e, ref.mu.values[0]))
>>> cal = calibrate(foil, ref, edge_energy=None)
>>> [round(float(v), 2) for v in cal([0.0, 300.0, 599.0])], bool(cal.energy_err(300.0) < 0.05)
([8290.0, 8396.8, 8506.83], True)
>>> apply(foil, cal).mu.dims
('scan', 'energy')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import DataError, FormatError, ValidationError
from .model import Scan, build, source_file

__all__ = ["PixelCalibration", "apply", "calibrate", "pixels_dataset", "read_pixels"]

_PRE = (-200.0, -30.0)
_POST = (50.0, 500.0)
_EDGE_MATCH = 30.0
_EDGE_GRID = 0.1
_EDGE_SMOOTH = 3.0
_EDGE_TOP = 0.95
_SHOWN = (-15.0, 30.0)
_STEP_SCALE = 100.0
_REF_GRID = 0.05
_BLUR_START = 0.5


class _Blurred:
    """A spectrum on a uniform grid convolved with a Gaussian of a given sigma (eV), the last one kept."""

    def __init__(self, grid: np.ndarray, values: np.ndarray) -> None:
        self.step = grid[1] - grid[0]
        self.values = values
        pad = values.size
        padded = np.concatenate([np.full(pad, values[0]), values, np.full(pad, values[-1])])
        self.spectrum = np.fft.rfft(padded)
        self.freq = np.fft.rfftfreq(padded.size, d=self.step)
        self.pad = pad
        self.last: tuple[float, np.ndarray] = (0.0, values)

    def __call__(self, sigma: float) -> np.ndarray:
        if sigma != self.last[0]:
            if sigma <= 0.0:
                out = self.values
            else:
                kernel = np.exp(-2.0 * (np.pi * sigma * self.freq) ** 2)
                out = np.fft.irfft(self.spectrum * kernel, n=3 * self.pad)[self.pad:2 * self.pad]
            self.last = (sigma, out)
        return self.last[1]


# --- reading ---------------------------------------------------------------------------------


def pixels_dataset(pixels: np.ndarray, mu: np.ndarray, *, labels: list[str] | None = None,
                   file: str = "", attrs: dict[str, Any] | None = None) -> xr.Dataset:
    """Spectra on a detector-pixel axis: ``mu(scan, pixel)``.

    Parameters
    ----------
    pixels : ndarray, shape (n,)
        Pixel indices (increasing).
    mu : ndarray, shape (n,) or (n_scans, n)
        Absorbance per pixel.
    labels : list of str, optional
        Scan labels (default ``"0"``, ``"1"``, ...).
    file : str
        Source file, recorded in ``attrs["source_file"]``.
    attrs : dict, optional
        Further attrs (header lines, ...).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> pixels_dataset(np.arange(10.0), np.ones(10)).mu.dims
    ('scan', 'pixel')
    """
    p = np.asarray(pixels, dtype=float)
    y = np.atleast_2d(np.asarray(mu, dtype=float))
    if p.ndim != 1 or y.shape[-1] != p.size or p.size < 10:
        raise DataError(f"need >= 10 pixels and one value per pixel, have {p.size} pixels and shape {y.shape}",
                        file=file or None)
    if not np.all(np.diff(p) > 0):
        raise DataError("the pixel column must increase", file=file or None)
    labels = [str(i) for i in range(y.shape[0])] if labels is None else [str(v) for v in labels]
    return xr.Dataset(
        {"mu": (("scan", "pixel"), y, {"units": "1", "long_name": "absorbance per detector pixel"})},
        coords={"scan": labels, "pixel": ("pixel", p, {"units": "1", "long_name": "detector pixel"})},
        attrs={"kind": "pixels", "source_file": file, **(attrs or {})},
    )


def read_pixels(path: str | os.PathLike, *, labels: list[str] | None = None) -> xr.Dataset:
    """Read a dispersive spectrum on a pixel axis from a text file.

    Lines whose fields (split on commas and blanks) are all numbers are the
    table, its first column the pixel index and every further column one
    scan; other lines (``:`` or ``#`` headers, a bare ``, 0``) are kept in
    ``attrs["header"]``. The rows with the most common number of fields
    are used.

    Parameters
    ----------
    path : str or path-like
    labels : list of str, optional
        Scan labels for the value columns (default: the file name, with
        ``:<column>`` for files of several columns).

    Returns
    -------
    xarray.Dataset
        ``mu(scan, pixel)`` (see :func:`pixels_dataset`).

    Raises
    ------
    FormatError
        No numeric table of at least two columns, or a first column that is
        not an increasing integer pixel index.

    Examples
    --------
    >>> ds = read_pixels("cu_08")  # doctest: +SKIP
    """
    path = os.fspath(path)
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as err:
        raise FormatError(f"cannot be read: {err}", file=path) from err
    rows, header = [], []
    for line in text.splitlines():
        fields = [f for f in re.split(r"[,\s]+", line.strip()) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            values = []
        if len(values) >= 2 and len(values) == len(fields) and not line.lstrip().startswith((",", ":", "#")):
            rows.append(values)
        elif line.strip():
            header.append(line.strip())
    if not rows:
        raise FormatError("no table of numbers (pixel, value, ...) found", file=path)
    widths = [len(r) for r in rows]
    width = max(set(widths), key=widths.count)
    table = np.array([r for r in rows if len(r) == width])
    pixel = table[:, 0]
    if not (np.all(pixel == np.round(pixel)) and np.all(np.diff(pixel) > 0)):
        raise FormatError("the first column is not an increasing integer pixel index", file=path)
    name = Path(path).name
    if labels is None:
        labels = [name] if width == 2 else [f"{name}:{i}" for i in range(1, width)]
    return pixels_dataset(pixel, table[:, 1:].T, labels=labels, file=path, attrs={"header": header})


# --- the reference -------------------------------------------------------------------------


def _edge(e: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """The edge of a spectrum and its uncertainty, eV (see the module docs, step 1)."""
    from scipy.signal import savgol_filter

    grid = np.arange(e[0], e[-1], _EDGE_GRID)
    d = savgol_filter(np.interp(grid, e, mu), int(round(_EDGE_SMOOTH / _EDGE_GRID)) | 1, 2, deriv=1,
                      delta=_EDGE_GRID)
    j = int(np.argmax(d))
    top = d >= _EDGE_TOP * d[j]
    below = np.flatnonzero(~top[:j])
    above = np.flatnonzero(~top[j:])
    lo = below[-1] + 1 if below.size else 0
    hi = j + above[0] - 1 if above.size else grid.size - 1
    edge = 0.5 * (grid[lo] + grid[hi])
    k = int(np.clip(np.searchsorted(e, edge), 1, e.size - 1))
    return float(edge), float(np.hypot(grid[hi] - grid[lo], e[k] - e[k - 1]) / np.sqrt(12.0))


def _tabulated_edge(energy: float) -> tuple[str, float]:
    """The K edge (xraydb) nearest ``energy``: (element, edge energy)."""
    import xraydb

    best = ("", np.inf)
    for z in range(11, 95):
        symbol = xraydb.atomic_symbol(z)
        edge = float(xraydb.xray_edge(symbol, "K").energy)
        if abs(edge - energy) < abs(best[1] - energy):
            best = (symbol, edge)
    return best


def _line(e, y, lo, hi) -> np.ndarray:
    sel = (e >= lo) & (e <= hi)
    if np.count_nonzero(sel) < 3:
        raise DataError(f"the reference has fewer than 3 points from {lo:.0f} to {hi:.0f} eV to normalize it")
    return np.polyfit(e[sel], y[sel], 1)


# --- the calibration -----------------------------------------------------------------------


@dataclass(frozen=True)
class PixelCalibration:
    """A pixel-to-energy map ``E(p)``; call it on pixels to get eV.

    ``E(p) = sum_k a_k u^k`` with ``u = (p - center) / half_width`` (the fitted
    pixels scaled to [-1, 1]); :attr:`coefficients` gives the same
    polynomial in ``p`` (lowest power first).

    Attributes
    ----------
    scaled_coefficients : tuple of float
        ``a_k``, eV.
    scaled_covariance : ndarray
        Their covariance, eV^2.
    center, half_width : float
        Pixel scaling.
    shift, shift_err : float
        Shift applied to the reference energies (eV) and its uncertainty.
    edge_energy : float
        Where the reference's edge was put, eV (its own edge when not shifted).
    element : str
        Element of the tabulated edge ("" when not used).
    foil_edge, foil_edge_err : float
        The foil's edge on the fitted energy scale, found as the
        reference's (a check: it should be ``edge_energy``), eV.
    broadening, broadening_err : float
        Gaussian broadening (standard deviation) of the reference that
        matches the foil, and its uncertainty, eV.
    rms : float
        RMS residual of the fit relative to the foil's edge step.
    tau : float
        Integrated autocorrelation time of the residuals (pixels).
    n_pixels : int
        Pixels in the fit.
    foil, reference : str
        Their source files.
    """

    scaled_coefficients: tuple[float, ...]
    scaled_covariance: np.ndarray = field(repr=False)
    center: float
    half_width: float
    shift: float
    shift_err: float
    edge_energy: float
    element: str
    foil_edge: float
    foil_edge_err: float
    broadening: float
    broadening_err: float
    rms: float
    tau: float
    n_pixels: int
    foil: str = ""
    reference: str = ""

    def _basis(self, pixel) -> np.ndarray:
        u = (np.asarray(pixel, dtype=float) - self.center) / self.half_width
        return u[..., None] ** np.arange(len(self.scaled_coefficients))

    def __call__(self, pixel) -> np.ndarray:
        return self._basis(pixel) @ np.asarray(self.scaled_coefficients)

    def energy_err(self, pixel) -> np.ndarray:
        """One-sigma uncertainty of ``E(pixel)``, eV (fit covariance and reference shift)."""
        v = self._basis(pixel)
        return np.sqrt(np.einsum("...i,ij,...j->...", v, self.scaled_covariance, v) + self.shift_err**2)

    @property
    def coefficients(self) -> tuple[float, ...]:
        """The polynomial in the pixel index, lowest power first (eV, eV/pixel, ...)."""
        poly = np.polynomial.Polynomial(self.scaled_coefficients).convert()  # in u
        composed = poly(np.polynomial.Polynomial([-self.center / self.half_width, 1.0 / self.half_width]))
        coef = np.zeros(len(self.scaled_coefficients))
        coef[:composed.coef.size] = composed.coef
        return tuple(float(c) for c in coef)

    def to_attrs(self) -> dict[str, Any]:
        """Flat attrs describing the map and its uncertainty."""
        return {
            "dispersive_coefficients": list(self.coefficients),
            "dispersive_scaled_coefficients": list(self.scaled_coefficients),
            "dispersive_scaled_covariance": self.scaled_covariance.ravel().tolist(),
            "dispersive_pixel_center": self.center,
            "dispersive_pixel_half_width": self.half_width,
            "dispersive_reference_shift_ev": self.shift,
            "dispersive_reference_shift_err_ev": self.shift_err,
            "dispersive_edge_energy_ev": self.edge_energy,
            "dispersive_edge_element": self.element,
            "dispersive_foil_edge_ev": self.foil_edge,
            "dispersive_foil_edge_err_ev": self.foil_edge_err,
            "dispersive_broadening_ev": self.broadening,
            "dispersive_broadening_err_ev": self.broadening_err,
            "dispersive_rms_residual": self.rms,
            "dispersive_residual_correlation_pixels": self.tau,
            "dispersive_n_pixels": self.n_pixels,
            "dispersive_foil": self.foil,
            "dispersive_reference": self.reference,
            "dispersive_method": "least-squares polynomial pixel-to-energy map, foil against reference "
                                 "(docs: spectro.dispersive)",
        }


def _one(ds: xr.Dataset, dim: str, what: str) -> tuple[np.ndarray, np.ndarray, str]:
    file = source_file(ds.attrs, ds["source"].values if "source" in ds.coords else [])
    if "mu" not in ds or dim not in ds["mu"].dims:
        raise ValidationError(f"the {what} must have mu along {dim!r}", file=file or None)
    if ds.sizes.get("scan", 1) != 1:
        raise DataError(f"the {what} has {ds.sizes['scan']} scans; select one (e.g. .isel(scan=[0]))",
                        file=file or None)
    x = np.asarray(ds[dim].values, dtype=float)
    y = np.asarray(ds["mu"].values, dtype=float).reshape(-1)
    ok = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[ok])
    return x[ok][order], y[ok][order], file


def _tau(r: np.ndarray) -> float:
    """Integrated autocorrelation time of a residual sequence (>= 1)."""
    r = r - r.mean()
    n = r.size
    spec = np.fft.rfft(r, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    acf = acf / acf[0]
    negative = np.flatnonzero(acf[1:] < 0)
    stop = negative[0] + 1 if negative.size else n
    return float(max(1.0, 1.0 + 2.0 * np.sum(acf[1:stop])))


def calibrate(
    foil: xr.Dataset,
    reference: xr.Dataset,
    *,
    degree: int = 2,
    edge_energy: float | str | None = "tabulated",
    pixels: tuple[float, float] | None = None,
) -> PixelCalibration:
    """The pixel-to-energy map from a foil on pixels and a foil scanned in energy.

    Parameters
    ----------
    foil : xarray.Dataset
        One spectrum ``mu(scan, pixel)`` (:func:`read_pixels`).
    reference : xarray.Dataset
        One XANES spectrum of the same foil on an energy scale
        (:func:`spectro.read`), ``mu(scan, energy)`` in eV.
    degree : int, default 2
        Degree of the polynomial ``E(pixel)`` (1 to 4).
    edge_energy : "tabulated", float or None
        Where the reference's edge (derivative maximum) is put: the nearest
        tabulated K edge (xraydb), this energy (eV), or None to keep the
        reference's energies.
    pixels : (first, last), optional
        Pixels to use (default all).

    Returns
    -------
    PixelCalibration

    Raises
    ------
    DataError
        No edge in the foil, no tabulated K edge within 30 eV of the
        reference's edge, or a foil that does not match the reference.

    Examples
    --------
    See the module docs.
    """
    if degree not in (1, 2, 3, 4):
        raise ValidationError(f"degree must be 1 to 4, not {degree!r}")
    p, y, foil_file = _one(foil, "pixel", "foil")
    er, yr, ref_file = _one(reference, "energy", "reference")
    if pixels is not None:
        keep = (p >= pixels[0]) & (p <= pixels[1])
        p, y = p[keep], y[keep]
    if p.size < 4 * (degree + 5):
        raise DataError(f"too few pixels ({p.size}) to calibrate", file=foil_file or None)

    # 1. the reference's edge, moved where asked
    e0_meas, e0_err = _edge(er, yr)
    element = ""
    if isinstance(edge_energy, str):
        if edge_energy != "tabulated":
            raise ValidationError(f"edge_energy must be 'tabulated', a number or None, not {edge_energy!r}")
        element, target = _tabulated_edge(e0_meas)
        if abs(target - e0_meas) > _EDGE_MATCH:
            raise DataError(f"the reference's edge at {e0_meas:.1f} eV is more than {_EDGE_MATCH:g} eV from "
                            f"any tabulated K edge (nearest: {element} {target:.1f} eV); give edge_energy",
                            file=ref_file or None)
    else:
        target = e0_meas if edge_energy is None else float(edge_energy)
    shift = target - e0_meas
    shift_err = 0.0 if edge_energy is None else e0_err
    er = er + shift
    e0 = target

    # 2. the normalized reference
    from scipy.interpolate import make_interp_spline

    pre = _line(er, yr, e0 + _PRE[0], e0 + _PRE[1])
    post = _line(er, yr, e0 + _POST[0], e0 + _POST[1])
    step = np.polyval(post, e0) - np.polyval(pre, e0)
    if not step > 0:
        raise DataError("the reference has no positive edge step", file=ref_file or None)
    spline = make_interp_spline(er, (yr - np.polyval(pre, er)) / step, k=3)
    e_lo, e_hi = er[0], er[-1]
    grid = np.arange(e_lo, e_hi, _REF_GRID)
    blurred = _Blurred(grid, spline(grid))

    def norm_ref(energy, sigma=0.0):
        return np.interp(energy, grid, blurred(sigma))

    # 3. start: edge pixel, direction and dispersion
    from scipy.signal import savgol_filter

    window = max(5, (p.size // 100) | 1)
    dy = savgol_filter(y, window, 2, deriv=1)
    i0 = int(np.argmax(np.abs(dy)))
    p0, sign = p[i0], np.sign(dy[i0])
    center, half = 0.5 * (p[0] + p[-1]), 0.5 * (p[-1] - p[0])
    u = (p - center) / half

    def design(energy):
        n = norm_ref(energy)
        x = (energy - e0) / _STEP_SCALE
        return np.column_stack([np.ones_like(x), x, n, n * x])

    best = (np.inf, 0.0)
    for d in sign * np.geomspace(0.01, 10.0, 400):
        energy = e0 + d * (p - p0)
        inside = (energy >= e_lo) & (energy <= e_hi)
        covers = energy.min() <= e0 + _SHOWN[0] and energy.max() >= e0 + _SHOWN[1]
        if not covers or np.count_nonzero(inside) < 0.5 * p.size:
            continue
        a = design(energy[inside])
        coef, *_ = np.linalg.lstsq(a, y[inside], rcond=None)
        if not coef[2] > 0:
            continue
        score = np.sqrt(np.mean((y[inside] - a @ coef) ** 2))
        if score < best[0]:
            best = (score, d)
    if not np.isfinite(best[0]):
        raise DataError("no linear pixel-to-energy map puts the foil's edge on the reference's",
                        file=foil_file or None)
    d = best[1]
    energy = e0 + d * (p - p0)
    inside = (energy >= e_lo) & (energy <= e_hi)
    p, y, u = p[inside], y[inside], u[inside]
    nuisance, *_ = np.linalg.lstsq(design(energy[inside]), y, rcond=None)
    poly0 = np.zeros(degree + 1)
    poly0[:2] = [e0 + d * (center - p0), d * half]

    # 4. the fit
    from scipy.optimize import least_squares

    basis = u[:, None] ** np.arange(degree + 1)

    def residual(theta):
        energy = basis @ theta[:degree + 1]
        b0, b1, s, t, sigma = theta[degree + 1:]
        x = (energy - e0) / _STEP_SCALE
        return y - (b0 + b1 * x + s * norm_ref(energy, sigma) * (1.0 + t * x))

    start = np.concatenate([poly0, [nuisance[0], nuisance[1], nuisance[2],
                                    nuisance[3] / max(nuisance[2], 1e-12), _BLUR_START]])
    lower = np.full(start.size, -np.inf)
    lower[-1] = 0.0
    fit = least_squares(residual, start, bounds=(lower, np.inf), x_scale="jac", method="trf")
    r = fit.fun
    m = fit.x.size
    s_step = fit.x[degree + 3]
    tau = _tau(r)
    try:
        cov = np.linalg.inv(fit.jac.T @ fit.jac) * (r @ r) / (r.size - m) * tau
    except np.linalg.LinAlgError as err:
        raise DataError("the calibration fit has a singular Jacobian", file=foil_file or None) from err
    rms = float(np.sqrt(np.mean(r**2)) / s_step)
    if not (fit.success and s_step > 0 and rms < 0.2):
        raise DataError(f"the foil does not match the reference (relative RMS residual {rms:.2f})",
                        file=foil_file or None)
    on_energy = basis @ fit.x[:degree + 1]
    order = np.argsort(on_energy)
    foil_edge, foil_edge_err = _edge(on_energy[order], y[order])
    return PixelCalibration(
        scaled_coefficients=tuple(float(v) for v in fit.x[:degree + 1]),
        scaled_covariance=cov[:degree + 1, :degree + 1],
        center=float(center), half_width=float(half), shift=float(shift), shift_err=float(shift_err),
        edge_energy=float(target), element=element, foil_edge=foil_edge, foil_edge_err=foil_edge_err,
        broadening=float(fit.x[-1]), broadening_err=float(np.sqrt(cov[-1, -1])), rms=rms, tau=tau,
        n_pixels=int(r.size),
        foil=foil_file, reference=ref_file,
    )


def apply(ds: xr.Dataset, calibration: PixelCalibration) -> xr.Dataset:
    """Spectra measured on the pixels, on the energy axis of ``calibration``.

    Parameters
    ----------
    ds : xarray.Dataset
        ``mu(scan, pixel)`` (:func:`read_pixels`), any number of scans.
    calibration : PixelCalibration
        From :func:`calibrate`.

    Returns
    -------
    xarray.Dataset
        A XANES Dataset ``mu(scan, energy)`` (energies ascending, eV) with
        the map's coefficients, covariance and uncertainty in attrs
        (:meth:`PixelCalibration.to_attrs`, and ``dispersive_energy_err_ev``:
        the largest one-sigma energy error over the pixels).

    Examples
    --------
    See the module docs.
    """
    if "mu" not in ds or "pixel" not in ds["mu"].dims:
        raise ValidationError("expected spectra mu(scan, pixel) (spectro.dispersive.read_pixels)")
    p = np.asarray(ds["pixel"].values, dtype=float)
    energy = calibration(p)
    mu = np.asarray(ds["mu"].transpose("scan", "pixel").values, dtype=float)
    if not np.all(np.diff(energy) > 0) and not np.all(np.diff(energy) < 0):
        raise DataError("the map is not monotonic over these pixels; fit fewer pixels or a lower degree",
                        file=ds.attrs.get("source_file") or None)
    attrs = {**calibration.to_attrs(), "dispersive_energy_err_ev": float(np.max(calibration.energy_err(p))),
             "dispersive_pixels": [float(p[0]), float(p[-1])]}
    scans = [Scan(energy, {"mu": row}, str(label)) for row, label in zip(mu, ds["scan"].values)]
    return build(scans, kind="xanes", file=ds.attrs.get("source_file") or None, attrs=attrs)
