"""NeXus/HDF5 files with NXxas entries: every entry as a scan.

A NeXus file holds one or more ``NXentry`` groups at its root. An entry that
is not itself NXxas but holds ``NXsubentry`` groups that are (a BLISS scan
converted to NXxas: one subentry per detector channel, ``itrans``, ``iref``,
``fluo0`` ...) gives one scan per subentry, labelled ``<entry>/<subentry>``
(``entries=["1.1/fluo0"]`` reads one). An ``NXxas`` entry has ``energy`` (with a ``units`` attribute), ``intensity`` (mu(E), the
``signal`` of its ``NXdata`` plot group), ``element/symbol``, ``edge/name``
and ``mode`` (``mode/name`` in older files), and may carry ``rawdata``: the
columns of the original file as one 2-D array whose column names are the
JSON list in its ``array_labels`` attribute. The reader returns one Dataset
with one scan per entry (labelled by the entry name); entries on different
grids share the union grid.

Which mu (``signal=``)
----------------------
``None`` (default)
    From ``rawdata`` when the entry has it, through
    :func:`spectro.io.channels.select_channels` (so ``ln(i0/itrans)`` from
    raw counts, or a mu column, exactly as for text files; the ``mode=`` and
    channel options are passed on); otherwise the entry's ``intensity`` (the
    NXdata signal).
``"intensity"`` or another dataset name of the entry
    That dataset, whatever ``rawdata`` holds (e.g. the normalized mu that
    xraylarch writes to ``intensity``).

The choice is recorded per scan in ``mu_source`` (and in ``mu_expression``
when channels were used). ``normalized=True`` marks a dataset that holds
normalized mu (``attrs["normalized"] = 1``), as for text files.

Energy units come from the ``units`` attribute of the energy dataset (eV or
keV; keV is converted with a :class:`~spectro.errors.UnitConversionWarning`),
else from a unit in brackets in its ``long_name`` (``Energy (keV)``);
without either they are decided by magnitude
(:func:`spectro.io.units.detect_units`) with a
:class:`~spectro.errors.FormatWarning`.

Safety and checks: external links, virtual datasets and external storage
are refused unless ``external_links`` is set, and a dataset is read only
when its declared size is within ``max_array_mb`` (:mod:`spectro.io.limits`);
an ``intensity`` (or energy) of more than one dimension is refused, not
flattened; its non-finite points are dropped as those of text columns
(:func:`spectro.io.channels.finite_points`); root groups that are not
``NXentry`` groups are named in a :class:`~spectro.errors.FormatWarning`.

Per-scan coordinates: ``element``, ``edge``, ``measurement_mode``,
``title``, ``instrument`` (empty when absent) and ``nexus_entry``;
``sample`` comes from ``sample/name``, ``temperature`` (K) and ``pressure``
(GPa) from ``sample/temperature`` and ``sample/pressure`` with their
``units`` attributes. An entry without element or edge is
read with a :class:`~spectro.errors.FormatWarning` (NXxas requires both).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import FormatError, FormatWarning, SpectroError
from ..model import Scan, Spectra
from ._hdf5 import open_file, values
from .channels import Channels, finite_points, select_channels
from .limits import current
from .columns import CHANNEL_OPTIONS
from .units import check_energy_range, detect_units, to_ev
from .xdi import _PRESSURE_UNITS, _TEMPERATURE_UNITS, _quantity

__all__ = ["HDF5_MAGIC", "parse", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = ("entries", "signal") + CHANNEL_OPTIONS

#: The 8-byte signature at the start of an HDF5 file (or of its superblock).
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SUPERBLOCK_OFFSETS = (0, 512, 1024, 2048)
_UNITS = {"ev": "eV", "kev": "keV"}
_UNIT_IN_NAME = re.compile(r"\((k?eV)\)", re.IGNORECASE)


def sniff(path: Path, head: bytes) -> bool:
    """True for an HDF5 file (NeXus or not).

    The HDF5 signature is at byte 0, or at 512, 1024 or 2048 when the file
    has a user block.

    Examples
    --------
    >>> from pathlib import Path
    >>> sniff(Path("a.h5"), b"\\x89HDF\\r\\n\\x1a\\n" + bytes(8))
    True
    >>> sniff(Path("a.dat"), b"# energy mu")
    False
    """
    return any(head[off : off + 8] == HDF5_MAGIC for off in _SUPERBLOCK_OFFSETS)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.size != 1:
            return " ".join(_text(v) for v in value.ravel())
        return _text(value.ravel()[0])
    return str(value)


def _scalar_text(group, name: str) -> str:
    obj = group.get(name)
    if isinstance(obj, h5py.Dataset):
        current().check_array(int(obj.size), f"HDF5 dataset {obj.name}")
        text = _text(obj[()]).strip()
        return "" if text == "None" else text
    return ""


def _is_entry(obj) -> bool:
    return isinstance(obj, h5py.Group) and _text(obj.attrs.get("NX_class", "")) == "NXentry"


def _energy_from(entry, name: str, path: Path) -> np.ndarray:
    dset = entry.get("energy")
    plot = _plot_group(entry)
    if not isinstance(dset, h5py.Dataset) and plot is not None and "axes" in plot.attrs:
        axis = _text(plot.attrs["axes"]).split()
        dset = plot.get(axis[0]) if axis else None
    if not isinstance(dset, h5py.Dataset):
        raise FormatError("NXxas entry has no 'energy' dataset", file=path, scan=name)
    values = _one_d(dset, name, path)
    unit_text = _text(dset.attrs.get("units", "")).strip()
    if unit_text:
        units = _UNITS.get(unit_text.lower())
        if units is None:
            raise FormatError(
                f"energy units {unit_text!r} not understood; expected 'eV' or 'keV'",
                file=path,
                scan=name,
            )
    else:
        long_name = _text(dset.attrs.get("long_name", "")).strip()
        named = _UNIT_IN_NAME.search(long_name)
        if named:
            units = _UNITS[named.group(1).lower()]
        else:
            units = detect_units(values, "energy")
            warnings.warn(
                f"{path}: scan {name!r}: energy has no 'units' attribute; taken as {units} "
                "from its magnitude",
                FormatWarning,
                stacklevel=4,
            )
    energy = to_ev(values, units, label=f"{name}/energy")
    check_energy_range(energy, label=f"{name}/energy")
    return energy


def _plot_group(entry):
    default = _text(entry.attrs.get("default", "")).strip()
    candidates = [entry.get(default)] if default else []
    candidates += [obj for obj in entry.values() if isinstance(obj, h5py.Group)]
    for obj in candidates:
        if isinstance(obj, h5py.Group) and _text(obj.attrs.get("NX_class", "")) == "NXdata":
            return obj
    return None


def _dataset(entry, name: str, path: Path, label: str) -> np.ndarray:
    dset = entry.get(name)
    if not isinstance(dset, h5py.Dataset):
        available = sorted(k for k, v in entry.items() if isinstance(v, h5py.Dataset))
        raise FormatError(
            f"no dataset {name!r} in the entry; datasets are {available}", file=path, scan=label
        )
    return _one_d(dset, label, path)


def _one_d(dset, label: str, path: Path) -> np.ndarray:
    """A dataset's values as a 1-D array; a 2-D (or higher) one is refused, not flattened."""
    data = values(dset)
    if sum(n > 1 for n in data.shape) > 1:
        raise FormatError(
            f"dataset {dset.name} has shape {data.shape}: one spectrum per entry is read, "
            "not a 2-D array", file=path, scan=label
        )
    return data.ravel()


