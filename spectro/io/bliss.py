"""ESRF BLISS and Sardana HDF5 scan files: each scan's counters under ``measurement``.

The BLISS NeXus writer (every ESRF beamline since 2020) and the NeXus
recorder of Sardana (MAX IV, ALBA, DESY) write one HDF5 file per dataset,
one ``NXentry`` group per scan at its root::

    dataset.h5
     ├ 1.1              scan 1: title ("ascan energy 8.3 8.5 200 0.1"), start_time, end_time
     |  ├ instrument    NXinstrument: positioners (value), detectors (data), metadata
     |  └ measurement   NXcollection: every counter and moving motor of the scan,
     |                  1-D datasets of one value per point (links into instrument),
     |                  and 2-D/3-D MCA spectra and images
     ├ 2.1              scan 2
     ├ 3.1              scan 3 ...
     └ 3.2              ... and a sub-scan of it (e.g. a temperature monitor)

Sardana names its scans ``entry<N>``. No real BLISS file was available to
test this reader against: it follows the published description of the
BLISS NeXus writer's layout, and the tests use files made to it. A real
Sardana file of that layout (MAX IV Balder) is read.

Scans
    Every root group that holds a ``measurement`` group is a scan,
    labelled by its name. BLISS sub-scans (``N.2``, ``N.3`` ...) run beside
    scan ``N.1`` on other counters and other points; they are not read
    (their names are listed in ``attrs["subscans_not_read"]``) unless asked
    for with ``scans=["3.2"]``. ``scans=`` takes names (``"3.1"``,
    ``"entry24212"``) or numbers (``"3"`` is ``3.1``; ``"24212"`` is
    ``entry24212``).
Counters
    The 1-D numeric datasets of ``measurement`` are the columns of a table
    (MCA spectra, images and scalars are left out), named by their keys,
    and go through :func:`spectro.io.channels.select_channels` like the
    columns of a text file: the energy counter, keV or eV (by its ``units``
    attribute or its magnitude), mu from a named mu counter (``mu_trans``,
    ``mu_fluo``, ``mu`` ...) or from ion chambers (``I0`` with ``I1`` or
    ``IF`` ...), ``mu_ref`` from ``mu_ref`` or ``ln(I1/I2)``; the reading
    options choose them otherwise. Counters of different lengths (an
    interrupted scan) are cut to the shortest with a
    :class:`~spectro.errors.FormatWarning`.
External links
    A file with external links, virtual datasets or external storage is
    refused unless the reading option ``external_links`` is set
    (:mod:`spectro.io.limits`; the files reached are listed in the attrs
    ``external_files``). Looking for scan groups follows no link.
Unreadable counters
    A counter whose data cannot be read (a link to a dataset that does not
    exist, an external link, when followed, to a file that is missing, such
    as a detector's separate file) is left out of the table. Asking for it
    (``ifluor="eiger"``) is a :class:`~spectro.errors.FormatError` naming
    its HDF5 path and why; when no mu can be made, the
    :class:`~spectro.errors.ColumnError` names the unreadable counters too.
Several scans
    Scans that cannot be used (no energy counter, energies outside 1-100
    keV, such as alignment scans of a motor) are skipped with a
    :class:`~spectro.errors.FormatWarning`; when none is usable the first
    error is raised. Scans on different grids share the union grid.

Per-scan coordinates: ``title``, ``start_time`` and ``hdf5_entry`` (the
scan's group).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ColumnError, FormatError, FormatWarning, LimitError, SpectroError
from ..model import Scan, Spectra
from ._hdf5 import open_file
from ._hdf5 import values as read_values
from .channels import select_channels
from .columns import CHANNEL_OPTIONS
from .nexus import _scalar_text, _text
from .nexus import sniff as is_hdf5

__all__ = ["parse", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = CHANNEL_OPTIONS + ("scans",)

_BLISS_NAME = re.compile(r"^(\d+)\.(\d+)$")
_COUNTER_OPTIONS = ("energy", "i0", "itrans", "ifluor", "irefer", "mu", "murefer")
_META_LONG_NAMES = {
    "title": "scan title (the scan command)",
    "start_time": "scan start time",
    "hdf5_entry": "HDF5 group of the scan",
}


def _is_scan(obj, *, hard_only: bool = False) -> bool:
    if not isinstance(obj, h5py.Group):
        return False
    return isinstance(_hard(obj, "measurement") if hard_only else obj.get("measurement"), h5py.Group)


def sniff(path: Path, head: bytes) -> bool:
    """True for an HDF5 file with a scan group (a ``measurement`` group at depth 2) that is not NXxas.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import h5py
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bliss.h5"
    >>> with h5py.File(path, "w") as h5:
    ...     h5["1.1/measurement/energy"] = [8.3, 8.4]
    >>> sniff(path, path.read_bytes()[:4096]), sniff(path, b"# energy mu")
    (True, False)
    """
    if not is_hdf5(path, head):
        return False
    try:
        with h5py.File(path, "r") as h5:
            return any(_is_scan(obj, hard_only=True) and not _is_nxxas(obj, hard_only=True)
                       for obj in _hard_members(h5))
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def _hard_members(group) -> list:
    """The members of ``group`` reached by hard links (looking follows no soft or external link)."""
    return [group[k] for k in group.keys() if isinstance(group.get(k, getlink=True), h5py.HardLink)]


def _hard(group, key: str):
    return group[key] if isinstance(group.get(key, getlink=True), h5py.HardLink) else None


def _is_nxxas(group, *, hard_only: bool = False) -> bool:
    """Whether a scan group is (or holds) an NXxas application definition: the NeXus reader's."""
    def definition(obj) -> str:
        if hard_only and "definition" in obj and _hard(obj, "definition") is None:
            return ""
        return _scalar_text(obj, "definition")

    if definition(group) == "NXxas":
        return True
    members = _hard_members(group) if hard_only else group.values()
    return any(isinstance(obj, h5py.Group) and definition(obj) == "NXxas" for obj in members)


