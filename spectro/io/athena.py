"""Athena project files (``.prj``): every group as a scan, shifts applied.

Athena (Demeter) saves a project in one of three encodings, all read here:

- Perl ``Data::Dumper`` text, gzip-compressed (Demeter up to 0.9.2x and
  later by default), parsed without evaluation by
  :mod:`spectro.io.perl_dumper`;
- JSON, gzip-compressed;
- JSON, uncompressed.

Each Athena group holds ``x`` (energy, eV), ``y`` (mu(E) as Athena computed
it on import, e.g. ``ln(i0/it)``), optionally ``i0``, ``signal`` and
``stddev`` arrays (numbers may be stored as strings), and ``args``: the
group's processing parameters. ``y`` becomes ``mu`` as it is: it is what
Athena normalizes and analyses, whatever expression made it (recorded in
``athena_mu_expression`` when Athena kept it; in some projects ``y`` is an
un-normalized fluorescence signal and the expression is empty).

Energies
--------
Athena keeps the energy shift of a group (``bkg_eshift``, set when the user
aligns scans or calibrates on a foil) separately from ``x``: the stored
``x`` is the raw monochromator energy. The reader returns ``x + bkg_eshift``,
the energy Athena shows and analyses, and records the shift in the
``scan_energy_shift`` coordinate (eV) so the raw axis is ``energy -
scan_energy_shift``.

Reference channels
------------------
When Athena imports a scan "with reference channel" it makes two groups
that name each other in ``referencegroup`` and share one energy shift: the
sample (e.g. ``NiO.000``, mu = ln(i0/it)) and the reference foil, labelled
``"  Ref NiO.000"`` (mu = ln(it/ir)). Of such a pair the reference is the
group whose label starts with ``Ref``, else the one whose label contains
``foil``, else the later one in the file (Athena writes it after its
sample). With ``reference_groups="pair"`` (default) the reference becomes the
``mu_ref`` of its sample scan when both have the same stored energies and
shift, which is how Athena measured them; otherwise, and with
``reference_groups="scans"``, it stays a scan of its own. The per-scan coordinate
``is_reference`` is True for reference scans: unpaired references and any
group whose label contains ``foil`` (a foil standard measured on its own).
``athena_pair`` names the other group of a pair (its scan label).

Labels
------
Scan labels are the Athena labels stripped of surrounding spaces; a label
used by several groups gets `` (2)``, `` (3)``... from its second use on.
The label as stored is kept in ``athena_label``, Athena's internal group
name in ``athena_group``.

Processing parameters
---------------------
Kept per scan so that Athena's normalization can be reproduced:
``athena_e0`` (``bkg_e0``, eV, as stored), ``athena_pre1``,
``athena_pre2``, ``athena_nor1``, ``athena_nor2`` (eV relative to E0),
``athena_nnorm`` (number of terms of the post-edge polynomial: 3 is a
quadratic; xraylarch's ``nnorm`` is the degree, one less),
``athena_flatten``, ``athena_step`` (edge step Athena fitted),
``athena_element`` (``bkg_z``), ``athena_is_merge``, ``athena_datatype``
(``xmu``, ``xanes`` or ``norm``) and ``athena_mu_expression`` (how Athena
computed mu from the columns). Athena's ``bkg_e0`` is stored inconsistently
with respect to the shift (on the raw axis for some groups, on the shifted
axis for others), so it is reported as stored and not used.

A group of type ``norm`` holds already-normalized mu: the scan is marked
``normalized`` (see :mod:`spectro.io.channels`).

Groups that do not hold mu(E) (chi(k), R- or q-space, difference spectra,
pixel data) are skipped with a :class:`~spectro.errors.FormatWarning`.
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, FormatWarning, LimitError, OptionError, SpectroError
from ..model import Scan, Spectra
from .channels import Channels, finite_points
from .limits import current, read_bytes
from .perl_dumper import parse_records

__all__ = ["AthenaGroup", "AthenaProject", "parse", "read_project", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = ("groups", "reference_groups")

_MAGIC = "Athena project file --"
_GZIP_MAGIC = b"\x1f\x8b"
_MU_DATATYPES = ("xmu", "xanes", "norm")

#: Float parameters kept per scan: coordinate -> (Athena arg, units, long_name).
_FLOAT_PARAMS: dict[str, tuple[str, str, str]] = {
    "athena_e0": ("bkg_e0", "eV", "edge energy E0 as stored by Athena (bkg_e0)"),
    "athena_pre1": ("bkg_pre1", "eV", "pre-edge window start relative to E0 (Athena pre1)"),
    "athena_pre2": ("bkg_pre2", "eV", "pre-edge window end relative to E0 (Athena pre2)"),
    "athena_nor1": ("bkg_nor1", "eV", "post-edge window start relative to E0 (Athena nor1)"),
    "athena_nor2": ("bkg_nor2", "eV", "post-edge window end relative to E0 (Athena nor2)"),
    "athena_nnorm": ("bkg_nnorm", "1", "terms of the post-edge polynomial (Athena nnorm)"),
    "athena_step": ("bkg_step", "1", "edge step fitted by Athena (bkg_step)"),
}


@dataclass(frozen=True)
class AthenaGroup:
    """One group of an Athena project, as stored (no shift applied).

    Attributes
    ----------
    key : str
        Athena's internal group name (e.g. ``"naqow"``), unique in a project.
    label : str
        The label shown in Athena, as stored (may repeat, may have spaces).
    x : ndarray
        Stored energies in eV, before ``bkg_eshift``.
    y : ndarray
        Stored signal: mu(E) for mu(E) groups.
    arrays : dict of str to ndarray
        Optional arrays (``i0``, ``signal``, ``stddev``), as stored.
    args : dict
        Athena's per-group parameters (``bkg_eshift``, ``bkg_e0``, ...).
    """

    key: str
    label: str
    x: np.ndarray
    y: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def eshift(self) -> float:
        """The energy shift ``bkg_eshift`` in eV (0 when unset)."""
        value = _number(self.args.get("bkg_eshift"))
        return 0.0 if np.isnan(value) else value

    @property
    def datatype(self) -> str:
        """What ``y`` holds: ``xmu``, ``xanes``, ``norm``, ``chi``, ``xmudat``, ..."""
        explicit = self.args.get("datatype")
        if isinstance(explicit, str) and explicit:
            return explicit
        for flag in ("chi", "rsp", "qsp", "bkg", "diff", "pixel", "xmudat", "xanes", "nor"):
            if _flag(self.args.get(f"is_{flag}")):
                return "norm" if flag == "nor" else flag
        return "xmu"

    @property
    def partner(self) -> str:
        """Key of the group this one is paired with as reference channel, or ``""``."""
        for name in ("referencegroup", "reference"):
            value = self.args.get(name)
            if isinstance(value, str) and value and value != self.key:
                return value
        return ""


@dataclass(frozen=True)
class AthenaProject:
    """All groups of an Athena project file, in file order.

    Attributes
    ----------
    groups : tuple of AthenaGroup
    header : str
        The ``#`` header lines (Demeter version, creation date).
    journal : str
        The project journal (free text).
    encoding : str
        ``"perl"`` or ``"json"``, with ``"+gzip"`` when compressed.
    """

    groups: tuple[AthenaGroup, ...]
    header: str
    journal: str
    encoding: str


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        value = value.strip()
        if value in ("", "0"):
            return False
        number = _number(value)
        return bool(number) if not np.isnan(number) else True
    return bool(value)


def sniff(path: Path, head: bytes) -> bool:
    """True for an Athena project (Perl or JSON, gzip-compressed or not).

    Examples
    --------
    >>> from pathlib import Path
    >>> sniff(Path("x.prj"), b"# Athena project file -- Demeter version 0.9.26")
    True
    >>> sniff(Path("x.dat"), b"# XDI/1.0")
    False
    """
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        except zlib.error:
            return False
    return _MAGIC.encode() in head[:1024]


def _gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress every gzip member of ``raw``, refusing more than ``limit`` bytes of output as it grows."""
    out: list[bytes] = []
    total = 0
    data = raw
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        tail = data
        while not inflater.eof:
            piece = inflater.decompress(tail, 1 << 20)
            total += len(piece)
            if total > limit:
                raise LimitError(
                    f"the gzip-compressed project expands to more than {limit / 1e6:.3g} MB (the limit "
                    "max_file_mb; --max-file-mb on the command line)"
                )
            out.append(piece)
            tail = inflater.unconsumed_tail
            if not piece and not tail:
                raise EOFError("compressed file ended before the end-of-stream marker was reached")
        data = inflater.unused_data.lstrip(b"\x00")
    return b"".join(out)