def _intensity_name(entry) -> str:
    plot = _plot_group(entry)
    if plot is not None and "signal" in plot.attrs:
        return _text(plot.attrs["signal"]).strip()
    return "intensity"


def _from_rawdata(entry, name: str, path: Path, options: dict[str, Any]) -> tuple[np.ndarray, dict, dict]:
    dset = entry["rawdata"]
    try:
        labels = json.loads(_text(dset.attrs["array_labels"]))
    except (json.JSONDecodeError, KeyError) as err:
        raise FormatError(
            f"rawdata has no readable 'array_labels' JSON list ({err})", file=path, scan=name
        ) from err
    table = values(dset)
    if table.ndim != 2 or len(labels) not in table.shape:
        raise FormatError(
            f"rawdata has shape {table.shape} but {len(labels)} array_labels", file=path, scan=name
        )
    if table.shape[1] != len(labels):
        table = table.T
    energy = entry.get("energy")
    unit_text = _text(energy.attrs.get("units", "")).strip() if isinstance(energy, h5py.Dataset) else ""
    if unit_text.lower() in _UNITS:
        options.setdefault("energy_units", _UNITS[unit_text.lower()])
    channels = select_channels([str(lb) for lb in labels], table, **options)
    attrs = {"mu_source": "rawdata"}
    attrs.update({k: v for k, v in channels.attrs.items() if isinstance(v, (str, int, float))})
    return channels.energy, channels.signals, attrs


