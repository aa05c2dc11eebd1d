"""Ni-O distance against pressure, from an equation of state or a table.

Two models give the distance ``d(P)`` (Å) and its slope ``dd/dP`` (Å/GPa,
for propagating pressure errors):

:class:`EOSBond`
    ``d = factor * V(P) ** (1/3)`` for a cubic structure whose bond scales
    with the cell edge; rocksalt NiO has ``d = a / 2`` (:data:`NIO`).
:class:`BondTable`
    Lattice parameters or bond lengths measured at a set of pressures,
    linearly interpolated. Which distance (``in_plane``, ``apical``,
    ``mean`` of six, ...) is always named by the caller: a layered nickelate
    has several Ni-O distances that compress differently. Pressures outside
    the table raise unless ``extrapolate=True``.

Examples
--------
>>> from spectro.pressure.structure import NIO
>>> round(float(NIO.distance(0.0)), 4)
2.0884

Both models can also draw their systematic uncertainty
(``distance_draws``): the equation-of-state parameters of an
:class:`EOSBond`, the per-row errors and the scale error of a
:class:`BondTable`. :func:`spectro.pressure.edge_shift_vs_contraction`
propagates these draws into the slopes.
"""

from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import (
    ColumnError,
    DataError,
    ExtrapolationWarning,
    MissingFileError,
    ValidationError,
)
from .eos import EOS, volume

__all__ = [
    "DISTANCES",
    "NIO",
    "NIO_A0",
    "NIO_EOS",
    "NIO_V0",
    "BondTable",
    "EOSBond",
    "read_bond_table",
]

#: Avogadro constant, mol⁻¹ (CODATA 2018, exact).
_AVOGADRO = 6.02214076e23

#: NiO zero-pressure volume of Holland & Powell (2011), ds62: 1.097 J/bar =
#: 10.97 cm³/mol, i.e. 18.216 Å³ per formula unit and 72.864 Å³ per
#: conventional rocksalt cell (Z = 4).
NIO_V0 = 4 * 10.97e-6 / _AVOGADRO * 1e30

#: NiO rocksalt lattice parameter at ambient conditions from :data:`NIO_V0`,
#: 4.1768 Å (Landolt-Börnstein lists 4.1759-4.1767 Å near room temperature,
#: e.g. Bartel & Morosin, Phys. Rev. B 3, 1039 (1971)).
NIO_A0 = NIO_V0 ** (1.0 / 3.0)

#: NiO equation of state: the modified Tait form and values of Holland &
#: Powell, J. Metamorph. Geol. 29, 333-383 (2011), dataset ds62 (as
#: tabulated in the BurnMan package, ``burnman/minerals/HP_2011_ds62.py``):
#: V0 = 1.097 J/bar, K0 = 200 GPa, K0' = 3.94, K0'' = -K0'/K0
#: (tabulated as -2e-11 Pa⁻¹). The same K0, K0' and K0'' are listed there
#: for tenorite (CuO): they are estimates, not a NiO measurement. The
#: uncertainties are spectro's, not the compilation's: K0 = 200 ± 10 GPa and
#: K0' = 3.94 ± 0.5 (1 sigma), so that the 2-sigma band covers the NiO bulk
#: moduli in use in the literature, about 180-220 GPa, and K0' from 3 to 5;
#: V0 ± 0.03 Å³ per cell covers a0 = 4.1759-4.1768 Å. The lowest published
#: moduli (near 180 GPa) then lie at 2 sigma: pass your own ``EOS`` (or
#: measured P-V data through :func:`~spectro.pressure.eos.fit_eos`) when
#: you have a better one. K0 = 190 instead of 200 GPa moves the NiO Ni-O
#: contraction at 23.7 GPa from -0.0670 to -0.0699 Å.
NIO_EOS = EOS(
    v0=NIO_V0,
    k0=200.0,
    k0p=3.94,
    form="tait",
    v0_err=0.03,
    k0_err=10.0,
    k0p_err=0.5,
    reference=(
        "Holland & Powell, J. Metamorph. Geol. 29, 333 (2011), ds62 NiO, modified Tait: "
        "V0 = 10.97 cm3/mol, K0 = 200 GPa, K0' = 3.94, K0'' = -K0'/K0 (estimates; the same "
        "values are listed for CuO); uncertainties K0 ± 10 GPa, K0' ± 0.5 (1 sigma) set by spectro "
        "to cover the 180-220 GPa range of published NiO bulk moduli at 2 sigma"
    ),
)

