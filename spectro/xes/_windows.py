"""Tabulated Kbeta line energies and the energy windows of every Kbeta metric.

Windows are offsets in eV. Two anchors are used:

* the **tabulated Kbeta1,3 energy** of the element (the intensity-weighted
  mean of Kb1 = K-M3 and Kb3 = K-M2 from xraydb, Elam *et al.*, Radiat. Phys.
  Chem. 63, 121 (2002)) only to *search* for the measured Kbeta1,3 peak,
  within ``kb13_search`` of it, which tolerates beamline calibration offsets
  of a few eV;
* the **measured Kbeta1,3 peak** ``E13`` for every other window, so that all
  metrics move exactly with an energy shift of the spectrum. The
  valence-to-core windows sit at ``E13 + (Kb5_tab - Kb13_tab)``: the
  tabulated Kb5 (K-M4,5) to Kb1,3 separation carried over to the measured
  peak.

Default windows (eV, relative to the anchors above)::

    kb13_search   (-8, +8)     around Kb13_tab
    kb13          (-5, +5)     around E13: first moment and Kbeta1,3 area
    kb_prime      (d-6, d+4)   around E13: Kbeta' area, d = KB_PRIME_OFFSET
                               of the element (Ni: -15 to -5 eV)
    tail          (+10, ...)   around E13: Kbeta1,3 tail fit, up to kbpp[0]
    kbpp          (-24, -8)    around E25_tab = E13 + Kb5_tab - Kb13_tab
    kb25          (-6, +6)     around E25_tab
    end           4.0          width (eV) of each end region of the spectrum
                               used for the background

The Kbeta' satellite is not tabulated in xraydb. Its distance ``d`` below
Kbeta1,3 grows with the 3p-3d exchange interaction, i.e. with the number of
unpaired 3d electrons and towards the early 3d metals (Glatzel & Bergmann,
Coord. Chem. Rev. 249, 65 (2005)). :data:`KB_PRIME_OFFSET` holds approximate
values for high-spin compounds: Mn -15 eV (the Kbeta' maximum of the
Mn2O3/Mn3O4 spectra measured at Diamond I20 lies 15 eV below Kbeta1,3), Fe
-12.5 eV, Co -11 eV, Ni -9 eV (8-12 eV for high-spin Ni2+); other elements
-12 eV. Override with ``windows(element, kb_prime=(lo, hi))``; an analysis
takes its windows from its options (:func:`windows_of`: the ``kb_prime``
window and the ``kb_prime_offset`` start of the fit of
:class:`~spectro.options.XesOptions`).

Examples
--------
>>> w = windows("Ni")
>>> round(w.kb13_tabulated, 2), w.kb5_tabulated
(8266.19, 8329.0)
>>> w.kb_prime, windows("Mn").kb_prime
((-15.0, -5.0), (-21.0, -11.0))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from ..errors import ValidationError
from ..options import XesOptions

__all__ = ["KB_PRIME_OFFSET", "Windows", "line_energies", "windows", "windows_of"]

#: Approximate Kbeta' position below the Kbeta1,3 peak, eV (see module docs).
KB_PRIME_OFFSET: dict[str, float] = {"Mn": -15.0, "Fe": -12.5, "Co": -11.0, "Ni": -9.0}
_KB_PRIME_DEFAULT = -12.0


@cache
def line_energies(element: str) -> dict[str, float]:
    """Tabulated Kbeta emission energies of an element (eV, xraydb/Elam).

    Parameters
    ----------
    element : str
        Element symbol, e.g. ``"Ni"`` or ``"Mn"``.

    Returns
    -------
    dict
        ``Kb1``, ``Kb3``, ``Kb5`` (eV) and ``Kb13``, the mean of Kb1 and Kb3
        weighted by their tabulated relative intensities.

    Examples
    --------
    >>> e = line_energies("Mn")
    >>> e["Kb1"], e["Kb5"]
    (6491.8, 6537.0)
    """
    import xraydb

    try:
        lines = xraydb.xray_lines(element, "K")
    except Exception as err:  # xraydb raises several types for unknown symbols
        raise ValidationError(f"unknown element {element!r}: {err}") from err
    missing = [k for k in ("Kb1", "Kb3", "Kb5") if k not in lines]
    if missing:
        raise ValidationError(f"xraydb has no {missing} lines for element {element!r}")
    kb1, kb3 = lines["Kb1"], lines["Kb3"]
    kb13 = (kb1.energy * kb1.intensity + kb3.energy * kb3.intensity) / (
        kb1.intensity + kb3.intensity
    )
    return {
        "Kb1": float(kb1.energy),
        "Kb3": float(kb3.energy),
        "Kb5": float(lines["Kb5"].energy),
        "Kb13": float(kb13),
    }


@dataclass(frozen=True)
class Windows:
    """Energy windows of the Kbeta metrics (eV offsets; see the module docs).

    Attributes
    ----------
    element : str
    kb13_tabulated, kb5_tabulated : float
        Tabulated Kbeta1,3 (intensity-weighted) and Kbeta5 energies, eV.
    kb13_search : tuple of float
        Peak search range around ``kb13_tabulated``.
    kb13, kb_prime, tail_start : tuple or float
        Windows relative to the measured Kbeta1,3 peak.
    kb_prime_center : float
        Expected Kbeta' position relative to the peak (start of the fit).
    kb25, kbpp : tuple of float
        Windows relative to the expected Kbeta2,5 energy,
        ``E13 + kb5_tabulated - kb13_tabulated``.
    end : float
        Width of each end region used for the background, eV.
    """

    element: str
    kb13_tabulated: float
    kb5_tabulated: float
    kb13_search: tuple[float, float] = (-8.0, 8.0)
    kb13: tuple[float, float] = (-5.0, 5.0)
    kb_prime: tuple[float, float] = (-15.0, -5.0)
    kb_prime_center: float = -9.0
    tail_start: float = 10.0
    kbpp: tuple[float, float] = (-24.0, -8.0)
    kb25: tuple[float, float] = (-6.0, 6.0)
    end: float = 4.0

    @property
    def vtc_offset(self) -> float:
        """Tabulated Kb5 - Kb1,3 separation, eV."""
        return self.kb5_tabulated - self.kb13_tabulated

    def to_attrs(self) -> dict[str, object]:
        """Flat attrs describing the windows (survive NetCDF)."""
        return {
            "element": self.element,
            "kb13_tabulated_ev": self.kb13_tabulated,
            "kb5_tabulated_ev": self.kb5_tabulated,
            "window_kb13_search_ev": list(self.kb13_search),
            "window_kb13_ev": list(self.kb13),
            "window_kb_prime_ev": list(self.kb_prime),
            "kb_prime_center_ev": self.kb_prime_center,
            "window_tail_start_ev": self.tail_start,
            "window_kbpp_ev": list(self.kbpp),
            "window_kb25_ev": list(self.kb25),
            "window_end_ev": self.end,
        }


def windows(element: str = "Ni", **overrides: object) -> Windows:
    """Default Kbeta windows for an element, with optional overrides.

    Parameters
    ----------
    element : str, default "Ni"
        Element symbol; tabulated energies come from xraydb.
    **overrides
        Any :class:`Windows` field, e.g. ``kb_prime=(-18.0, -6.0)``.

    Returns
    -------
    Windows

    Examples
    --------
    >>> windows("Mn", kb_prime=(-18.0, -8.0)).kb_prime
    (-18.0, -8.0)
    """
    e = line_energies(element)
    d = KB_PRIME_OFFSET.get(element, _KB_PRIME_DEFAULT)
    w = Windows(element=element, kb13_tabulated=e["Kb13"], kb5_tabulated=e["Kb5"],
                kb_prime=(d - 6.0, d + 4.0), kb_prime_center=d)
    if overrides:
        unknown = set(overrides) - set(Windows.__dataclass_fields__)
        if unknown:
            raise ValidationError(f"unknown window(s) {sorted(unknown)}")
        w = replace(w, **{k: (tuple(map(float, v)) if isinstance(v, (list, tuple)) else v)
                          for k, v in overrides.items()})
    return w


@cache
def windows_of(options: XesOptions) -> Windows:
    """The windows an analysis with ``options`` uses.

    The element's default windows (:func:`windows`; the element must be
    set, see :func:`spectro.xes.element_of`) with the options'
    ``kb_prime`` window and ``kb_prime_offset`` (the start of the fitted
    Kbeta' position, ``kb_prime_center``) when they are given.

    Examples
    --------
    >>> w = windows_of(XesOptions(element="Mn", kb_prime_offset=-14.0))
    >>> w.kb_prime, w.kb_prime_center
    ((-21.0, -11.0), -14.0)
    """
    if options.element is None:
        raise ValidationError("the element is not known yet: it is decided from the data "
                              "(spectro.xes.element_of) or given with the option element")
    overrides: dict[str, object] = {}
    if options.kb_prime is not None:
        overrides["kb_prime"] = options.kb_prime
    if options.kb_prime_offset is not None:
        overrides["kb_prime_center"] = options.kb_prime_offset
    return windows(options.element, **overrides)