def _read_entry(entry, name: str, path: Path, signal: str | None, options: dict[str, Any]) -> Scan:
    if signal is None and "rawdata" in entry:
        energy, signals, attrs = _from_rawdata(entry, name, path, options)
    else:
        source = signal or _intensity_name(entry)
        energy = _energy_from(entry, name, path)
        mu = _dataset(entry, source, path, name)
        if mu.shape != energy.shape:
            raise FormatError(
                f"{source!r} has {mu.size} points but energy has {energy.size}",
                file=path,
                scan=name,
            )
        attrs = {"mu_source": source, "mu_expression": source}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            checked = finite_points(Channels(energy, {"mu": mu}, attrs), label=f"{name}/energy")
        for w in caught:
            warnings.warn(f"{path}: scan {name!r}: {w.message}", w.category, stacklevel=3)
        energy, signals = checked.energy, checked.signals
        attrs = {"mu_source": source}
        if options.get("normalized"):
            attrs["normalized"] = 1
    element = _scalar_text(entry, "element/symbol")
    edge = _scalar_text(entry, "edge/name")
    if not element or not edge:
        missing = " and ".join(w for w, v in (("element", element), ("edge", edge)) if not v)
        warnings.warn(
            f"{path}: scan {name!r}: NXxas entry gives no {missing}; left empty",
            FormatWarning,
            stacklevel=3,
        )
    mode = _scalar_text(entry, "mode/name") or _scalar_text(entry, "mode")
    instrument = _scalar_text(entry, "instrument/name") or _scalar_text(
        entry, "instrument/beamline/name"
    )
    meta = {
        "nexus_entry": entry.name.lstrip("/"),
        "element": element,
        "edge": edge,
        "measurement_mode": mode,
        "title": _scalar_text(entry, "title"),
        "instrument": instrument,
    }
    coords: dict[str, Any] = {"sample": _scalar_text(entry, "sample/name")}
    notes: list[str] = []
    for key, units, target in (("temperature", _TEMPERATURE_UNITS, "K"), ("pressure", _PRESSURE_UNITS, "GPa")):
        value = _quantity_of(entry.get(f"sample/{key}"), units, target, notes=notes)
        if np.isfinite(value):
            coords[key] = value
    for note in notes:
        warnings.warn(f"{path}: scan {name!r}: {note}", FormatWarning, stacklevel=3)
    return Scan(energy, signals, name, coords=coords, attrs={**attrs, "_meta": meta})


def _quantity_of(dset, units: dict[str, tuple[float, float]], default: str, *, notes: list[str]) -> float:
    """A scalar dataset with a ``units`` attribute in the target units (NaN when absent or not understood)."""
    if not isinstance(dset, h5py.Dataset) or dset.size != 1 or dset.dtype.kind not in "fiu":
        return float("nan")
    unit = _text(dset.attrs.get("units", "")).strip()
    return _quantity(f"{float(np.ravel(dset[()])[0])!r} {unit}", units, default, name=dset.name, notes=notes)


def _xas_groups(entry, name: str, path: Path) -> list[tuple[str, Any]]:
    """The NXxas groups of a root entry, with their scan labels.

    The entry itself when it is NXxas (or says no definition); else its
    ``NXsubentry`` groups that are NXxas, labelled ``<entry>/<subentry>``
    (a BLISS scan converted to NXxas holds one per detector channel); else
    none, with a warning.
    """
    definition = _scalar_text(entry, "definition")
    if definition == "NXxas":
        return [(name, entry)]
    subentries = [
        (f"{name}/{key}", obj)
        for key, obj in entry.items()
        if isinstance(obj, h5py.Group)
        and _text(obj.attrs.get("NX_class", "")) == "NXsubentry"
        and _scalar_text(obj, "definition") == "NXxas"
    ]
    if subentries:
        return subentries
    if not definition:
        return [(name, entry)]
    warnings.warn(
        f"{path}: scan {name!r}: entry is {definition}, not NXxas; skipped", FormatWarning, stacklevel=4
    )
    return []