def _text(path: Path) -> tuple[str, bool]:
    limits = current()
    raw = read_bytes(path, limits)
    compressed = raw.startswith(_GZIP_MAGIC)
    if compressed:
        try:
            raw = _gunzip(raw, limits.max_file_bytes)
        except (OSError, EOFError, zlib.error) as err:
            raise FormatError(
                f"gzip-compressed Athena project cannot be decompressed ({err}); "
                "the file is truncated or damaged",
                file=path,
            ) from err
    limits.check_items(raw.count(b",") + 1, "the project's lists")  # refused before they are built
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if _MAGIC not in text[:1024]:
        raise FormatError(f"not an Athena project: no {_MAGIC!r} line at the start", file=path)
    return text, compressed


def _array(values: Any, *, path: Path, key: str, name: str) -> np.ndarray:
    if not isinstance(values, (list, tuple)):
        raise FormatError(
            f"group {key!r}: array {name!r} is {type(values).__name__}, not a list", file=path
        )
    try:
        out = np.asarray(values, dtype=float)
    except (TypeError, ValueError, OverflowError) as err:
        raise FormatError(f"group {key!r}: array {name!r} is not numeric ({err})", file=path) from err
    if out.ndim != 1:
        raise FormatError(f"group {key!r}: array {name!r} is not a flat list of numbers", file=path)
    return out