#: Distances a :class:`BondTable` can provide (column names in the CSV).
DISTANCES = ("in_plane", "apical", "inner_apical", "outer_apical", "mean", "a/2")


@dataclass(frozen=True)
class EOSBond:
    """Bond length that scales with the cube root of the cell volume.

    Parameters
    ----------
    eos : EOS
        Equation of state of the cell (volume in Å³).
    factor : float
        ``d = factor * V ** (1/3)``; 0.5 for the Ni-O bond of rocksalt NiO
        (``d = a / 2``, conventional cell).
    name : str
        Label of the distance.

    Examples
    --------
    >>> from spectro.pressure.structure import NIO
    >>> a, d, slope = NIO.lattice_parameter(10.0), NIO.distance(10.0), NIO.slope(10.0)
    >>> round(float(a), 4), round(float(d), 4), bool(slope < 0)
    (4.1136, 2.0568, True)
    """

    eos: EOS
    factor: float = 0.5
    name: str = "Ni-O (a/2)"

    def lattice_parameter(self, p: np.ndarray | float) -> np.ndarray:
        """Cubic cell edge ``V(P) ** (1/3)`` in Å at pressure ``p`` (GPa)."""
        return np.cbrt(self.eos.volume(p))

    def distance(self, p: np.ndarray | float) -> np.ndarray:
        """Distance in Å at pressure ``p`` (GPa): ``factor`` times the cell edge."""
        return self.factor * self.lattice_parameter(p)

    def slope(self, p: np.ndarray | float) -> np.ndarray:
        """``dd/dP`` in Å/GPa at pressure ``p``: ``-d / (3 K(V))``."""
        v = self.eos.volume(p)
        return -self.factor * np.cbrt(v) / (3.0 * self.eos.bulk_modulus(v))

    def distance_draws(self, p: np.ndarray, *, rng: np.random.Generator, size: int) -> np.ndarray:
        """Distances (Å) for ``size`` draws of the equation-of-state parameters.

        Parameters
        ----------
        p : ndarray, shape (n,) or (size, n)
            Pressures, GPa (one row per draw when 2-D).
        rng : numpy.random.Generator
        size : int

        Returns
        -------
        ndarray, shape (size, n)
            See :meth:`~spectro.pressure.eos.EOS.draw`.

        Examples
        --------
        >>> d = NIO.distance_draws(np.array([0.0, 23.7]), rng=np.random.default_rng(1), size=4000)
        >>> round(float(np.std(d[:, 1] - d[:, 0])), 4)
        0.003
        """
        kw = self.eos.draw(rng, size)
        p = np.broadcast_to(np.asarray(p, dtype=float), (size, np.shape(p)[-1]))
        return self.factor * np.cbrt(volume(p, **kw))


#: Ni-O distance of rocksalt NiO from :data:`NIO_EOS`.
NIO = EOSBond(NIO_EOS, 0.5, "NiO Ni-O (a/2)")


