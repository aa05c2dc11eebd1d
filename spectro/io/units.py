"""Energy units of an energy column: eV, keV or monochromator angle.

Beamline files give incident energies in eV, in keV, or as the Bragg angle
of the monochromator crystal in degrees. :func:`detect_units` decides which
from the column label and the magnitude of the values, never by assumption:

1. the label names the unit: ``keV`` -> keV; ``eV`` -> eV; a label naming
   an angle (``angle``, ``theta``, ``bragg``, ``mono_th``, ``deg``) -> deg;
2. otherwise by magnitude of the median value: 1-100 -> keV (hard X-rays
   span 1-100 keV, so a median in that range cannot be eV), >= 100 -> eV.

:func:`to_ev` converts to eV and issues :class:`~spectro.errors.UnitConversionWarning`
saying what was converted. Angles use Bragg's law,
``E = hc / (2 d sin(theta))`` with ``hc = 12398.419843320026 eV Angstrom``
(CODATA 2018) and the crystal d-spacing in Angstrom, e.g. 3.13551 for Si(111).
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ..errors import ColumnError, DataError, UnitConversionWarning

__all__ = [
    "HC_EV_ANGSTROM",
    "MAX_ENERGY_EV",
    "MIN_ENERGY_EV",
    "UNITS",
    "angle_to_energy",
    "check_energy_range",
    "detect_units",
    "energy_to_angle",
    "find_d_spacing",
    "to_ev",
]

#: Planck constant times speed of light in eV Angstrom (CODATA 2018).
HC_EV_ANGSTROM = 12398.419843320026

#: Energy units understood by :func:`to_ev`.
UNITS = ("eV", "keV", "deg")

#: Range of incident energies spectro accepts from a file, in eV (hard X-rays).
MIN_ENERGY_EV = 1000.0
MAX_ENERGY_EV = 100000.0

_ANGLE_WORDS = re.compile(r"angle|theta|bragg|mono_?th|\bth\b|\bdeg", re.IGNORECASE)
_KEV = re.compile(r"(?<![a-z])kev(?![a-z])", re.IGNORECASE)
_EV = re.compile(r"(?<![a-z])ev(?![a-z])", re.IGNORECASE)
_D_SPACING = re.compile(
    r"(?:d[_ -]?spacing|\bd)\s*[:=]?\s*=?\s*([0-9]+\.[0-9]+)\s*(?:a\b|angstrom|\u00c5)?",
    re.IGNORECASE,
)


def angle_to_energy(theta: np.ndarray | float, d_spacing: float) -> np.ndarray:
    """Photon energy in eV from a Bragg angle in degrees.

    Parameters
    ----------
    theta : array_like
        Bragg angle(s) in degrees.
    d_spacing : float
        Crystal lattice spacing in Angstrom (Si(111): 3.13551).

    Returns
    -------
    ndarray
        ``hc / (2 d sin(theta))`` in eV.

    Examples
    --------
    First point of the KEK-PF BL9A file (header: 6606.20 eV):

    >>> round(float(angle_to_energy(17.41446, 3.13551)), 1)
    6606.1
    """
    theta = np.asarray(theta, dtype=float)
    return HC_EV_ANGSTROM / (2.0 * d_spacing * np.sin(np.deg2rad(theta)))


def energy_to_angle(energy: np.ndarray | float, d_spacing: float) -> np.ndarray:
    """Bragg angle in degrees for a photon energy in eV (inverse of :func:`angle_to_energy`).

    Examples
    --------
    >>> round(float(energy_to_angle(angle_to_energy(17.0, 3.13551), 3.13551)), 9)
    17.0
    """
    energy = np.asarray(energy, dtype=float)
    return np.rad2deg(np.arcsin(HC_EV_ANGSTROM / (2.0 * d_spacing * energy)))


def detect_units(values: np.ndarray, label: str = "", unit_text: str = "") -> str:
    """Decide whether an energy column is in eV, keV or degrees.

    Parameters
    ----------
    values : ndarray
        The column.
    label : str
        Its label (e.g. ``"Energy (keV)"``, ``"Angle(c)"``).
    unit_text : str
        A unit given separately (e.g. the XDI ``Column.N`` unit field).

    Returns
    -------
    {"eV", "keV", "deg"}

    Examples
    --------
    >>> import numpy as np
    >>> detect_units(np.array([8.3, 8.4]), "energy")
    'keV'
    >>> detect_units(np.array([8300.0, 8400.0]), "energy")
    'eV'
    >>> detect_units(np.array([17.4, 17.3]), "Angle(c)")
    'deg'
    """
    text = f"{label} {unit_text}"
    if _KEV.search(text):
        return "keV"
    if _ANGLE_WORDS.search(text) and "energy" not in label.lower():
        return "deg"
    if _EV.search(unit_text):
        return "eV"
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size and 1.0 <= float(np.median(np.abs(finite))) < 100.0:
        return "keV"
    return "eV"


def find_d_spacing(header: str) -> float | None:
    """Monochromator d-spacing in Angstrom quoted in a header, if any.

    Recognises ``Mono.d_spacing: 3.13551``, ``D=  3.13551 A``,
    ``d-spacing = 3.1355``.

    Examples
    --------
    >>> find_d_spacing(" Mono :   Si(111)       D=  3.13551 A    Initial angle= 13.9 deg")
    3.13551
    >>> find_d_spacing("no crystal here") is None
    True
    """
    for match in _D_SPACING.finditer(header):
        value = float(match.group(1))
        if 0.5 < value < 20.0:
            return value
    return None


def to_ev(
    values: np.ndarray,
    units: str,
    *,
    d_spacing: float | None = None,
    label: str = "energy",
) -> np.ndarray:
    """Convert an energy column to eV.

    Parameters
    ----------
    values : ndarray
        The column, in ``units``.
    units : {"eV", "keV", "deg"}
    d_spacing : float, optional
        Crystal d-spacing in Angstrom; required for ``"deg"``.
    label : str
        Column label, named in the warning.

    Returns
    -------
    ndarray
        A new array in eV (the input is not modified).

    Warns
    -----
    UnitConversionWarning
        For keV and angle columns, saying what was converted.

    Raises
    ------
    ColumnError
        Angle column without a d-spacing.

    Examples
    --------
    >>> import warnings, numpy as np
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     to_ev(np.array([8.333]), "keV").tolist()
    [8333.0]
    """
    values = np.asarray(values, dtype=float)
    if units == "eV":
        return values.copy()
    if units == "keV":
        warnings.warn(
            f"energy column {label!r} is in keV; converted to eV",
            UnitConversionWarning,
            stacklevel=2,
        )
        return values * 1000.0
    if units == "deg":
        if d_spacing is None:
            raise ColumnError(
                f"energy column {label!r} is a monochromator angle in degrees but no "
                "d-spacing was found in the header; give it (Angstrom, Si(111): 3.13551) with the reading "
                "option d_spacing (--d-spacing on the command line)"
            )
        warnings.warn(
            f"column {label!r} is a monochromator angle in degrees; converted to eV "
            f"with E = hc / (2 d sin(theta)), d = {d_spacing} Angstrom",
            UnitConversionWarning,
            stacklevel=2,
        )
        return angle_to_energy(values, d_spacing)
    raise ColumnError(f"unknown energy units {units!r}; choose from {list(UNITS)}")


def check_energy_range(energy: np.ndarray, *, label: str = "energy") -> None:
    """Refuse energies outside the hard X-ray range (1-100 keV).

    Raises
    ------
    DataError
        When the finite energies reach below :data:`MIN_ENERGY_EV` or above
        :data:`MAX_ENERGY_EV`, naming the range found.

    Examples
    --------
    >>> import numpy as np
    >>> check_energy_range(np.array([8300.0, 8400.0]))
    >>> check_energy_range(np.array([-0.5, 0.5]))
    Traceback (most recent call last):
    ...
    spectro.errors.DataError: energy column 'energy' spans -0.5 to 0.5 eV, outside the 1-100 keV X-ray range; choose another column with the reading option energy or give its units with energy_units (--energy, --energy-units on the command line)
    """
    finite = np.asarray(energy, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        raise DataError(f"energy column {label!r} has no finite values")
    lo, hi = float(finite.min()), float(finite.max())
    if lo <= MIN_ENERGY_EV or hi >= MAX_ENERGY_EV:
        raise DataError(
            f"energy column {label!r} spans {lo:.6g} to {hi:.6g} eV, outside the "
            "1-100 keV X-ray range; choose another column with the reading option energy or give its units with energy_units (--energy, --energy-units on the command line)"
        )
