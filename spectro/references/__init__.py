"""Reference library: catalogued real spectra with provenance, found or fetched by sha256.

The catalogue (``catalogue.csv``, shipped with the package) lists real
spectra of compounds of known valence and spin state, each pinned to a
repository, path, commit and SHA-256 digest, with its licence. The spectra
themselves are not part of spectro: :func:`path` finds a file by its digest
in ``SPECTRO_DATA_DIR``, then in the user cache, then downloads it from its
pinned source (see :mod:`spectro.references.files`).

Examples
--------
>>> from spectro import references
>>> ref = references.get("ceric_nio_300k")
>>> ref.compound, ref.valence, ref.spin_state
('NiO (bunsenite)', 2.0, 'high')
>>> [r.id for r in references.find(element="Ni", anchor=True, valence=3)]
['ceric_lanio3_80k', 'bmm_lanio3_6bm']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ReferenceNotFoundError
from . import files
from .anchors import Conditions, check_anchor, conditions_of, mismatches
from .entries import Reference, catalogue, find, get
from .files import DATA_DIR_ENV, cache_dir, locate, not_found_message

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "Conditions",
    "Reference",
    "check_anchor",
    "conditions_of",
    "mismatches",
    "catalogue",
    "get",
    "find",
    "path",
    "load",
    "fetch",
    "cache_dir",
    "DATA_DIR_ENV",
]


def path(id: str, *, download: bool = True, base_url: str | None = None) -> Path:
    """Local path of reference ``id``, downloading it when needed.

    Parameters
    ----------
    id : str
        Catalogue identifier.
    download : bool, default True
        Download into the cache when no local copy exists.
    base_url : str, optional
        Mirror replacing ``https://raw.githubusercontent.com``.

    Returns
    -------
    pathlib.Path
        A file whose sha256 matches the catalogue.

    Raises
    ------
    ReferenceNotFoundError
        Unknown id, or no local copy and the download is off or fails; the
        message says how to get the file.

    Examples
    --------
    >>> p = path("ceric_nio_300k", download=False)  # doctest: +SKIP
    >>> p.name  # doctest: +SKIP
    'ceric_NiO_111.xdi'
    """
    ref = get(id)
    found = locate(ref)
    if found is not None:
        return found
    if not download:
        raise ReferenceNotFoundError(not_found_message(ref, "is not available locally"))
    return files.download(ref, base_url=base_url)


def fetch(
    ids: Iterable[str] | None = None, *, base_url: str | None = None
) -> dict[str, Path]:
    """Make references available locally (download what is missing).

    Parameters
    ----------
    ids : iterable of str, optional
        Catalogue identifiers; every entry when omitted.
    base_url : str, optional
        Mirror replacing ``https://raw.githubusercontent.com``.

    Returns
    -------
    dict of str to pathlib.Path
        Local path of each reference, in the order asked.

    Raises
    ------
    ReferenceNotFoundError
        For the first reference that cannot be found nor downloaded.

    Examples
    --------
    >>> fetch(["ceric_nio_300k"])  # doctest: +SKIP
    {'ceric_nio_300k': PosixPath('.../ceric_NiO_111.xdi')}
    """
    wanted = [r.id for r in catalogue()] if ids is None else list(ids)
    return {i: path(i, base_url=base_url) for i in dict.fromkeys(wanted)}


def load(id: str, *, download: bool = True, **options: Any) -> xr.Dataset:
    """Read reference ``id`` into a model Dataset (its group only, for Athena projects).

    Parameters
    ----------
    id : str
        Catalogue identifier.
    download : bool, default True
        Download the file when no local copy exists.
    **options
        Passed to :func:`spectro.read` (column or signal choices).

    Returns
    -------
    xarray.Dataset
        The spectrum, with the catalogue entry in attrs ``reference_id``,
        ``reference_compound``, ``reference_valence``, ``reference_spin_state``,
        ``reference_licence`` and ``reference_attribution``.

    Raises
    ------
    ReferenceNotFoundError
        Unknown id, file not found, the file changed after it was found
        (its digest is checked on the bytes read), or the catalogued group
        is not in the file.

    Examples
    --------
    >>> ds = load("ceric_nio_300k", download=False)  # doctest: +SKIP
    >>> ds.attrs["reference_valence"]  # doctest: +SKIP
    2.0
    """
    import tempfile

    import numpy as np

    from ..io import read
    from ..model import SIGNALS, energy_dim, kind_of

    ref = get(id)
    file = path(id, download=download)
    data = files.read_verified(ref, file)  # the digest is checked on the bytes that are parsed
    with tempfile.TemporaryDirectory(prefix="spectro-ref-") as private:
        copy = Path(private) / file.name
        copy.write_bytes(data)
        ds = read(copy, **options)
        ds = ds.assign_coords(source=ds["source"].copy(data=np.full(ds.sizes["scan"], str(file))))
    if ref.group:
        labels = np.asarray([str(s).strip() for s in ds["scan"].values])
        keep = labels == ref.group.strip()
        if not keep.any():
            raise ReferenceNotFoundError(
                f"group {ref.group!r} of reference {id!r} is not among the scans "
                f"{[str(s) for s in ds['scan'].values]}",
                file=file,
            )
        ds = ds.isel(scan=np.flatnonzero(keep))
        main_signal = next(iter(SIGNALS[kind_of(ds)]))
        ds = ds.dropna(energy_dim(ds), how="all", subset=[main_signal])
    return ds.assign_attrs(
        reference_id=ref.id,
        reference_compound=ref.compound,
        reference_valence=ref.valence,
        reference_spin_state=ref.spin_state,
        reference_licence=ref.licence,
        reference_attribution=ref.attribution,
    )