_META_LONG_NAMES = {
    "nexus_entry": "NeXus entry (HDF5 path)",
    "element": "absorbing element",
    "edge": "absorption edge",
    "measurement_mode": "measurement mode (transmission, fluorescence, ...)",
    "title": "entry title",
    "instrument": "instrument or beamline name",
}


def parse(
    path: Path,
    *,
    entries: str | Sequence[str] | None = None,
    signal: str | None = None,
    **channel_options: Any,
) -> Spectra:
    """Parse the NXxas entries of a NeXus/HDF5 file into the arrays of one XANES Dataset.

    Parameters
    ----------
    path : pathlib.Path
        HDF5 file with ``NXentry`` groups at its root.
    entries : str or sequence of str, optional
        Names of the entries to read (default: every ``NXentry``, in file
        order).
    signal : str, optional
        Dataset of each entry to use as mu; default: ``rawdata`` through
        :mod:`spectro.io.channels` when present, else the NXdata signal
        (``intensity``). See the module documentation.
    **channel_options
        Passed to :func:`spectro.io.channels.select_channels` for
        ``rawdata`` (``mode=``, ``i0=``, ``itrans=``, ...).

    Returns
    -------
    spectro.model.Spectra
        ``mu(scan, energy)`` in eV, one scan per entry, with the per-scan
        coordinates of the module documentation.

    Raises
    ------
    FormatError
        The file is not readable HDF5, has no NXentry, a requested entry is
        missing, or an entry lacks energy or signal (naming the entry).

    Warns
    -----
    FormatWarning
        Entry without element or edge; energy without units.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import h5py, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "one.h5"
    >>> with h5py.File(path, "w") as h5:
    ...     entry = h5.create_group("scan1")
    ...     entry.attrs["NX_class"] = "NXentry"
    ...     entry["definition"] = "NXxas"
    ...     entry.create_dataset("energy", data=np.linspace(8.2, 8.6, 41)).attrs["units"] = "keV"
    ...     entry["intensity"] = np.linspace(0.0, 1.0, 41)
    ...     entry["element/symbol"] = "Ni"
    ...     entry["edge/name"] = "K"
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ds = parse(path).to_dataset()
    >>> ds.scan.values.tolist(), float(ds.energy[0]), ds.element.values.tolist()
    (['scan1'], 8200.0, ['Ni'])
    """
    with open_file(path) as (h5, external):
        try:
            names = [k for k, v in h5.items() if _is_entry(v)]
            others = [k for k, v in h5.items() if isinstance(v, h5py.Group) and k not in names]
        except (OSError, RuntimeError, KeyError, ValueError) as err:
            raise FormatError(f"HDF5 root group cannot be read ({err})", file=path) from err
        if not names:
            raise FormatError("no NXentry group at the root of the HDF5 file", file=path)
        if others and entries is None:
            warnings.warn(
                f"{path}: root group(s) {others} are not NXentry groups (no or another NX_class); skipped",
                FormatWarning,
                stacklevel=2,
            )
        sub_wanted = None
        if entries is not None:
            wanted = [entries] if isinstance(entries, str) else list(entries)
            unknown = [w for w in wanted if w.split("/", 1)[0] not in names]
            if unknown:
                raise FormatError(f"no NXentry {unknown}; entries are {names}", file=path)
            names = list(dict.fromkeys(w.split("/", 1)[0] for w in wanted))
            sub_wanted = set(wanted)
        scans = []
        for name in names:
            try:
                groups = _xas_groups(h5[name], name, path)
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
                raise FormatError(f"entry cannot be read ({err})", file=path, scan=name) from err
            for label, group in groups:
                if sub_wanted is not None and "/" in label and not {label, name} & sub_wanted:
                    continue
                try:
                    scans.append(_read_entry(group, label, path, signal, dict(channel_options)))
                except SpectroError as err:
                    raise err.with_context(file=path, scan=label) from err
                except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
                    raise FormatError(f"entry cannot be read ({err})", file=path, scan=label) from err
    if not scans:
        raise FormatError("no NXxas entry in the file", file=path)
    metas = [sc.attrs.pop("_meta") for sc in scans]
    coords = {
        key: (np.asarray([m[key] for m in metas], dtype=str), {"units": "", "long_name": long_name})
        for key, long_name in _META_LONG_NAMES.items()
    }
    attrs = {"external_files": external} if external else None
    return Spectra.from_scans(scans, kind="xanes", file=path, coords=coords, attrs=attrs)
