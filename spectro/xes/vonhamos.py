"""von Hamos spectrometer frames: ROI summation and pixel-to-energy calibration.

A von Hamos spectrometer (a crystal bent cylindrically around the axis that
joins the source and a position-sensitive detector) disperses the emission
along that axis. A frame (or a stack of frames) becomes a spectrum in two
steps:

ROI summation
    Counts are summed over the rows ``roi`` of the non-dispersive direction
    (all rows by default), giving counts per dispersive pixel; a stack of
    frames is summed (``frames="sum"``) or kept as one scan per frame
    (``frames="each"``). Errors are Poisson, ``sqrt(max(counts, 1))``.

Dispersion ``E(pixel)``
    ``method="bragg"`` (von Hamos geometry). A ray that leaves the source at
    Bragg angle theta meets the axis at ``x = 2 R / tan(theta)``, so with
    ``x = x0 + pixel * p`` (pixel pitch ``p`` along the axis, detector tilt
    absorbed) Bragg's law ``E = hc / (2 d sin(theta))`` becomes

        E(pixel) = hc / (2 d) * sqrt(1 + (a + b * pixel)**2),
        a = x0 / (2 R),  b = p / (2 R).

    With the crystal d-spacing known, ``u = sqrt((2 d E / hc)**2 - 1)`` is
    linear in the pixel, so ``a`` and ``b`` follow from a linear least-squares
    fit through >= 2 known line positions (exact for 2). ``hc`` =
    12398.419843 eV Angstrom (CODATA 2018, :mod:`scipy.constants`).

    ``method="polynomial"``: ``E(pixel)`` is a polynomial through the known
    positions, of degree ``n_lines - 1`` up to 2 by default.

Known line positions come from calibration frames (elastic lines at set
incident energies, or reference emitters) through :func:`line_pixel`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy import constants

from ..errors import DataError, FormatError, ValidationError
from ..model import Scan, build
from . import numerics as nm

__all__ = ["HC_EV_ANGSTROM", "Dispersion", "calibrate_pixels", "line_pixel", "read_frames", "roi_sum"]

#: h c in eV Angstrom.
HC_EV_ANGSTROM = constants.h * constants.c / constants.e * 1e10


@dataclass(frozen=True)
class Dispersion:
    """Pixel-to-energy calibration; call it on pixel indices to get eV.

    Attributes
    ----------
    method : {"bragg", "polynomial"}
    coefficients : tuple of float
        ``(a, b)`` for ``"bragg"``; polynomial coefficients, lowest power
        first, for ``"polynomial"``.
    d_spacing : float
        Crystal d-spacing, Angstrom (NaN for ``"polynomial"``).
    pixels, energies : ndarray
        The calibration points.
    residuals : ndarray
        ``E(pixel) - energy`` at the calibration points, eV.
    """

    method: str
    coefficients: tuple[float, ...]
    d_spacing: float
    pixels: np.ndarray = field(repr=False)
    energies: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)

    def __call__(self, pixel: np.ndarray) -> np.ndarray:
        pixel = np.asarray(pixel, dtype=float)
        if self.method == "bragg":
            a, b = self.coefficients
            return HC_EV_ANGSTROM / (2 * self.d_spacing) * np.sqrt(1.0 + (a + b * pixel) ** 2)
        return np.polynomial.polynomial.polyval(pixel, self.coefficients)

    def to_attrs(self) -> dict[str, object]:
        """Flat attrs describing the calibration."""
        return {
            "dispersion_method": self.method,
            "dispersion_coefficients": list(self.coefficients),
            "dispersion_d_spacing_angstrom": self.d_spacing,
            "dispersion_rms_residual_ev": float(np.sqrt(np.mean(self.residuals**2))),
        }


def calibrate_pixels(
    pixels: np.ndarray,
    energies: np.ndarray,
    *,
    method: str = "bragg",
    d_spacing: float | None = None,
    degree: int | None = None,
) -> Dispersion:
    """Fit the pixel-to-energy dispersion through known line positions.

    Parameters
    ----------
    pixels : array of float
        Positions of known lines on the dispersive axis (pixel index,
        fractional allowed).
    energies : array of float
        Their energies, eV.
    method : {"bragg", "polynomial"}
        See the module docs.
    d_spacing : float
        Analyser-crystal d-spacing, Angstrom (``"bragg"`` only), e.g.
        0.96007 for Si(440).
    degree : int, optional
        Polynomial degree (default ``min(len(pixels) - 1, 2)``).

    Returns
    -------
    Dispersion

    Examples
    --------
    >>> disp = calibrate_pixels([100.0, 900.0], [8230.0, 8340.0], d_spacing=0.96007)
    >>> [round(float(v), 3) for v in disp([100.0, 900.0])]
    [8230.0, 8340.0]
    """
    p = np.asarray(pixels, dtype=float)
    e = np.asarray(energies, dtype=float)
    if p.shape != e.shape or p.ndim != 1 or p.size < 2:
        raise ValidationError("need >= 2 matching pixel positions and energies")
    if method == "bragg":
        if d_spacing is None or not d_spacing > 0:
            raise ValidationError("the Bragg dispersion needs the crystal d_spacing (Angstrom)")
        arg = (2 * d_spacing * e / HC_EV_ANGSTROM) ** 2 - 1.0
        if np.any(arg <= 0):
            raise ValidationError(
                f"energies below hc/2d = {HC_EV_ANGSTROM / (2 * d_spacing):.1f} eV cannot be "
                f"reflected by a crystal with d = {d_spacing} Angstrom"
            )
        u = np.sqrt(arg)
        b, a = np.polyfit(p, u, 1)
        disp = Dispersion("bragg", (float(a), float(b)), float(d_spacing), p, e, np.zeros_like(e))
    elif method == "polynomial":
        deg = min(p.size - 1, 2) if degree is None else int(degree)
        if deg > p.size - 1:
            raise ValidationError(f"degree {deg} needs >= {deg + 1} lines, have {p.size}")
        coef = np.polynomial.polynomial.polyfit(p, e, deg)
        disp = Dispersion("polynomial", tuple(float(c) for c in coef), float("nan"), p, e,
                          np.zeros_like(e))
    else:
        raise ValidationError(f"method must be 'bragg' or 'polynomial', not {method!r}")
    return Dispersion(disp.method, disp.coefficients, disp.d_spacing, p, e, disp(p) - e)


def line_pixel(
    profile: np.ndarray,
    near: np.ndarray | float,
    *,
    half_width: float = 8.0,
    fit_half_width: float = 3.0,
):
    """Sub-pixel positions of lines in a counts-per-pixel profile.

    Each line starts at the maximum within ``half_width`` pixels of ``near``
    (refined by a parabola over +-2 pixels); its position is then the
    centroid over +-``fit_half_width`` pixels around the current estimate,
    iterated three times, so the window ends up symmetric about the line.
    Errors are those of the centroid for Poisson counts
    (:func:`spectro.xes.numerics.first_moment`). Choose ``fit_half_width``
    about the line's full width at half maximum.

    Parameters
    ----------
    profile : ndarray, shape (..., n_pixels)
    near : float or array
        Approximate pixel position(s) of the line(s).
    half_width : float, default 8
        Search half-width, pixels.
    fit_half_width : float, default 3
        Half-width of the centroid window, pixels.

    Returns
    -------
    position, position_err : ndarray
        Shape ``near.shape + profile.shape[:-1]``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(200.0)
    >>> pos, err = line_pixel(1000 * np.exp(-0.5 * ((x - 80.3) / 3) ** 2), 78, fit_half_width=8)
    >>> round(pos.item(), 1)
    80.3
    """
    y = np.asarray(profile, dtype=float)
    near = np.asarray(near, dtype=float)
    yb = np.broadcast_to(y, near.shape + y.shape)
    x = np.broadcast_to(np.arange(y.shape[-1], dtype=float), yb.shape)
    c = near.reshape(near.shape + (1,) * (y.ndim - 1))
    c = np.broadcast_to(c, yb.shape[:-1])
    s = np.sqrt(np.fmax(yb, 1.0))
    pos, err, *_ = nm.local_peak(x, yb, s, nm.in_window(x, c - half_width, c + half_width), 2.0)
    for _ in range(3):
        pos, err = nm.first_moment(
            x, yb, s, nm.in_window(x, pos - fit_half_width, pos + fit_half_width))
    return pos, err


def roi_sum(frames: np.ndarray, *, roi: tuple[int, int] | None = None, axis: int = -1,
            frame_mode: str = "sum") -> np.ndarray:
    """Counts per dispersive pixel: sum over ROI rows (and frames).

    Parameters
    ----------
    frames : ndarray, shape (ny, nx) or (n_frames, ny, nx)
    roi : (start, stop), optional
        Rows (non-dispersive direction) to sum, Python slice convention.
    axis : {-1, -2}
        Dispersive axis of a frame (-1: columns).
    frame_mode : {"sum", "each"}

    Returns
    -------
    ndarray, shape (n_pixels,) or (n_frames, n_pixels)

    Examples
    --------
    >>> import numpy as np
    >>> roi_sum(np.ones((2, 4, 3)), roi=(1, 3)).tolist()
    [4.0, 4.0, 4.0]
    """
    f = np.asarray(frames, dtype=float)
    if f.ndim == 2:
        f = f[None]
    if f.ndim != 3:
        raise DataError(f"a frame must be 2-D (or a 3-D stack), not {f.ndim}-D")
    if axis in (-2, 1):
        f = np.swapaxes(f, -1, -2)
    elif axis not in (-1, 2):
        raise ValidationError(f"axis must be -1 or -2, not {axis}")
    rows = slice(None) if roi is None else slice(*roi)
    counts = f[:, rows, :].sum(axis=1)
    if counts.shape[-1] == 0 or f[:, rows, :].shape[1] == 0:
        raise DataError(f"the ROI {roi} selects no detector rows (frame has {f.shape[1]})")
    if frame_mode == "sum":
        return counts.sum(axis=0)
    if frame_mode == "each":
        return counts
    raise ValidationError(f"frame_mode must be 'sum' or 'each', not {frame_mode!r}")


def _find_dataset(h5, dataset: str | None):
    import h5py

    if dataset is not None:
        if dataset not in h5:
            raise FormatError(f"no HDF5 dataset {dataset!r}")
        return h5[dataset]
    found = []
    h5.visititems(lambda name, obj: found.append(obj) if isinstance(obj, h5py.Dataset)
                  and obj.ndim in (2, 3) and np.issubdtype(obj.dtype, np.number) else None)
    if not found:
        raise FormatError("no 2-D or 3-D numeric dataset (detector frame) in the file")
    return found[0]


def read_frames(
    path: str | os.PathLike,
    *,
    dispersion: Dispersion,
    dataset: str | None = None,
    roi: tuple[int, int] | None = None,
    axis: int = -1,
    frame_mode: str = "sum",
    pixels: tuple[int, int] | None = None,
) -> xr.Dataset:
    """Read von Hamos detector frames from HDF5 into an XES Dataset.

    Parameters
    ----------
    path : str or path-like
        HDF5 file.
    dispersion : Dispersion
        From :func:`calibrate_pixels`.
    dataset : str, optional
        Path of the frame dataset; default the first 2-D/3-D numeric one.
    roi : (start, stop), optional
        Non-dispersive rows to sum (default all).
    axis : {-1, -2}
        Dispersive axis of a frame.
    frame_mode : {"sum", "each"}
        One summed scan, or one scan per frame of a stack.
    pixels : (start, stop), optional
        Dispersive pixels to keep (default all).

    Returns
    -------
    xarray.Dataset
        ``intensity(scan, emission_energy)`` in counts with Poisson
        ``intensity_err``; the ROI, dataset and calibration as attrs.

    Examples
    --------
    >>> disp = calibrate_pixels([0.0, 100.0], [8250.0, 8280.0], d_spacing=0.96007)
    >>> ds = read_frames("frames.h5", dispersion=disp)  # doctest: +SKIP
    """
    import h5py

    path = os.fspath(path)
    try:
        with h5py.File(path, "r") as h5:
            dset = _find_dataset(h5, dataset)
            name = dset.name
            data = dset[()]
    except OSError as err:
        raise FormatError(f"cannot be read as HDF5: {err}", file=path) from err
    counts = np.atleast_2d(roi_sum(data, roi=roi, axis=axis, frame_mode=frame_mode))
    pix = np.arange(counts.shape[-1], dtype=float)
    if pixels is not None:
        counts = counts[:, slice(*pixels)]
        pix = pix[slice(*pixels)]
    energy = dispersion(pix)
    if np.all(np.diff(energy) < 0):
        energy, counts, pix = energy[::-1], counts[:, ::-1], pix[::-1]
    labels = ["sum"] if frame_mode == "sum" else [f"frame {i}" for i in range(counts.shape[0])]
    scans = [Scan(energy, {"intensity": c, "intensity_err": np.sqrt(np.fmax(c, 1.0))}, label)
             for c, label in zip(counts, labels)]
    attrs = {"source_format": "vonhamos-hdf5", "dataset": name,
             "roi": [] if roi is None else list(roi), "dispersive_axis": axis,
             "frame_mode": frame_mode, **dispersion.to_attrs()}
    return build(scans, kind="xes", file=path, attrs=attrs)