def _wanted_names(names: list[str], scans: Sequence[str] | str | None, path: Path) -> tuple[list[str], list[str]]:
    """The scan groups to read, and the BLISS sub-scans left out."""
    if scans is None:
        keep = [n for n in names if not (_BLISS_NAME.match(n) and _BLISS_NAME.match(n).group(2) != "1")]
        return keep, [n for n in names if n not in keep]
    wanted = [scans] if isinstance(scans, str) else [str(s) for s in scans]
    keep = []
    for w in wanted:
        candidates = [w, f"{w}.1"] + [n for n in names if re.fullmatch(rf"\D*0*{re.escape(w)}", n)]
        found = next((c for c in candidates if c in names), None)
        if found is None:
            raise FormatError(f"no scan {w!r} in the file; scans are {names}", file=path)
        keep.append(found)
    return list(dict.fromkeys(keep)), []


def _why(group, key: str, err: Exception) -> str:
    """Why the counter ``key`` of ``group`` cannot be read, naming its HDF5 path."""
    where = f"{group.name}/{key}"
    link = group.get(key, getlink=True)
    if isinstance(link, h5py.ExternalLink):
        return f"{where} is an external link to {link.filename}:{link.path}, which cannot be opened"
    if isinstance(link, h5py.SoftLink):
        return f"{where} is a link to {link.path}, which does not exist"
    return f"{where} cannot be read ({err})"


def _counters(group) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, str]]:
    """The 1-D numeric counters of a scan's ``measurement``, their units, and the unreadable ones."""
    meas = group["measurement"]
    values: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    for key in meas.keys():
        try:
            obj = meas[key]
            if not isinstance(obj, h5py.Dataset) or obj.ndim != 1 or obj.dtype.kind not in "fiub":
                continue
            values[key] = read_values(obj)
            units[key] = _text(obj.attrs.get("units", "")).strip()
        except SpectroError:
            raise
        except (KeyError, OSError, RuntimeError, ValueError) as err:
            unreadable[key] = _why(meas, key, err)
    return values, units, unreadable


def _read_scan(group, name: str, path: Path, options: dict[str, Any]) -> Scan:
    values, units, unreadable = _counters(group)
    for option in _COUNTER_OPTIONS:
        chosen = options.get(option)
        if isinstance(chosen, str) and chosen in unreadable:
            raise FormatError(f"counter {chosen!r} (the reading option {option}): {unreadable[chosen]}")
    if not values:
        missing = f"; {'; '.join(unreadable.values())}" if unreadable else ""
        raise FormatError(f"no 1-D counter in {group.name}/measurement{missing}")
    labels = list(values)
    lengths = {len(v) for v in values.values()}
    n = min(lengths)
    if len(lengths) > 1:
        warnings.warn(
            f"{path}: scan {name!r}: counters have {min(lengths)} to {max(lengths)} points "
            f"(an interrupted scan?): cut to the first {n}",
            FormatWarning,
            stacklevel=3,
        )
    table = np.column_stack([values[k][:n] for k in labels])
    try:
        ch = select_channels(labels, table, unit_texts=[units[k] for k in labels], **options)
    except ColumnError as err:
        if not unreadable:
            raise
        raise ColumnError(f"{err.problem}; not readable: {'; '.join(unreadable.values())}") from err
    meta = {
        "title": _scalar_text(group, "title"),
        "start_time": _scalar_text(group, "start_time"),
        "hdf5_entry": group.name,
    }
    return Scan(ch.energy, ch.signals, name, attrs={**ch.attrs, "_meta": meta})