@dataclass(frozen=True)
class BondTable:
    """A distance tabulated against pressure, linearly interpolated.

    Parameters
    ----------
    pressure : ndarray, shape (n,)
        Pressures in GPa, strictly increasing, n >= 2.
    value : ndarray, shape (n,)
        Distance in Å at each pressure.
    name : str
        Which distance this is (e.g. ``"in_plane"``).
    extrapolate : bool
        Allow pressures outside the table (linear continuation of the end
        segments, with an :class:`~spectro.errors.ExtrapolationWarning`).
    source : str
        Where the numbers come from.
    value_err : ndarray, shape (n,), optional
        One-sigma error of each tabulated distance, Å (independent rows,
        e.g. the standard errors of a structure refinement at each
        pressure).
    scale_err : float
        Relative one-sigma uncertainty of the whole contraction, common to
        every row: the distances are ``d(P0) + (1 + ε) (d(P) - d(P0))``
        with ``ε ~ N(0, scale_err)``, ``P0`` the first row (e.g. 0.03 for a
        compressibility known to 3 %).

    Examples
    --------
    >>> t = BondTable(np.array([0.0, 10.0]), np.array([1.92, 1.90]), "in_plane")
    >>> float(t.distance(5.0))
    1.91
    >>> t.distance(12.0)
    Traceback (most recent call last):
    ...
    spectro.errors.DataError: pressure(s) [12.] GPa outside the in_plane table (0 to 10 GPa); extend it linearly with the option extrapolate (--extrapolate on the command line)
    """

    pressure: np.ndarray
    value: np.ndarray
    name: str
    extrapolate: bool = False
    source: str = ""
    value_err: np.ndarray | None = None
    scale_err: float = 0.0

    def __post_init__(self) -> None:
        p = np.asarray(self.pressure, dtype=float)
        d = np.asarray(self.value, dtype=float)
        if self.value_err is not None:
            e = np.broadcast_to(np.asarray(self.value_err, dtype=float), d.shape).copy()
            if not np.all(np.isfinite(e) & (e >= 0)):
                raise DataError(f"{self.name} table errors must be finite and >= 0", file=self.source or None)
            object.__setattr__(self, "value_err", e)
        if not (np.isfinite(self.scale_err) and self.scale_err >= 0):
            raise ValidationError(f"scale_err must be finite and >= 0, got {self.scale_err}")
        if p.ndim != 1 or p.shape != d.shape or p.size < 2:
            raise DataError(f"{self.name} table needs >= 2 pressures and as many values", file=self.source or None)
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(d))):
            raise DataError(f"{self.name} table has non-finite entries", file=self.source or None)
        if np.any(np.diff(p) <= 0):
            raise DataError(f"{self.name} table pressures must increase strictly", file=self.source or None)
        object.__setattr__(self, "pressure", p)
        object.__setattr__(self, "value", d)

    def _segment(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        lo, hi = self.pressure[0], self.pressure[-1]
        outside = np.isfinite(p) & ((p < lo) | (p > hi))
        if np.any(outside):
            where = f"outside the {self.name} table ({lo:g} to {hi:g} GPa)"
            if not self.extrapolate:
                raise DataError(
                    f"pressure(s) {p[outside][:5]} GPa {where}; extend it linearly with the option "
                    "extrapolate (--extrapolate on the command line)",
                    file=self.source or None,
                )
            warnings.warn(f"pressure(s) {p[outside][:5]} GPa {where}: extrapolated linearly",
                          ExtrapolationWarning, stacklevel=3)
        return np.clip(np.searchsorted(self.pressure, p, side="right") - 1, 0, self.pressure.size - 2)

    def distance(self, p: np.ndarray | float) -> np.ndarray:
        """Distance in Å at pressure ``p`` (GPa)."""
        p = np.asarray(p, dtype=float)
        i = self._segment(p)
        return self.value[i] + self.slope(p, _segment=i) * (p - self.pressure[i])

    def slope(self, p: np.ndarray | float, *, _segment: np.ndarray | None = None) -> np.ndarray:
        """``dd/dP`` in Å/GPa of the table segment containing ``p``."""
        i = self._segment(p) if _segment is None else _segment
        return (self.value[i + 1] - self.value[i]) / (self.pressure[i + 1] - self.pressure[i])

    def distance_draws(self, p: np.ndarray, *, rng: np.random.Generator, size: int) -> np.ndarray:
        """Distances (Å) for ``size`` draws of the table's uncertainty.

        Each draw adds ``N(0, value_err)`` to every row and scales the
        contraction from the first row by ``1 + N(0, scale_err)``; the
        segments are continued linearly beyond the table (the pressures
        themselves are checked by :meth:`distance`).

        Parameters
        ----------
        p : ndarray, shape (n,) or (size, n)
            Pressures, GPa (one row per draw when 2-D).
        rng : numpy.random.Generator
        size : int

        Returns
        -------
        ndarray, shape (size, n)

        Examples
        --------
        >>> t = BondTable(np.array([0.0, 10.0]), np.array([1.92, 1.90]), "in_plane", scale_err=0.05)
        >>> d = t.distance_draws(np.array([0.0, 10.0]), rng=np.random.default_rng(0), size=20000)
        >>> round(float(np.std(d[:, 1] - d[:, 0])), 4)
        0.001
        """
        p = np.broadcast_to(np.asarray(p, dtype=float), (size, np.shape(p)[-1]))
        err = np.zeros_like(self.value) if self.value_err is None else self.value_err
        rows = self.value + rng.standard_normal((size, self.value.size)) * err
        rows = rows[:, :1] + (1.0 + self.scale_err * rng.standard_normal((size, 1))) * (rows - rows[:, :1])
        i = np.clip(np.searchsorted(self.pressure, p, side="right") - 1, 0, self.pressure.size - 2)
        lo = np.take_along_axis(rows, i, axis=1)
        hi = np.take_along_axis(rows, i + 1, axis=1)
        frac = (p - self.pressure[i]) / (self.pressure[i + 1] - self.pressure[i])
        return lo + frac * (hi - lo)


def read_bond_table(
    path: str | os.PathLike, *, distance: str, extrapolate: bool = False, scale_err: float = 0.0
) -> BondTable:
    """Read a CSV table of lattice parameters or Ni-O distances against pressure.

    The file has a header row with a ``pressure`` column (GPa) and one or
    more of ``in_plane``, ``apical``, ``inner_apical``, ``outer_apical``,
    ``mean`` (Ni-O distances, Å) or ``a`` (lattice parameter, Å). Lines
    starting with ``#`` are comments. Rows are sorted by pressure.

    Parameters
    ----------
    path : path-like
    distance : {"in_plane", "apical", "inner_apical", "outer_apical", "mean", "a/2"}
        Which distance to use. There is no default: which Ni-O distance
        tracks the edge shift is a scientific choice. ``"mean"`` uses a
        ``mean`` column, or else the mean of six bonds computed as
        ``(4 in_plane + inner_apical + outer_apical) / 6`` or
        ``(4 in_plane + 2 apical) / 6``. ``"a/2"`` takes half the ``a``
        column (in-plane Ni-O of a tetragonal cell with straight bonds).
    extrapolate : bool
        See :class:`BondTable`.
    scale_err : float
        Relative uncertainty of the whole contraction (see
        :class:`BondTable`).

    Returns
    -------
    BondTable
        With ``value_err`` from a ``<distance>_err`` column when there is
        one (``a_err / 2`` for ``"a/2"``).

    Raises
    ------
    MissingFileError, ColumnError, DataError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "bonds.csv"
    >>> _ = f.write_text("pressure,in_plane,apical\\n0,1.92,2.00\\n10,1.90,1.97\\n")
    >>> t = read_bond_table(f, distance="mean")
    >>> round(float(t.distance(0.0)), 4)
    1.9467
    """
    path = Path(path)
    if distance not in DISTANCES:
        raise ValidationError(f"distance must be one of {DISTANCES}, not {distance!r}", file=path)
    if not path.is_file():
        raise MissingFileError("bond table not found", file=path)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
    if len(rows) < 3:
        raise DataError("bond table needs a header row and at least two data rows", file=path)
    header = [h.strip().lower() for h in rows[0]]
    try:
        data = np.array([[float(x) for x in r] for r in rows[1:]], dtype=float)
    except ValueError as err:
        raise DataError(f"non-numeric entry in bond table: {err}", file=path) from None
    if data.shape[1] != len(header):
        raise DataError(f"{len(header)} column labels but {data.shape[1]} columns", file=path)
    cols = {h: data[:, i] for i, h in enumerate(header)}
    if "pressure" not in cols:
        raise ColumnError(f"no 'pressure' column (columns: {header})", file=path)
    if distance == "a/2":
        if "a" not in cols:
            raise ColumnError(f"distance 'a/2' needs an 'a' column (columns: {header})", file=path)
        value = cols["a"] / 2.0
    elif distance in cols:
        value = cols[distance]
    elif distance == "mean" and {"in_plane", "inner_apical", "outer_apical"} <= cols.keys():
        value = (4.0 * cols["in_plane"] + cols["inner_apical"] + cols["outer_apical"]) / 6.0
    elif distance == "mean" and {"in_plane", "apical"} <= cols.keys():
        value = (4.0 * cols["in_plane"] + 2.0 * cols["apical"]) / 6.0
    else:
        raise ColumnError(f"no column for distance {distance!r} (columns: {header})", file=path)
    err_col = "a_err" if distance == "a/2" else f"{distance}_err"
    err = cols.get(err_col)
    if err is not None and distance == "a/2":
        err = err / 2.0
    order = np.argsort(cols["pressure"], kind="stable")
    return BondTable(cols["pressure"][order], value[order], distance, extrapolate, os.fspath(path),
                     value_err=None if err is None else err[order], scale_err=scale_err)
