"""The reference catalogue: one :class:`Reference` per row of ``catalogue.csv``.

The catalogue ships inside the package (``spectro/references/catalogue.csv``,
the same file as ``references/catalogue.csv`` at the top of the source
tree). Each row describes one real spectrum held in a public repository:
what was measured, under which conditions, and exactly where the file lives
(repository, path, commit, sha256), with its licence and attribution.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import urllib.parse
from dataclasses import asdict, dataclass, fields
from importlib import resources
from typing import Any

from ..errors import ReferenceNotFoundError

__all__ = ["Reference", "catalogue", "get", "find", "RAW_URL"]

#: Where a pinned file is downloaded from: ``{base}/{repository}/{commit}/{path}``.
RAW_URL = "https://raw.githubusercontent.com"

_FLOATS = ("valence", "spin")


@dataclass(frozen=True)
class Reference:
    """One catalogued reference spectrum (a row of ``catalogue.csv``).

    Attributes
    ----------
    id : str
        Unique identifier, e.g. ``"ceric_nio_300k"``.
    kind : {"xanes", "xes"}
    compound, formula : str
        Compound name and chemical formula (empty when not defined).
    element : str
        Absorbing or emitting element symbol.
    edge_or_line : str
        Absorption edge (``"K"``) or emission line (``"Kbeta1,3"``).
    valence : float
        Formal valence (oxidation state); NaN when unknown.
    spin_state : str
        ``"high"``, ``"low"`` or ``""`` (not applicable or unknown).
    spin : float
        Spin quantum number S of the absorbing ion; NaN when not single-valued.
    structure, temperature, mode, facility, beamline, measured : str
        Crystal structure, sample temperature (as recorded), measurement
        mode, facility, beamline and date of measurement.
    file : str
        The file name it usually carries in a local data folder.
    group : str
        Athena group label within ``file`` (empty: every scan of the file).
    repository, path, commit, sha256 : str
        Where the file is pinned upstream and its SHA-256 digest.
    licence, attribution : str
        SPDX-like licence name and the attribution text to cite.
    valence_anchor : bool
        Whether the spectrum is a sound valence anchor for calibrations.
    anchor_reason : str
        Why not, when it is not.
    notes : str
        Caveats; facts not taken from the file are marked uncertain here.
    """

    id: str
    kind: str
    compound: str
    formula: str
    element: str
    edge_or_line: str
    valence: float
    spin_state: str
    spin: float
    structure: str
    temperature: str
    mode: str
    facility: str
    beamline: str
    measured: str
    file: str
    group: str
    repository: str
    path: str
    commit: str
    sha256: str
    licence: str
    attribution: str
    valence_anchor: bool
    anchor_reason: str
    notes: str

    def url(self, base_url: str | None = None) -> str:
        """Download address of the file, pinned at ``commit``.

        Parameters
        ----------
        base_url : str, optional
            Replaces :data:`RAW_URL` (a mirror, or a local server in tests).

        Examples
        --------
        >>> get("ceric_nio_300k").url()[:60]
        'https://raw.githubusercontent.com/amecchina/CERIC-Reference-'
        """
        base = (base_url or RAW_URL).rstrip("/")
        return f"{base}/{self.repository}/{self.commit}/{urllib.parse.quote(self.path)}"

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (NaN becomes None).

        Examples
        --------
        >>> get("xaslib_ni2o3_ssrl41_01").to_dict()["valence_anchor"]
        False
        """
        out = asdict(self)
        for key in _FLOATS:
            if math.isnan(out[key]):
                out[key] = None
        return out


def _parse(row: dict[str, str]) -> Reference:
    values: dict[str, Any] = {}
    for f in fields(Reference):
        text = row.get(f.name, "")
        if f.name in _FLOATS:
            values[f.name] = float(text) if text.strip() else math.nan
        elif f.name == "valence_anchor":
            values[f.name] = text.strip().lower() == "yes"
        else:
            values[f.name] = text
    return Reference(**values)


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple[Reference, ...]:
    """Every catalogued reference spectrum, in catalogue order.

    Returns
    -------
    tuple of Reference

    Examples
    --------
    >>> refs = catalogue()
    >>> len({r.id for r in refs}) == len(refs)
    True
    >>> sorted({r.element for r in refs})
    ['Mn', 'Ni']
    """
    text = resources.files(__package__).joinpath("catalogue.csv").read_text(encoding="utf-8")
    return tuple(_parse(row) for row in csv.DictReader(io.StringIO(text)))


def get(id: str) -> Reference:
    """The catalogue entry with identifier ``id``.

    Raises
    ------
    ReferenceNotFoundError
        When no entry has this id (the message lists close matches).

    Examples
    --------
    >>> get("ceric_lanio3_80k").valence
    3.0
    >>> get("nio_300")
    Traceback (most recent call last):
    ...
    spectro.errors.ReferenceNotFoundError: no reference 'nio_300' in the catalogue; similar ids: ceric_nio_300k
    """
    for ref in catalogue():
        if ref.id == id:
            return ref
    similar = [r.id for r in catalogue() if id.lower() in r.id]
    hint = f"; similar ids: {', '.join(similar)}" if similar else "; `spectro refs list` shows them all"
    raise ReferenceNotFoundError(f"no reference {id!r} in the catalogue{hint}")


def find(
    *,
    element: str | None = None,
    kind: str | None = None,
    valence: float | None = None,
    spin_state: str | None = None,
    anchor: bool | None = None,
    compound: str | None = None,
) -> tuple[Reference, ...]:
    """Catalogue entries matching every criterion given.

    Parameters
    ----------
    element : str, optional
        Element symbol, case-insensitive (``"Ni"``).
    kind : {"xanes", "xes"}, optional
    valence : float, optional
        Formal valence, matched within 0.01.
    spin_state : {"high", "low"}, optional
    anchor : bool, optional
        Only sound valence anchors (True) or only the others (False).
    compound : str, optional
        Case-insensitive substring of the compound name or formula.

    Returns
    -------
    tuple of Reference

    Examples
    --------
    >>> [r.id for r in find(element="Ni", valence=3, anchor=True)]
    ['ceric_lanio3_80k', 'bmm_lanio3_6bm']
    >>> [r.id for r in find(kind="xes", spin_state="high", valence=3)][:2]
    ['advxafs_mn2o3', 'advxafs_lamno3_solgel']
    """
    out = []
    for ref in catalogue():
        if element is not None and ref.element.lower() != element.lower():
            continue
        if kind is not None and ref.kind != kind.lower():
            continue
        if valence is not None and not abs(ref.valence - float(valence)) < 0.01:
            continue
        if spin_state is not None and ref.spin_state != spin_state.lower():
            continue
        if anchor is not None and ref.valence_anchor != anchor:
            continue
        if compound is not None:
            needle = compound.lower()
            if needle not in ref.compound.lower() and needle not in ref.formula.lower():
                continue
        out.append(ref)
    return tuple(out)