def _group(key: str, record: Mapping[str, Any], *, path: Path) -> AthenaGroup:
    args = record.get("args", {})
    if isinstance(args, list):
        if len(args) % 2:
            raise FormatError(f"group {key!r}: @args has an odd number of entries", file=path)
        args = {str(k): v for k, v in zip(args[::2], args[1::2])}
    if not isinstance(args, dict):
        raise FormatError(f"group {key!r}: args is not a key/value list", file=path)
    for name in ("x", "y"):
        if name not in record:
            raise FormatError(f"group {key!r}: no {name!r} array", file=path)
    x = _array(record["x"], path=path, key=key, name="x")
    y = _array(record["y"], path=path, key=key, name="y")
    if x.shape != y.shape or x.ndim != 1:
        raise FormatError(
            f"group {key!r}: x has {x.size} points but y has {y.size}", file=path
        )
    arrays = {
        name: _array(record[name], path=path, key=key, name=name)
        for name in ("i0", "signal", "stddev")
        if record.get(name) is not None and not (isinstance(record[name], (list, tuple)) and not record[name])
    }
    label = args.get("label")
    label = key if label is None or str(label).strip() == "" else str(label)
    return AthenaGroup(key=key, label=label, x=x, y=y, arrays=arrays, args=args)


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside strings (linear, vectorized)."""
    stripped = _JSON_STRING.sub('""', text).encode("utf-8", "replace")
    codes = np.frombuffer(stripped, dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(codes, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)


def _from_json(text: str, path: Path) -> tuple[list[AthenaGroup], str, str]:
    max_depth = current().max_depth
    depth = _json_depth(text)
    if depth > max_depth:
        raise LimitError(
            f"the Athena JSON project nests lists {depth} deep, more than {max_depth} (the limit max_depth; "
            "--max-depth on the command line)",
            file=path,
        )
    try:
        doc = json.loads(text)
    except RecursionError as err:
        raise LimitError("the Athena JSON project is nested too deeply to be read", file=path) from err
    except json.JSONDecodeError as err:
        raise FormatError(
            f"Athena JSON project is not valid JSON: {err.msg} at line {err.lineno}, "
            f"column {err.colno}",
            file=path,
        ) from err
    if not isinstance(doc, dict):
        raise FormatError("Athena JSON project is not a JSON object", file=path)
    header = "\n".join(str(v) for k, v in doc.items() if k.startswith("_____head"))
    journal = doc.get("_____journal", "")
    journal = "\n".join(map(str, journal)) if isinstance(journal, list) else str(journal)
    order = doc.get("_____order")
    if order is None:
        order = [k for k, v in doc.items() if not k.startswith("_____") and isinstance(v, dict)]
    if not isinstance(order, list) or not all(isinstance(k, str) for k in order):
        raise FormatError(f"_____order is {type(order).__name__}, not a list of group names", file=path)
    groups = []
    for key in order:
        record = doc.get(key)
        if not isinstance(record, dict):
            raise FormatError(f"group {key!r} is listed in _____order but missing", file=path)
        groups.append(_group(str(key), record, path=path))
    return groups, header, journal


def _from_perl(text: str, path: Path) -> tuple[list[AthenaGroup], str, str]:
    parsed = parse_records(text, file=path, max_depth=current().max_depth)
    header = "\n".join(line for line in text.splitlines()[:10] if line.startswith("#"))
    journal = parsed.trailing.get("journal") or []
    journal = "\n".join(map(str, journal)) if isinstance(journal, list) else str(journal)
    groups = []
    for i, record in enumerate(parsed.records):
        key = record.get("old_group") or f"record {i + 1}"
        groups.append(_group(str(key), record, path=path))
    return groups, header, journal


def read_project(path: str | Path) -> AthenaProject:
    """Read every group of an Athena project as stored, without changes.

    Parameters
    ----------
    path : str or path-like
        An Athena project in any of its encodings.

    Returns
    -------
    AthenaProject
        The groups in file order; energies are the stored ``x`` (no shift).

    Raises
    ------
    FormatError
        Truncated or damaged gzip, invalid JSON or Perl text, a group
        without ``x``/``y`` arrays or with non-numeric ones; the message
        names the file and the group.

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> text = ("# Athena project file -- Demeter version 0.9.26\\n"
    ...         "$old_group = 'abcde';\\n"
    ...         "@args = ('label','  Ref foil','bkg_eshift','1.5');\\n"
    ...         "@x = ('8300','8310','8320');\\n@y = ('0.1','0.2','0.9');\\n[record]\\n1;\\n")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.prj"
    >>> _ = path.write_bytes(gzip.compress(text.encode()))
    >>> prj = read_project(path)
    >>> g = prj.groups[0]
    >>> prj.encoding, g.key, g.label, g.eshift, g.x.tolist()
    ('perl+gzip', 'abcde', '  Ref foil', 1.5, [8300.0, 8310.0, 8320.0])
    """
    path = Path(path)
    text, compressed = _text(path)
    body = text.lstrip()
    if body.startswith("{"):
        groups, header, journal = _from_json(text, path)
        encoding = "json"
    else:
        groups, header, journal = _from_perl(text, path)
        encoding = "perl"
    if not groups:
        raise FormatError("the Athena project holds no groups", file=path)
    return AthenaProject(
        groups=tuple(groups),
        header=header,
        journal=journal,
        encoding=encoding + ("+gzip" if compressed else ""),
    )


_REF_LABEL = re.compile(r"^\s*ref(\b|_)", re.IGNORECASE)
_FOIL = re.compile(r"foil", re.IGNORECASE)


def _pairs(groups: list[AthenaGroup]) -> dict[str, str]:
    """Map reference-group key -> sample-group key for mutual Athena pairs."""
    by_key = {g.key: (i, g) for i, g in enumerate(groups)}
    pairs: dict[str, str] = {}
    for i, g in enumerate(groups):
        other = by_key.get(g.partner)
        if other is None or other[1].partner != g.key or g.key in pairs or other[1].key in pairs:
            continue
        j, h = other
        if i > j:
            continue
        ref_g, ref_h = bool(_REF_LABEL.match(g.label)), bool(_REF_LABEL.match(h.label))
        if ref_g != ref_h:
            ref, sample = (g, h) if ref_g else (h, g)
        elif bool(_FOIL.search(g.label)) != bool(_FOIL.search(h.label)):
            ref, sample = (g, h) if _FOIL.search(g.label) else (h, g)
        else:
            ref, sample = h, g
        pairs[ref.key] = sample.key
    return pairs


def _unique_labels(labels: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    used = set(labels)
    out = []
    for label in labels:
        seen[label] += 1
        new = label
        n = seen[label]
        while n > 1 and (new := f"{label} ({n})") in used:
            n += 1
        used.add(new)
        out.append(new)
    return out


def _pairable(sample: AthenaGroup, ref: AthenaGroup) -> bool:
    return (
        sample.x.shape == ref.x.shape
        and np.allclose(sample.x, ref.x, rtol=0.0, atol=1e-6)
        and np.isclose(sample.eshift, ref.eshift, rtol=0.0, atol=1e-9)
    )


def parse(
    path: Path,
    *,
    reference_groups: str = "pair",
    groups: str | None = None,
) -> Spectra:
    """Parse an Athena project into the arrays of a XANES Dataset, one scan per group.

    Parameters
    ----------
    path : pathlib.Path
        Athena project (Perl or JSON text, gzip-compressed or not).
    reference_groups : {"pair", "scans"}
        ``"pair"``: a reference-channel group becomes ``mu_ref`` of its
        sample scan (when they share energies and shift). ``"scans"``: every
        group is a scan; reference groups are flagged by ``is_reference``.
    groups : str, optional
        Keep only groups whose stripped label matches this shell pattern
        (case-insensitive, :func:`fnmatch.fnmatch`), e.g. ``"NiO.*"``.
        A reference channel is kept with its sample.

    Returns
    -------
    spectro.model.Spectra
        ``mu(scan, energy)`` (Athena's ``y``) on ``x + bkg_eshift`` in eV,
        optional ``mu_ref``, ``i0`` (Athena's ``i0`` array) and
        ``mu_stddev`` (Athena's ``stddev`` of merged groups), and the
        per-scan coordinates described in the module documentation.

    Raises
    ------
    FormatError
        Damaged file (see :func:`read_project`), unknown ``reference_groups``,
        or no mu(E) group left.

    Warns
    -----
    FormatWarning
        Groups skipped (not mu(E)), optional arrays dropped because their
        length differs from ``x``, references kept as scans because their
        energies differ from their sample's.

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> import numpy as np
    >>> x = ",".join(f"'{e:.1f}'" for e in np.arange(8300.0, 8400.0, 5.0))
    >>> head = "# Athena project file -- Demeter version 0.9.26\\n"
    >>> def group(key, label, other):
    ...     return (f"$old_group = '{key}';\\n@args = ('label','{label}','bkg_eshift','2.5',"
    ...             f"'referencegroup','{other}');\\n@x = ({x});\\n@y = ({x});\\n[record]\\n")
    >>> text = head + group("aaaaa", "NiO.001", "bbbbb") + group("bbbbb", "  Ref NiO.001", "aaaaa")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pair.prj"
    >>> _ = path.write_bytes(gzip.compress(text.encode()))
    >>> ds = parse(path).to_dataset()
    >>> ds.scan.values.tolist(), "mu_ref" in ds, float(ds.energy[0])
    (['NiO.001'], True, 8302.5)
    >>> parse(path, reference_groups="scans").to_dataset().is_reference.values.tolist()
    [False, True]
    """
    if reference_groups not in ("pair", "scans"):
        raise OptionError("reference_groups", reference_groups, "one of 'pair', 'scans'")
    project = read_project(path)
    usable = []
    for g in project.groups:
        if g.datatype in _MU_DATATYPES:
            usable.append(g)
        else:
            warnings.warn(
                f"{path}: group {g.label.strip()!r} holds {g.datatype!r} data, not mu(E); skipped",
                FormatWarning,
                stacklevel=2,
            )
    pairs = _pairs(usable)
    ref_of = {s: r for r, s in pairs.items()}
    by_key = {g.key: g for g in usable}
    paired_ref: dict[str, AthenaGroup] = {}
    if reference_groups == "pair":
        for r_key, s_key in pairs.items():
            sample, ref = by_key[s_key], by_key[r_key]
            if _pairable(sample, ref):
                paired_ref[s_key] = ref
            else:
                warnings.warn(
                    f"{path}: reference group {ref.label.strip()!r} has other energies or "
                    f"shift than its sample {sample.label.strip()!r}; kept as its own scan",
                    FormatWarning,
                    stacklevel=2,
                )
    absorbed = {r.key for r in paired_ref.values()}
    scans_groups = [g for g in usable if g.key not in absorbed]
    labels = dict(zip((g.key for g in usable), _unique_labels([g.label.strip() for g in usable])))
    if groups is not None:
        wanted = {g.key for g in scans_groups if fnmatch(labels[g.key].lower(), groups.lower())}
        wanted |= {ref_of[k] for k in wanted if k in ref_of}
        scans_groups = [g for g in scans_groups if g.key in wanted]
    if not scans_groups:
        problem = "no group matches " + repr(groups) if groups else "no group holds mu(E) data"
        raise FormatError(problem, file=path)

    scans = [
        _scan(g, labels[g.key], paired_ref.get(g.key), path=path) for g in scans_groups
    ]
    return Spectra.from_scans(
        scans,
        kind="xanes",
        file=path,
        attrs={
            "athena_header": project.header,
            "athena_journal": project.journal,
            "athena_encoding": project.encoding,
        },
        signal_attrs={
            "i0": {"units": "1", "long_name": "incident intensity I0 (Athena i0 array)"},
            "mu_stddev": {
                "units": "1",
                "long_name": "standard deviation of mu over the merged scans (Athena stddev)",
            },
        },
        coords=_coords(scans_groups, labels, pairs, paired_ref),
    )


def _scan(g: AthenaGroup, label: str, ref: AthenaGroup | None, *, path: Path) -> Scan:
    signals = {"mu": g.y}
    if ref is not None:
        signals["mu_ref"] = ref.y
    for name, model_name in (("i0", "i0"), ("stddev", "mu_stddev")):
        arr = g.arrays.get(name)
        if arr is None:
            continue
        if arr.shape == g.x.shape:
            signals[model_name] = arr
        else:
            warnings.warn(
                f"{path}: scan {label!r}: Athena {name!r} array has {arr.size} points but x "
                f"has {g.x.size}; {name!r} dropped",
                FormatWarning,
                stacklevel=3,
            )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            checked = finite_points(Channels(g.x + g.eshift, signals, {"mu_expression": "Athena y"}), label="x")
        except SpectroError as err:
            raise err.with_context(file=path, scan=label) from err
    for w in caught:
        warnings.warn(f"{path}: scan {label!r}: {w.message}", w.category, stacklevel=3)
    return Scan(checked.energy, checked.signals, label, attrs={"normalized": 1} if g.datatype == "norm" else {})


def _coords(
    usable: list[AthenaGroup],
    labels: Mapping[str, str],
    pairs: Mapping[str, str],
    paired_ref: Mapping[str, AthenaGroup],
) -> dict[str, Any]:
    partner = dict(pairs)
    partner.update({s: r for r, s in pairs.items()})

    def per_scan(values, units, long_name):
        return np.asarray(values), {"units": units, "long_name": long_name}

    coords: dict[str, Any] = {
        "scan_energy_shift": per_scan(
            [g.eshift for g in usable], "eV", "energy shift added to the stored Athena x (bkg_eshift)"
        ),
        "is_reference": per_scan(
            [g.key in pairs or bool(_FOIL.search(g.label)) for g in usable],
            "",
            "reference (foil) spectrum, not a sample",
        ),
        "athena_pair": per_scan(
            [labels.get(partner.get(g.key, ""), "") for g in usable],
            "",
            "scan label of the paired Athena reference channel or sample",
        ),
        "athena_label": per_scan([g.label for g in usable], "", "group label as stored in Athena"),
        "athena_group": per_scan([g.key for g in usable], "", "Athena internal group name"),
        "athena_datatype": per_scan([g.datatype for g in usable], "", "Athena data type"),
        "athena_element": per_scan(
            [str(g.args.get("bkg_z") or "") for g in usable], "", "absorbing element (Athena bkg_z)"
        ),
        "athena_mu_expression": per_scan(
            [_mu_expression(g) for g in usable], "", "how Athena computed mu from the columns"
        ),
        "athena_is_merge": per_scan(
            [_flag(g.args.get("is_merge")) for g in usable], "", "group is a merge of scans"
        ),
        "athena_flatten": per_scan(
            [_flag(g.args.get("bkg_flatten")) for g in usable], "", "Athena flattens the post-edge"
        ),
    }
    for name, (arg, units, long_name) in _FLOAT_PARAMS.items():
        coords[name] = per_scan([_number(g.args.get(arg)) for g in usable], units, long_name)
    coords["athena_mu_ref_expression"] = per_scan(
        [_mu_expression(paired_ref[g.key]) if g.key in paired_ref else "" for g in usable],
        "",
        "how Athena computed mu_ref (the paired reference group) from the columns",
    )
    return coords


def _mu_expression(g: AthenaGroup) -> str:
    text = str(g.args.get("xmu_string") or "")
    text = text.replace(f"{g.key}.", "")
    return re.sub(r"\s+", "", text)
