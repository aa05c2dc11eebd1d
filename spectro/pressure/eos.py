"""Equations of state: third-order Birch-Murnaghan, Vinet and modified Tait.

The forms are written in terms of the zero-pressure volume ``v0`` (any
volume unit; spectro uses Å³ per conventional cell), the isothermal bulk
modulus ``k0`` (GPa) and its pressure derivative ``k0p`` (dimensionless):

Birch-Murnaghan, third order (Birch, Phys. Rev. 71, 809 (1947)), with
``y = (v0 / v) ** (2 / 3)``::

    P = 3/2 k0 (y**(7/2) - y**(5/2)) [1 + 3/4 (k0p - 4) (y - 1)]

Vinet (Vinet et al., J. Geophys. Res. 92, 9319 (1987)), with
``x = (v / v0) ** (1 / 3)``::

    P = 3 k0 (1 - x) / x**2 exp[3/2 (k0p - 1) (1 - x)]

Modified Tait (Holland & Powell, J. Metamorph. Geol. 29, 333 (2011), eq. 3,
the form of their thermodynamic dataset ds62), with the second derivative
``k0pp`` (GPa⁻¹; ``-k0p / k0`` when not given, their convention)::

    V / v0 = 1 - a [1 - (1 + b P) ** (-c)]
    a = (1 + k0p) / (1 + k0p + k0 k0pp)
    b = k0p / k0 - k0pp / (1 + k0p)
    c = (1 + k0p + k0 k0pp) / (k0p**2 + k0p - k0 k0pp)

Volumes at given pressures come from Newton iterations on whole arrays,
started from the Murnaghan volume (closed form for the modified Tait);
:func:`fit_eos` fits P-V data with errors in P and/or V. Parameters may be
arrays that broadcast against the volumes or pressures (one row per draw
of the parameters, see :meth:`EOS.draw`).

Examples
--------
>>> from spectro.pressure.eos import EOS
>>> eos = EOS(v0=72.88, k0=205.0, k0p=4.0)
>>> v = eos.volume(10.0)
>>> round(float(eos.pressure(v)), 10)
10.0
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import DataError, FitError, ValidationError

__all__ = ["EOS", "FORMS", "EOSFit", "bulk_modulus", "fit_eos", "pressure", "volume"]

#: Equation-of-state forms spectro knows.
FORMS = ("bm3", "vinet", "tait")

_NEWTON_MAX_ITER = 60
_NEWTON_RTOL = 1e-13


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValidationError(f"unknown equation of state {form!r}; use one of {FORMS}")


def _tait_abc(k0, k0p, k0pp):
    """Constants a, b (GPa⁻¹), c of the modified Tait form."""
    k0pp = -np.asarray(k0p) / np.asarray(k0) if k0pp is None else k0pp
    a = (1.0 + k0p) / (1.0 + k0p + k0 * k0pp)
    b = k0p / k0 - k0pp / (1.0 + k0p)
    c = (1.0 + k0p + k0 * k0pp) / (k0p**2 + k0p - k0 * k0pp)
    return a, b, c


def pressure(
    v: np.ndarray | float, *, v0: float, k0: float, k0p: float, form: str = "bm3",
    k0pp: float | None = None,
) -> np.ndarray:
    """Pressure of an equation of state at volume ``v``.

    Parameters
    ----------
    v : array_like
        Volume, same unit as ``v0``.
    v0 : float
        Zero-pressure volume.
    k0 : float
        Zero-pressure isothermal bulk modulus, GPa.
    k0p : float
        Pressure derivative of the bulk modulus (dimensionless).
    form : {"bm3", "vinet", "tait"}
        Third-order Birch-Murnaghan, Vinet or modified Tait.
    k0pp : float, optional
        Second pressure derivative of the bulk modulus, GPa⁻¹ (modified
        Tait only; default ``-k0p / k0``).

    Returns
    -------
    ndarray
        Pressure in GPa, shape of ``v`` (broadcast with the parameters).

    Examples
    --------
    >>> float(pressure(1.0, v0=1.0, k0=200.0, k0p=4.0))
    0.0
    >>> bool(pressure(0.9, v0=1.0, k0=200.0, k0p=4.0) > 0)
    True
    """
    _check_form(form)
    v = np.asarray(v, dtype=float)
    if form == "tait":
        a, b, c = _tait_abc(k0, k0p, k0pp)
        return ((1.0 - (1.0 - v / v0) / a) ** (-1.0 / c) - 1.0) / b
    if form == "bm3":
        y = (v0 / v) ** (2.0 / 3.0)
        return 1.5 * k0 * (y**3.5 - y**2.5) * (1.0 + 0.75 * (k0p - 4.0) * (y - 1.0))
    x = np.cbrt(v / v0)
    return 3.0 * k0 * (1.0 - x) / x**2 * np.exp(1.5 * (k0p - 1.0) * (1.0 - x))


def bulk_modulus(
    v: np.ndarray | float, *, v0: float, k0: float, k0p: float, form: str = "bm3",
    k0pp: float | None = None,
) -> np.ndarray:
    """Isothermal bulk modulus ``K = -v dP/dv`` at volume ``v``, GPa.

    Parameters are those of :func:`pressure`; the derivative is analytic.

    Examples
    --------
    >>> float(bulk_modulus(1.0, v0=1.0, k0=200.0, k0p=4.0, form="vinet"))
    200.0
    >>> round(float(bulk_modulus(1.0, v0=1.0, k0=200.0, k0p=3.94, form="tait")), 9)
    200.0
    """
    _check_form(form)
    v = np.asarray(v, dtype=float)
    if form == "tait":
        a, b, c = _tait_abc(k0, k0p, k0pp)
        u = 1.0 + b * pressure(v, v0=v0, k0=k0, k0p=k0p, form=form, k0pp=k0pp)
        # K = -V dP/dV with V = v0 [1 - a (1 - u**-c)], u = 1 + b P
        return v * u ** (c + 1.0) / (v0 * a * b * c)
    if form == "bm3":
        y = (v0 / v) ** (2.0 / 3.0)
        c = 0.75 * (k0p - 4.0)
        dp_dy = 1.5 * k0 * (
            (3.5 * y**2.5 - 2.5 * y**1.5) * (1.0 + c * (y - 1.0)) + (y**3.5 - y**2.5) * c
        )
        return (2.0 / 3.0) * y * dp_dy
    x = np.cbrt(v / v0)
    eta = 1.5 * (k0p - 1.0)
    dp_dx = (
        3.0 * k0 * np.exp(eta * (1.0 - x))
        * (-(x**-2) - 2.0 * (1.0 - x) * x**-3 - eta * (1.0 - x) * x**-2)
    )
    return -(x / 3.0) * dp_dx


def volume(
    p: np.ndarray | float, *, v0: float, k0: float, k0p: float, form: str = "bm3",
    k0pp: float | None = None,
) -> np.ndarray:
    """Volume at pressure ``p``: the inverse of :func:`pressure`.

    Modified Tait: closed form. Birch-Murnaghan and Vinet: Newton
    iterations on the whole array (``dv = (P(v) - p) v / K(v)``,
    damped to 5 % of the volume per step and kept on the side of positive
    bulk modulus), started from the Murnaghan volume
    ``v0 (1 + k0p p / k0) ** (-1 / k0p)``, until the relative step is below
    1e-13.

    Parameters
    ----------
    p : array_like
        Pressure, GPa. NaN gives NaN.
    v0, k0, k0p, form, k0pp
        As in :func:`pressure`.

    Returns
    -------
    ndarray
        Volume, unit of ``v0``, shape of ``p`` (broadcast with the
        parameters).

    Raises
    ------
    DataError
        If the iterations do not converge (pressure far outside the range
        where the form is meaningful, e.g. below ``-k0 / k0p``).

    Examples
    --------
    >>> v = volume([0.0, 10.0, 50.0], v0=72.88, k0=205.0, k0p=4.0)
    >>> [round(float(x), 3) for x in pressure(v, v0=72.88, k0=205.0, k0p=4.0)]
    [0.0, 10.0, 50.0]
    """
    _check_form(form)
    p = np.asarray(p, dtype=float)
    if form == "tait":
        a, b, c = _tait_abc(k0, k0p, k0pp)
        with np.errstate(invalid="ignore"):
            return v0 * (1.0 - a * (1.0 - (1.0 + b * p) ** (-c)))
    with np.errstate(invalid="ignore", over="ignore"):
        base = np.clip(1.0 + k0p * p / k0, 1e-3, None)
        v = v0 * base ** (-1.0 / k0p)
        for _ in range(_NEWTON_MAX_ITER):
            k = bulk_modulus(v, v0=v0, k0=k0, k0p=k0p, form=form)
            step = (pressure(v, v0=v0, k0=k0, k0p=k0p, form=form) - p) * v / k
            # Damped: at most 5 % of the volume per step, and never past the
            # pressure maximum (K <= 0) that BM3 has at extreme compression.
            step = np.clip(step, -0.05 * v, 0.05 * v)
            k_new = bulk_modulus(v + step, v0=v0, k0=k0, k0p=k0p, form=form)
            step = np.where(k_new > 0, step, 0.5 * step)
            v = v + step
            if np.all(~np.isfinite(p) | (np.abs(step) <= _NEWTON_RTOL * np.abs(v))):
                return v
    bad = np.isfinite(p) & ~(np.abs(step) <= 1e-8 * np.abs(v))
    if np.any(bad):
        raise DataError(
            f"volume iterations did not converge at pressure(s) {np.broadcast_to(p, bad.shape)[bad][:5]} GPa "
            f"for {form} with k0 {k0} GPa and k0p {k0p}"
        )
    return v


@dataclass(frozen=True)
class EOS:
    """An equation of state with its parameters and their uncertainties.

    Parameters
    ----------
    v0 : float
        Zero-pressure volume (Å³ per conventional cell for spectro's
        structures).
    k0 : float
        Bulk modulus, GPa.
    k0p : float
        Pressure derivative of the bulk modulus.
    form : {"bm3", "vinet", "tait"}
    v0_err, k0_err, k0p_err : float
        One-standard-deviation uncertainties (0 when unknown).
    reference : str
        Where the parameters and their uncertainties come from.
    k0pp : float, optional
        Second derivative of the bulk modulus, GPa⁻¹ (modified Tait only;
        default ``-k0p / k0``, also in every draw of :meth:`draw`).
    covariance : tuple of tuple of float, optional
        Covariance of (v0, k0, k0p), 3 x 3 (e.g. from :func:`fit_eos`);
        when given, :meth:`draw` uses it instead of the independent errors.

    Examples
    --------
    >>> eos = EOS(v0=72.88, k0=205.0, k0p=4.0, form="vinet")
    >>> round(float(eos.pressure(eos.volume(20.0))), 9)
    20.0
    """

    v0: float
    k0: float
    k0p: float
    form: str = "bm3"
    v0_err: float = 0.0
    k0_err: float = 0.0
    k0p_err: float = 0.0
    reference: str = ""
    k0pp: float | None = None
    covariance: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        _check_form(self.form)
        if not (self.v0 > 0 and self.k0 > 0):
            raise ValidationError(f"v0 and k0 must be positive, got v0 {self.v0} and k0 {self.k0}")
        if self.covariance is not None and np.shape(self.covariance) != (3, 3):
            raise ValidationError(f"covariance must be 3 x 3 for (v0, k0, k0p), got {np.shape(self.covariance)}")

    @property
    def params(self) -> dict[str, float | str | None]:
        """The parameters as keyword arguments of :func:`pressure`."""
        return {"v0": self.v0, "k0": self.k0, "k0p": self.k0p, "form": self.form, "k0pp": self.k0pp}

    def pressure(self, v: np.ndarray | float) -> np.ndarray:
        """Pressure (GPa) at volume ``v``; see :func:`pressure`."""
        return pressure(v, **self.params)

    def volume(self, p: np.ndarray | float) -> np.ndarray:
        """Volume at pressure ``p`` (GPa); see :func:`volume`."""
        return volume(p, **self.params)

    def bulk_modulus(self, v: np.ndarray | float) -> np.ndarray:
        """Bulk modulus (GPa) at volume ``v``; see :func:`bulk_modulus`."""
        return bulk_modulus(v, **self.params)

    def with_params(self, **changes: float | str | None) -> EOS:
        """A copy with some parameters replaced (e.g. ``k0=190.0``)."""
        return replace(self, **changes)

    def draw(self, rng: np.random.Generator, size: int) -> dict[str, np.ndarray | str | None]:
        """Parameters drawn from their uncertainties, as keyword arguments of :func:`volume`.

        Normal draws of (v0, k0, k0p) with :attr:`covariance`, or else with
        the independent errors ``v0_err``, ``k0_err``, ``k0p_err``; each
        parameter has shape ``(size, 1)`` so that it broadcasts against a
        row of pressures. Bulk moduli are kept positive.

        Parameters
        ----------
        rng : numpy.random.Generator
        size : int
            Number of draws.

        Returns
        -------
        dict
            ``v0``, ``k0``, ``k0p`` arrays of shape ``(size, 1)``, ``form``
            and ``k0pp``.

        Examples
        --------
        >>> eos = EOS(v0=72.864, k0=200.0, k0p=3.94, form="tait", k0_err=10.0)
        >>> kw = eos.draw(np.random.default_rng(0), 20000)
        >>> round(float(kw["k0"].std()), 0), float(kw["k0p"].std())
        (10.0, 0.0)
        >>> volume(np.array([0.0, 20.0]), **kw).shape
        (20000, 2)
        """
        mean = np.array([self.v0, self.k0, self.k0p])
        if self.covariance is not None:
            draws = rng.multivariate_normal(mean, np.asarray(self.covariance, dtype=float), size=size,
                                            method="eigh")
        else:
            draws = mean + rng.standard_normal((size, 3)) * np.array([self.v0_err, self.k0_err, self.k0p_err])
        draws[:, :2] = np.clip(draws[:, :2], 1e-3 * mean[:2], None)
        return {"v0": draws[:, :1], "k0": draws[:, 1:2], "k0p": draws[:, 2:3], "form": self.form,
                "k0pp": self.k0pp}


@dataclass(frozen=True)
class EOSFit:
    """Result of :func:`fit_eos`.

    Attributes
    ----------
    eos : EOS
        Fitted parameters with their standard errors.
    covariance : ndarray, shape (3, 3)
        Covariance of (v0, k0, k0p); the row and column of a fixed
        parameter are zero.
    chi2 : float
        Sum of squared normalized residuals.
    reduced_chi2 : float
        ``chi2 / (n - n_free)``.
    n_points : int
    fixed : tuple of str
        Parameters held fixed.
    weighting : str
        How residuals were weighted.
    """

    eos: EOS
    covariance: np.ndarray
    chi2: float
    reduced_chi2: float
    n_points: int
    fixed: tuple[str, ...]
    weighting: str


def fit_eos(
    p: np.ndarray,
    v: np.ndarray,
    *,
    p_err: np.ndarray | float | None = None,
    v_err: np.ndarray | float | None = None,
    form: str = "bm3",
    v0: float | None = None,
    k0: float = 150.0,
    k0p: float = 4.0,
    fix: tuple[str, ...] = (),
    scale_covar: bool = True,
) -> EOSFit:
    """Fit an equation of state to pressure-volume data.

    Minimizes ``sum((p - P(v)) ** 2 / s ** 2)`` with lmfit (Levenberg-
    Marquardt), where the effective variance ``s**2 = p_err**2 +
    (K(v) / v)**2 v_err**2`` carries the volume error through the slope
    ``dP/dv = -K/v`` (Orear, Am. J. Phys. 50, 912 (1982)); it is
    re-evaluated with the current parameters at every step.

    Parameters
    ----------
    p : array_like, shape (n,)
        Pressures, GPa.
    v : array_like, shape (n,)
        Volumes (unit of the fitted ``v0``).
    p_err, v_err : array_like or float, optional
        One-sigma errors in P (GPa) and V. Without either, every point has
        unit weight and the uncertainties come from the scatter
        (``scale_covar``).
    form : {"bm3", "vinet", "tait"}
    v0, k0, k0p : float
        Starting values (``v0`` defaults to the largest volume).
    fix : tuple of str
        Parameters to hold at their starting value, e.g. ``("k0p",)`` for a
        second-order Birch-Murnaghan fit (with ``k0p=4``).
    scale_covar : bool
        Multiply the covariance by the reduced chi-square (lmfit's default;
        appropriate when the stated errors are only relative weights).

    Returns
    -------
    EOSFit
        Parameters with standard errors (square roots of the covariance
        diagonal).

    Raises
    ------
    DataError
        Fewer points than free parameters plus one, or non-finite input.
    FitError
        If the fit fails or its covariance cannot be estimated.

    Examples
    --------
    >>> import numpy as np
    >>> from spectro.pressure.eos import EOS, fit_eos
    >>> true = EOS(v0=72.88, k0=205.0, k0p=4.5)
    >>> p = np.linspace(0.0, 40.0, 12)
    >>> fit = fit_eos(p, true.volume(p), p_err=0.1)
    >>> round(fit.eos.k0, 3), round(fit.eos.k0p, 3)
    (205.0, 4.5)
    """
    _check_form(form)
    p = np.asarray(p, dtype=float)
    v = np.asarray(v, dtype=float)
    if p.shape != v.shape or p.ndim != 1:
        raise DataError(f"p and v must be 1-D arrays of one length, got {p.shape} and {v.shape}")
    unknown = set(fix) - {"v0", "k0", "k0p"}
    if unknown:
        raise ValidationError(f"cannot fix unknown parameter(s) {sorted(unknown)}")
    sp = np.broadcast_to(np.asarray(0.0 if p_err is None else p_err, dtype=float), p.shape)
    sv = np.broadcast_to(np.asarray(0.0 if v_err is None else v_err, dtype=float), p.shape)
    weighted = p_err is not None or v_err is not None
    good = np.isfinite(p) & np.isfinite(v) & np.isfinite(sp) & np.isfinite(sv)
    n_free = 3 - len(fix)
    if good.sum() < n_free + 1:
        raise DataError(f"{good.sum()} finite P-V points; need at least {n_free + 1}")
    p, v, sp, sv = p[good], v[good], sp[good], sv[good]
    if weighted and np.any(sp**2 + sv**2 <= 0):
        raise DataError("every point needs a positive p_err or v_err when errors are given")

    import lmfit  # imported here: lmfit pulls in matplotlib

    params = lmfit.Parameters()
    params.add("v0", value=float(np.max(v)) if v0 is None else v0, min=0.0, vary="v0" not in fix)
    params.add("k0", value=k0, min=0.0, vary="k0" not in fix)
    params.add("k0p", value=k0p, min=-10.0, max=30.0, vary="k0p" not in fix)

    def residual(pars) -> np.ndarray:
        kw = {"v0": pars["v0"].value, "k0": pars["k0"].value, "k0p": pars["k0p"].value}
        model = pressure(v, form=form, **kw)
        if not weighted:
            return p - model
        slope = bulk_modulus(v, form=form, **kw) / v
        return (p - model) / np.sqrt(sp**2 + slope**2 * sv**2)

    result = lmfit.minimize(residual, params, method="leastsq", scale_covar=scale_covar)
    if not result.success or (result.covar is None and n_free > 0):
        raise FitError(f"equation-of-state fit failed: {result.message}")
    names = ["v0", "k0", "k0p"]
    cov = np.zeros((3, 3))
    free = [n for n in names if n not in fix]
    if n_free:
        idx = [names.index(n) for n in free]
        order = [result.var_names.index(n) for n in free]
        cov[np.ix_(idx, idx)] = result.covar[np.ix_(order, order)]
    best = {n: result.params[n].value for n in names}
    errs = np.sqrt(np.diag(cov))
    eos = EOS(
        v0=best["v0"], k0=best["k0"], k0p=best["k0p"], form=form,
        v0_err=float(errs[0]), k0_err=float(errs[1]), k0p_err=float(errs[2]),
        reference=f"fit of {p.size} P-V points",
        covariance=tuple(tuple(float(c) for c in row) for row in cov),
    )
    chi2 = float(np.sum(residual(result.params) ** 2))
    dof = max(p.size - n_free, 1)
    weighting = "effective variance (p_err, v_err)" if weighted else "unweighted"
    return EOSFit(eos, cov, chi2, chi2 / dof, int(p.size), tuple(fix), weighting)