def parse(path: Path, *, scans: Sequence[str] | str | None = None, **channel_options: Any) -> Spectra:
    """Parse the scans of a BLISS or Sardana HDF5 file into the arrays of one XANES Dataset.

    Parameters
    ----------
    path : pathlib.Path
        HDF5 file with scan groups (``1.1``, ``2.1`` ... or ``entry<N>``)
        that hold a ``measurement`` group.
    scans : sequence of str, optional
        Scans to read, by name or number (see the module documentation);
        default: every scan but the BLISS sub-scans.
    **channel_options
        Passed to :func:`spectro.io.channels.select_channels` (``energy=``,
        ``mode=``, ``i0=``, ``itrans=``, ``ifluor=`` ... naming counters).

    Returns
    -------
    spectro.model.Spectra
        ``mu(scan, energy)`` in eV, one scan per scan group, with the
        per-scan coordinates ``title``, ``start_time``, ``hdf5_entry``.

    Raises
    ------
    FormatError
        Not readable HDF5, no scan group, an unknown scan asked for, or a
        counter asked for that cannot be read (naming its HDF5 path).
    ColumnError, DataError
        No usable scan (the first scan's error).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import h5py, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bliss.h5"
    >>> e = np.linspace(8.30, 8.40, 51)
    >>> with h5py.File(path, "w") as h5:
    ...     scan = h5.create_group("1.1")
    ...     scan["title"] = "ascan energy 8.3 8.4 50 0.1"
    ...     scan.create_dataset("measurement/energy", data=e).attrs["units"] = "keV"
    ...     scan["measurement/I0"] = np.full(51, 1e5)
    ...     scan["measurement/I1"] = 1e5 * np.exp(-1 - (e > 8.333))
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ds = parse(path).to_dataset()
    >>> ds.scan.values.tolist(), float(ds.energy[0]), ds.attrs["mu_expression"], ds.title.values.tolist()
    (['1.1'], 8300.0, 'ln(I0/I1)', ['ascan energy 8.3 8.4 50 0.1'])
    """
    with open_file(path) as (h5, external):
        try:
            names = [k for k, v in h5.items() if _is_scan(v) and not _is_nxxas(v)]
        except (OSError, RuntimeError, KeyError, ValueError) as err:
            raise FormatError(f"HDF5 root group cannot be read ({err})", file=path) from err
        if not names:
            raise FormatError("no scan group (a group with a 'measurement' group) at the root", file=path)
        n_scans = len(names)
        names, subscans = _wanted_names(names, scans, path)
        built: list[Scan] = []
        errors: list[SpectroError] = []
        for name in names:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    built.append(_read_scan(h5[name], name, path, dict(channel_options)))
            except LimitError as err:
                raise err.with_context(file=path, scan=name) from err
            except SpectroError as err:
                errors.append(err.with_context(file=path, scan=name))
                continue
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
                errors.append(FormatError(f"scan cannot be read ({err})", file=path, scan=name))
                continue
            for w in caught:
                message = str(w.message)
                prefix = "" if message.startswith(str(path)) else f"{path.name}: scan {name!r}: "
                warnings.warn(prefix + message, w.category, stacklevel=2)
    if not built:
        raise errors[0]
    for err in errors:
        warnings.warn(f"{path.name}: skipped {err}", FormatWarning, stacklevel=2)
    metas = [sc.attrs.pop("_meta") for sc in built]
    coords = {
        key: (np.asarray([m[key] for m in metas], dtype=str), {"units": "", "long_name": long_name})
        for key, long_name in _META_LONG_NAMES.items()
    }
    attrs: dict[str, Any] = {"n_scans_in_file": n_scans}
    if external:
        attrs["external_files"] = external
    if subscans:
        attrs["subscans_not_read"] = subscans
    return Spectra.from_scans(built, kind="xanes", file=path, attrs=attrs, coords=coords)
