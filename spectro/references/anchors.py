"""Valence anchors from the catalogue: which entries may anchor a line, and under which conditions they were measured.

A catalogued spectrum anchors a valence line only when its entry says
``valence_anchor = yes``: metal foils (energy references: metallic Ni0 is
not on the edge-against-valence line of the oxides), suspect compounds and
undocumented phases say ``no`` with their reason, and
:func:`check_anchor` refuses them unless forced.

Anchors measured under different conditions are not comparable point by
point: an edge moves with temperature (thermal expansion, spin and
metal-insulator transitions) and between beamtimes and beamlines with the
energy calibration and the resolution. :func:`conditions_of` reads each
anchor's temperature, facility, beamline and date (from its catalogue entry
when it has one, else from the file's metadata) and :func:`mismatches`
says which differ:

``temperature``
    two known temperatures more than :data:`TEMPERATURE_TOLERANCE_K` apart
    ("room temperature" is :data:`ROOM_TEMPERATURE_K`);
``beamline``
    two known (facility, beamline) pairs differ;
``beamtime``
    on the same beamline, two known dates more than :data:`BEAMTIME_DAYS`
    apart.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from .entries import Reference, get

__all__ = [
    "BEAMTIME_DAYS",
    "ROOM_TEMPERATURE_K",
    "TEMPERATURE_TOLERANCE_K",
    "Conditions",
    "check_anchor",
    "conditions_of",
    "mismatches",
]

#: The temperature given to "room temperature" and "RT", K.
ROOM_TEMPERATURE_K: float = 295.0
#: Anchors whose temperatures differ by more than this are flagged, K.
TEMPERATURE_TOLERANCE_K: float = 30.0
#: Anchors measured on one beamline more than this many days apart are from different beamtimes.
BEAMTIME_DAYS: int = 14


@dataclass(frozen=True)
class Conditions:
    """Where and how an anchor was measured (unknown: NaN, ``""`` or None).

    Attributes
    ----------
    label : str
        The anchor's name (catalogue id or file).
    temperature : float
        Sample temperature, K.
    facility, beamline : str
    measured : datetime.date or None
        Date of the measurement (the first day of the month or year when only those are known).
    """

    label: str
    temperature: float
    facility: str
    beamline: str
    measured: datetime.date | None

    def describe(self) -> str:
        """The conditions in words, e.g. ``"ceric_nio_300k: 300 K, ESRF BM08-LISA, 2023-11-18"``."""
        parts = [f"{self.temperature:g} K" if math.isfinite(self.temperature) else "temperature unknown",
                 " ".join(p for p in (self.facility, self.beamline) if p) or "beamline unknown",
                 self.measured.isoformat() if self.measured else "date unknown"]
        return f"{self.label}: {', '.join(parts)}"


def check_anchor(id: str, *, force: bool = False) -> Reference:
    """The catalogue entry ``id``, refused as a valence anchor unless it is a sound one or ``force``.

    Raises
    ------
    DataError
        The entry is not a sound valence anchor (the message gives its reason
        and how to force it).
    ReferenceNotFoundError
        No entry ``id``.

    Examples
    --------
    >>> check_anchor("ceric_nio_300k").valence
    2.0
    >>> try:
    ...     check_anchor("ceric_ni_foil_300k")
    ... except DataError as err:
    ...     print(str(err).split(": metal")[0])
    catalogue entry 'ceric_ni_foil_300k' (Ni metal foil) is not a valence anchor
    >>> check_anchor("ceric_ni_foil_300k", force=True).valence
    0.0
    """
    ref = get(id)
    if not ref.valence_anchor and not force:
        raise DataError(
            f"catalogue entry {id!r} ({ref.compound}) is not a valence anchor: {ref.anchor_reason}. Choose a sound "
            "anchor (spectro refs list --anchors) or force it (force_anchors=True, --force-anchors)"
        )
    return ref


def _kelvin(text: str) -> float:
    """A temperature as recorded ("300 K", "80K", "room temperature", "RT") in K; NaN when not one."""
    text = str(text).strip().lower()
    if text in ("room temperature", "rt", "ambient"):
        return ROOM_TEMPERATURE_K
    found = re.fullmatch(r"([-+]?\d+(?:\.\d*)?)\s*k", text)
    return float(found.group(1)) if found else math.nan


def _date(text: str) -> datetime.date | None:
    """A date from ISO text ("2023-11-18", "2023-11-18T06:09", "2006-10", "2018"), else None."""
    found = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(text).strip())
    if not found:
        return None
    year, month, day = (int(g) if g else 1 for g in found.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def conditions_of(attrs: dict[str, Any], temperature: np.ndarray | None = None, *, label: str = "") -> Conditions:
    """The conditions of an anchor from a Dataset's attrs and its ``temperature`` coordinate.

    A catalogued spectrum (``attrs["reference_id"]``, set by
    :func:`spectro.references.load`) takes its entry's temperature,
    facility, beamline and date; another file its per-scan ``temperature``
    (K, the median of the known ones) and the XDI header fields
    ``Facility.name``, ``Beamline.name``, ``Sample.temperature`` and
    ``Scan.start_time`` when the reader kept them.

    Examples
    --------
    >>> conditions_of({"reference_id": "ceric_lanio3_80k"}).describe()
    'ceric_lanio3_80k: 80 K, ESRF BM08-LISA, 2024-10-26'
    >>> conditions_of({"Beamline.name": "X23A2"}, np.array([np.nan]), label="nio.prj").describe()
    'nio.prj: temperature unknown, X23A2, date unknown'
    """
    ref_id = str(attrs.get("reference_id", "") or "")
    if ref_id:
        ref = get(ref_id)
        return Conditions(label or ref_id, _kelvin(ref.temperature), ref.facility.strip(), ref.beamline.strip(),
                          _date(ref.measured))
    known = np.asarray([] if temperature is None else temperature, dtype=float).ravel()
    known = known[np.isfinite(known)]
    kelvin = float(np.median(known)) if known.size else _kelvin(attrs.get("Sample.temperature", ""))
    return Conditions(label, kelvin, str(attrs.get("Facility.name", "") or "").strip(),
                      str(attrs.get("Beamline.name", "") or "").strip(), _date(attrs.get("Scan.start_time", "")))


def mismatches(anchors: Sequence[Conditions]) -> dict[str, str]:
    """Which conditions differ between anchors: ``temperature``, ``beamline``, ``beamtime`` -> the anchors, in words.

    Examples
    --------
    >>> a = conditions_of({"reference_id": "ceric_nio_300k"})
    >>> b = conditions_of({"reference_id": "ceric_lanio3_80k"})
    >>> sorted(mismatches([a, b]))
    ['beamtime', 'temperature']
    >>> mismatches([a, conditions_of({"reference_id": "bmm_lanio3_6bm"})])["beamline"]
    'ceric_nio_300k: ESRF BM08-LISA; bmm_lanio3_6bm: NSLS-II BMM (06BM)'
    """
    out: dict[str, str] = {}
    temps = [a for a in anchors if math.isfinite(a.temperature)]
    if temps and max(a.temperature for a in temps) - min(a.temperature for a in temps) > TEMPERATURE_TOLERANCE_K:
        out["temperature"] = "; ".join(f"{a.label}: {a.temperature:g} K" for a in temps)

    def place(a: Conditions) -> str:
        return " ".join(p for p in (a.facility, a.beamline) if p)

    located = [a for a in anchors if a.beamline]
    if len({(a.facility.lower(), a.beamline.lower()) for a in located}) > 1:
        out["beamline"] = "; ".join(f"{a.label}: {place(a)}" for a in located)
    apart = []
    for key in dict.fromkeys((a.facility.lower(), a.beamline.lower()) for a in located):
        dated = [a for a in located if (a.facility.lower(), a.beamline.lower()) == key and a.measured]
        if dated and (max(a.measured for a in dated) - min(a.measured for a in dated)).days > BEAMTIME_DAYS:
            apart.extend(f"{a.label}: {place(a)} {a.measured.isoformat()}" for a in dated)
    if apart:
        out["beamtime"] = "; ".join(apart)
    return out
