"""From a table of labelled columns to energy (eV), mu and mu_ref.

Every column-based reader (XDI, SPEC, generic columns, NeXus ``rawdata``)
ends with :func:`select_channels`: given the column labels and the numeric
table it picks the energy column, converts it to eV and computes ``mu``
(and ``mu_ref`` when a reference channel exists).

Label matching
--------------
Labels are matched case-insensitively after :func:`clean_label`, which drops
PV annotations after ``||``, units in brackets (``"I0 (counts)"``), leading
column numbers (``"4_i0"``), the ``$( )`` of CLS macro names and XDI-style
``_c4`` suffixes, and maps the letter O in ``IO`` to a zero. Options
(``energy=``, ``i0=``, ...) take a label (matched the same way) or a 0-based
column index.

Energy column
-------------
``energy=`` when given; otherwise the first label that is exactly
``energy``/``e``/``energy_ev``; then labels containing "energy" or "nrg",
preferring achieved/readback/encoder values over set-points
(``achieved`` > ``fbk``/``rbv``/``readback``/``enc`` > plain > ``setting``/
``requested``/``setpoint``); then an angle column (``angle``, ``theta``, ``bragg``);
then the first non-constant column not labelled as a clock, event id,
index or time (for unlabelled tables: ``col1`` unless it is constant).
Energies must lie within 1-100 keV after conversion
(:func:`spectro.io.units.check_energy_range`). Units follow :mod:`spectro.io.units` (keV and degrees are
converted with a :class:`~spectro.errors.UnitConversionWarning`). A scan
whose energies fall monotonically (an angle column that rises, a scan
run downwards) is reversed to ascending order without a warning; other
disorder is sorted, with a warning, by :func:`spectro.model.build`.

Mode (``mode=``)
----------------
``"mu"``
    A column that already holds mu: ``mu=`` or the first of ``mutrans``,
    ``mu``, ``xmu``, ``mu_e``, ``mufluor`` (for ``mode="fluorescence"`` the
    fluorescence mu ``mufluor`` is preferred), then the already-normalized
    ``norm``, ``normalized``, ``flat``, ``nmu`` (see below).
``"transmission"``
    ``ln(i0 / itrans)``.
``"fluorescence"``
    ``ifluor / i0``.
``None`` (auto, the default)
    ``"mu"`` if the file gives a mu column; else ``"transmission"`` if an
    itrans column exists; else ``"fluorescence"`` if an ifluor column exists;
    else, for a table of exactly two columns, the non-energy column is mu
    (with a :class:`~spectro.errors.FormatWarning`); else a
    :class:`~spectro.errors.ColumnError` listing the columns.

mu columns must be named exactly (after :func:`clean_label`); intensity
columns also match by the first or last word of the label (``I0_EH1``,
``PreKB-I0``). Default channel names (first match wins): i0: ``i0``,
``io``, ``imon``, ``mon``, ``monitor``; itrans: ``itrans``, ``it``, ``i1``,
``itr``, ``trans``; ifluor: ``ifluor``, ``if``, ``ifl``, ``fluor``, ``ff``,
``fl``, ``iff``, ``pips``; irefer: ``irefer``, ``iref``, ``ir``, ``i2``,
``ref``.

Already-normalized mu (``normalized=``)
---------------------------------------
Exports of processed data (Athena, xraylarch, beamline pipelines) hold mu
already normalized to an edge step of 1. When the mu column is named
``norm``, ``normalized``, ``normalised``, ``flat``, ``flattened`` or ``nmu``
(after :func:`clean_label`: ``Norm``, ``normalized (a.u.)``, ...; the XDI
names ``normtrans``, ``normfluor``), or when
``normalized=True`` is given, the attrs record ``normalized = 1`` and the
XANES analysis takes mu as the normalized spectrum
(:func:`spectro.xanes.analyze`). ``normalized=False`` reads such a column as
any mu, to be normalized again. Such exports often give the energy as
``shifted energy`` (the calibrated scale), found as an energy column, and
the reference foil's (normalized) mu in a column named ``reference``, read
as ``mu_ref``.

Reference (``reference=True``)
------------------------------
``mu_ref`` is the ``murefer``/``mu_ref``/``muref``/``reference``/``normrefer`` column when
given (``murefer=``), else ``ln(itrans / irefer)`` when both exist. No
reference channel: no ``mu_ref`` (the calibration shift downstream is NaN).

Non-finite values
-----------------
Points where the energy or mu is not finite (e.g. ``ln(i0/0)`` when a
detector read zero) are dropped with a :class:`~spectro.errors.FormatWarning`
giving the count; non-finite mu_ref values are kept as NaN. More than
:data:`MAX_DROPPED_FRACTION` of the points dropped, or fewer than
:data:`MIN_POINTS` remaining, is a :class:`~spectro.errors.DataError`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ColumnError, DataError, FormatWarning
from .units import check_energy_range, detect_units, to_ev

__all__ = [
    "MAX_DROPPED_FRACTION",
    "MIN_POINTS",
    "MODES",
    "NORMALIZED_MU",
    "Channels",
    "clean_label",
    "choose",
    "find_column",
    "finite_points",
    "select_channels",
]

#: What an error about the channels tells the user to do (in the words of every door).
CHOOSE_CHANNELS = "choose them with the reading options mode, i0, itrans, ifluor, mu (--mode, --i0, ... on the command line)"


def choose(*options: str) -> str:
    """What to do about missing ``options``, in the words of every door.

    Examples
    --------
    >>> choose("i0", "itrans")
    'choose them with the reading options i0, itrans (--i0, --itrans on the command line)'
    """
    what = "it with the reading option" if len(options) == 1 else "them with the reading options"
    flags = ", ".join("--" + o.replace("_", "-") for o in options)
    return f"choose {what} {', '.join(options)} ({flags} on the command line)"

#: Fewest points a spectrum may have after non-finite points are dropped:
#: two each to define the pre-edge line, the edge and the post-edge line.
MIN_POINTS = 6

#: Largest fraction of points that may be dropped as non-finite before the
#: file is refused: more means the channel choice is wrong (e.g. a
#: transmission ratio of a fluorescence measurement).
MAX_DROPPED_FRACTION = 0.1

#: Values of the ``mode=`` option (``None`` means auto).
MODES = ("transmission", "fluorescence", "mu")

_ENERGY_EXACT = (
    "energy",
    "e",
    "ev",
    "energyev",
    "energy_ev",
    "en",
    "ene",
    "energykev",
    "energy_kev",
)
_ENERGY_PREFERENCE = (
    ("achieved",),
    ("fbk", "feedback", "rbv", "readback", "enc", "actual", "measured"),
    ("setting", "requested", "setpoint", "target"),
)
_ANGLE = re.compile(r"angle|theta|bragg|mono_?th", re.IGNORECASE)
_MU_TRANS = (
    "mutrans",
    "mu",
    "xmu",
    "mu_e",
    "mue",
    "mut",
    "mu_trans",
    "mutransmission",
)
_MU_FLUOR = ("mufluor", "mu_fluor", "muf", "mufl", "mufluorescence", "mu_fluo", "mufluo")
#: mu columns that hold an already-normalized spectrum (cleaned labels).
NORMALIZED_MU = ("norm", "normalized", "normalised", "flat", "flattened", "nmu", "norm_mu", "mu_norm",
                 "normtrans", "normfluor")
_MU_REF = ("murefer", "mu_ref", "muref", "mu_refer", "mur", "reference", "normrefer")
_CHANNEL_NAMES = {
    "i0": ("i0", "io", "imon", "mon", "monitor", "i_0"),
    "itrans": ("itrans", "it", "i1", "itr", "trans", "i_t", "i_trans"),
    "ifluor": ("ifluor", "if", "ifl", "fluor", "ff", "fl", "iff", "pips", "i_f"),
    "irefer": ("irefer", "iref", "ir", "i2", "ref", "i_ref"),
}


@dataclass(frozen=True)
class Channels:
    """Energy and signals chosen from a table.

    Attributes
    ----------
    energy : ndarray, shape (n,)
        Incident energy in eV, in file order, except that a scan whose
        energies fall throughout is reversed to ascending order.
    signals : dict of str to ndarray, shape (n,)
        ``"mu"`` and, when a reference channel exists, ``"mu_ref"``.
    attrs : dict
        Provenance: ``energy_column``, ``energy_units_in``, ``mode``,
        ``mu_expression`` and the column used for each channel.
    """

    energy: np.ndarray
    signals: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def clean_label(label: str) -> str:
    """Canonical lower-case form of a column label for matching (remembered per label).

    Examples
    --------
    >>> clean_label("I0 (counts)")
    'i0'
    >>> clean_label("IO")
    'i0'
    >>> clean_label("mutrans  ||  13IDE:scaler1.S2")
    'mutrans'
    >>> clean_label("4_i0"), clean_label("$(EnergyAchieved)"), clean_label("I0_KEITHLEY1_c4")
    ('i0', 'energyachieved', 'i0_keithley1')
    """
    text = str(label).split("||", 1)[0]
    text = re.sub(
        r"\(([^()]*)\)",
        lambda m: m.group(1) if text.lstrip().startswith("$(") else "",
        text,
    )
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = text.replace("$", "").strip().lower()
    text = re.sub(r"^\d+_(?=[a-z])", "", text)
    text = re.sub(r"_c\d+$", "", text)
    text = re.sub(r"[\s\-]+", "_", text).strip("_*:. ")
    if text == "io":
        text = "i0"
    return text


@lru_cache(maxsize=4096)
def _tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[^a-z0-9]+", name) if t)


def find_column(
    labels: Sequence[str],
    wanted: str | int | None = None,
    *,
    names: Sequence[str] = (),
    role: str = "column",
) -> int | None:
    """Index of a column by explicit choice or by a list of default names.

    Parameters
    ----------
    labels : sequence of str
        The column labels.
    wanted : str or int, optional
        A label (matched exactly, then by :func:`clean_label`), or a 0-based
        index (an int, or a string of digits that is not a label). When
        given and not found: :class:`ColumnError`.
    names : sequence of str
        Default names tried in order when ``wanted`` is None: exact cleaned
        label first, then a label whose first token is the name (``I0_EH1``),
        then one whose last token is (``PreKB-I0``).
    role : str
        What the column is for, named in the error.

    Returns
    -------
    int or None
        The index, or None when nothing matches the defaults.

    Examples
    --------
    >>> find_column(["Energy", "I0 (counts)", "It"], names=("i0", "io"))
    1
    >>> find_column(["Energy", "I0", "It"], "it")
    2
    >>> find_column(["a", "b"], 1)
    1
    """
    return _find(labels, [clean_label(lb) for lb in labels], None, wanted, names, role)


def _find(
    labels: Sequence[str],
    cleaned: Sequence[str],
    tokens: Sequence[Sequence[str]] | None,
    wanted: str | int | None,
    names: Sequence[str],
    role: str,
) -> int | None:
    if wanted is not None:
        if isinstance(wanted, (int, np.integer)) and not isinstance(wanted, bool):
            if -len(labels) <= wanted < len(labels):
                return int(wanted) % len(labels)
            raise ColumnError(
                f"{role} column index {wanted} is out of range: the table has {len(labels)} columns"
            )
        target = clean_label(wanted)
        for i, lb in enumerate(labels):
            if lb == wanted:
                return i
        for i, c in enumerate(cleaned):
            if c == target:
                return i
        if str(wanted).isdigit() and int(wanted) < len(labels):
            return int(wanted)
        raise ColumnError(f"no {role} column {wanted!r}; columns are {list(labels)}")
    first = {c: i for i, c in reversed(list(enumerate(cleaned)))}
    for name in names:
        if name in first:
            return first[name]
    if tokens is None:
        tokens = [_tokens(c) for c in cleaned]
    words = [(i, tok) for i, tok in enumerate(tokens) if len(tok) > 1]
    for position in (0, -1):
        at = {}
        for i, tok in words:
            at.setdefault(tok[position], i)
        for name in names:
            if name in at:
                return at[name]
    return None


def _energy_rank(cleaned: str) -> int:
    words = _tokens(cleaned.replace("energy", " energy "))
    for rank, group in zip((0, 1, 3), _ENERGY_PREFERENCE):
        if any(w in cleaned if len(w) > 3 else w in words for w in group):
            return rank
    return 2


def _energy_column(
    labels: Sequence[str], cleaned: Sequence[str], table: np.ndarray
) -> int:
    for i, c in enumerate(cleaned):
        if c in _ENERGY_EXACT:
            return i
    energy_like = [i for i, c in enumerate(cleaned) if "energy" in c or "nrg" in c]
    if energy_like:
        return min(energy_like, key=lambda i: _energy_rank(cleaned[i]))
    for i, c in enumerate(cleaned):
        if _ANGLE.search(c):
            return i
    for i in range(table.shape[1]):
        col = table[:, i]
        finite = col[np.isfinite(col)]
        if (
            finite.size > 1
            and np.ptp(finite) > 0
            and not re.match(r"(time|clock|event|index|point|sec|counter)", cleaned[i])
        ):
            return i
    raise ColumnError(f"no energy column found among {list(labels)}; {choose('energy')}")


def _ratio_log(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(num / den)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den


def select_channels(
    labels: Sequence[str],
    table: np.ndarray,
    *,
    energy: str | int | None = None,
    mode: str | None = None,
    i0: str | int | None = None,
    itrans: str | int | None = None,
    ifluor: str | int | None = None,
    irefer: str | int | None = None,
    mu: str | int | None = None,
    murefer: str | int | None = None,
    reference: bool = True,
    energy_units: str | None = None,
    d_spacing: float | None = None,
    normalized: bool | None = None,
    unit_texts: Sequence[str] | None = None,
) -> Channels:
    """Pick the energy column and compute mu (and mu_ref) from a table.

    Parameters
    ----------
    labels : sequence of str
        One label per column of ``table``.
    table : ndarray, shape (n_points, n_columns)
        The numbers (not modified).
    energy : str or int, optional
        Energy column label or 0-based index; default: see module docs.
    mode : {"transmission", "fluorescence", "mu"}, optional
        How mu is obtained; default (None) is automatic (module docs).
    i0, itrans, ifluor, irefer, mu, murefer : str or int, optional
        Override the column used for each channel.
    reference : bool
        Compute ``mu_ref`` when a reference channel exists (default True).
    energy_units : {"eV", "keV", "deg"}, optional
        Units of the energy column; default: detected
        (:func:`spectro.io.units.detect_units`).
    d_spacing : float, optional
        Monochromator d-spacing in Angstrom, needed for angle columns.
    normalized : bool, optional
        Whether mu is already normalized (edge step 1); default (None):
        when the mu column has a name of :data:`NORMALIZED_MU`. Recorded
        as ``attrs["normalized"] = 1`` when true.
    unit_texts : sequence of str, optional
        Per-column unit strings (e.g. from XDI ``Column.N: energy eV``).

    Returns
    -------
    Channels
        Energy in eV (file order), ``{"mu": ..., "mu_ref": ...}`` and attrs
        recording the choices (``normalized`` 1 when mu is already
        normalized).

    Raises
    ------
    ColumnError
        A requested column does not exist, or no usable channels exist.
    DataError
        Fewer than :data:`MIN_POINTS` points with finite energy and mu, or
        energies outside 1-100 keV.

    Warns
    -----
    UnitConversionWarning
        keV or angle converted to eV.
    FormatWarning
        Points with non-finite mu dropped.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(8300.0, 8400.0, 11)
    >>> table = np.column_stack([e, np.full(11, 1e5), np.full(11, 4e4), np.full(11, 2e4)])
    >>> ch = select_channels(["Energy", "I0", "It", "Iref"], table)
    >>> ch.attrs["mode"], ch.attrs["mu_expression"], ch.attrs["mu_ref_expression"]
    ('transmission', 'ln(I0/It)', 'ln(It/Iref)')
    >>> round(float(ch.signals["mu"][0]), 4), round(float(ch.signals["mu_ref"][0]), 4)
    (0.9163, 0.6931)
    """
    labels = [str(lb) for lb in labels]
    table = np.asarray(table, dtype=float)
    if table.ndim != 2 or table.shape[1] != len(labels):
        raise ColumnError(
            f"table has shape {table.shape} but {len(labels)} labels were given"
        )
    if mode is not None and mode not in MODES:
        raise ColumnError(f"mode must be one of {list(MODES)} or None, not {mode!r}")
    units_of = list(unit_texts) if unit_texts is not None else [""] * len(labels)

    cleaned = [clean_label(lb) for lb in labels]
    tokens = [_tokens(c) for c in cleaned]
    if energy is not None:
        ie = _find(labels, cleaned, tokens, energy, (), "energy")
    else:
        ie = _energy_column(labels, cleaned, table)
    units = energy_units or detect_units(table[:, ie], labels[ie], units_of[ie])
    energy_ev = to_ev(table[:, ie], units, d_spacing=d_spacing, label=labels[ie])
    attrs: dict[str, Any] = {"energy_column": labels[ie], "energy_units_in": units}
    if units == "deg":
        attrs["d_spacing"] = float(d_spacing)

    def col(name: str, wanted, names, by_word: bool = True) -> int | None:
        words = tokens if by_word else [[] for _ in labels]
        idx = _find(labels, cleaned, words, wanted, names, name)
        return None if idx == ie else idx

    i_i0 = col("i0", i0, _CHANNEL_NAMES["i0"])
    i_it = col("itrans", itrans, _CHANNEL_NAMES["itrans"])
    i_if = col("ifluor", ifluor, _CHANNEL_NAMES["ifluor"])
    i_ir = col("irefer", irefer, _CHANNEL_NAMES["irefer"])
    mu_names = (
        _MU_FLUOR + _MU_TRANS if mode == "fluorescence" else _MU_TRANS + _MU_FLUOR
    ) + NORMALIZED_MU
    i_mu = col("mu", mu, mu_names, by_word=False)

    if mode is None:
        if i_mu is not None:
            mode = "mu"
        elif i_it is not None and i_i0 is not None:
            mode = "transmission"
        elif i_if is not None and i_i0 is not None:
            mode = "fluorescence"
        elif len(labels) == 2:
            i_mu = 1 - ie
            mode = "mu"
            warnings.warn(
                f"no i0/itrans/ifluor/mu column: took the only other column "
                f"{labels[i_mu]!r} as mu; choose explicitly with the reading options mode and mu "
                "(--mode, --mu on the command line)",
                FormatWarning,
                stacklevel=2,
            )
        else:
            raise ColumnError(
                "cannot tell how to get mu: no mu column and no i0 with itrans or ifluor "
                f"among {labels}; {CHOOSE_CHANNELS}"
            )
    if mode == "fluorescence" and mu is None and i_mu is not None:
        if cleaned[i_mu] not in _MU_FLUOR:
            i_mu = None
        else:
            mode = "mu"

    if mode == "mu":
        if i_mu is None:
            raise ColumnError(f"mode mu but no mu column among {labels}; {choose('mu')}")
        mu_values = table[:, i_mu].copy()
        attrs.update(mode="mu", mu_column=labels[i_mu], mu_expression=labels[i_mu])
    elif mode == "transmission":
        if i_i0 is None or i_it is None:
            raise ColumnError(
                f"transmission needs i0 and itrans columns; found {_name(labels, i_i0)} for i0 and "
                f"{_name(labels, i_it)} for itrans among {labels}; {choose('i0', 'itrans')}"
            )
        mu_values = _ratio_log(table[:, i_i0], table[:, i_it])
        attrs.update(
            mode="transmission",
            i0_column=labels[i_i0],
            itrans_column=labels[i_it],
            mu_expression=f"ln({labels[i_i0]}/{labels[i_it]})",
        )
    else:
        if i_i0 is None or i_if is None:
            raise ColumnError(
                f"fluorescence needs i0 and ifluor columns; found {_name(labels, i_i0)} for i0 and "
                f"{_name(labels, i_if)} for ifluor among {labels}; {choose('i0', 'ifluor')}"
            )
        mu_values = _ratio(table[:, i_if], table[:, i_i0])
        attrs.update(
            mode="fluorescence",
            i0_column=labels[i_i0],
            ifluor_column=labels[i_if],
            mu_expression=f"{labels[i_if]}/{labels[i_i0]}",
        )

    if normalized is None:
        normalized = mode == "mu" and cleaned[i_mu] in NORMALIZED_MU
    if normalized:
        attrs["normalized"] = 1
    signals = {"mu": mu_values}
    if reference:
        i_mr = col("murefer", murefer, _MU_REF, by_word=False)
        if i_mr is not None:
            signals["mu_ref"] = table[:, i_mr].copy()
            attrs.update(mu_ref_column=labels[i_mr], mu_ref_expression=labels[i_mr])
        elif i_ir is not None and i_it is not None:
            signals["mu_ref"] = _ratio_log(table[:, i_it], table[:, i_ir])
            attrs.update(
                itrans_column=labels[i_it],
                irefer_column=labels[i_ir],
                mu_ref_expression=f"ln({labels[i_it]}/{labels[i_ir]})",
            )
    return _drop_non_finite(Channels(energy_ev, signals, attrs), label=labels[ie])


def _name(labels: Sequence[str], idx: int | None) -> str:
    return "none" if idx is None else repr(labels[idx])


def finite_points(ch: Channels, *, label: str) -> Channels:
    """Drop the points whose energy or main signal is not finite, by the rules of :func:`select_channels`.

    The main signal is ``mu`` (``intensity`` for XES); what it was made of is
    ``ch.attrs["mu_expression"]``. Every reader that does not go through
    :func:`select_channels` (Athena, NeXus intensities, I20) calls it.

    Raises
    ------
    DataError
        Fewer than :data:`MIN_POINTS` finite points, more than
        :data:`MAX_DROPPED_FRACTION` of them dropped, or energies outside
        1-100 keV.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(8300.0, 8400.0, 8)
    >>> finite_points(Channels(e, {"intensity": np.r_[np.ones(3), np.full(5, np.inf)]}), label="energy")
    Traceback (most recent call last):
    ...
    spectro.errors.DataError: only 3 point(s) with finite energy and intensity (None), need at least 6
    """
    return _drop_non_finite(ch, label=label)


def _drop_non_finite(ch: Channels, *, label: str) -> Channels:
    energy = ch.energy
    main = "mu" if "mu" in ch.signals else "intensity"
    mu = ch.signals[main]
    keep = np.isfinite(energy) & np.isfinite(mu)
    n_bad = int(energy.size - keep.sum())
    if keep.sum() < MIN_POINTS:
        why = (
            f"; the intensities are zero or of opposite sign: {CHOOSE_CHANNELS}"
            if keep.sum() == 0 and np.isfinite(energy).any()
            else ""
        )
        raise DataError(
            f"only {int(keep.sum())} point(s) with finite energy and {main} "
            f"({ch.attrs.get('mu_expression')}), need at least {MIN_POINTS}{why}"
        )
    if n_bad > MAX_DROPPED_FRACTION * energy.size:
        raise DataError(
            f"{n_bad} of {energy.size} points have non-finite energy or {main} = "
            f"{ch.attrs.get('mu_expression')} (zero or negative intensities): wrong channels? "
            f"{CHOOSE_CHANNELS}"
        )
    signals = {k: v[keep] for k, v in ch.signals.items()}
    for name in ("mu_ref", "intensity_err"):
        if name in signals:
            signals[name] = np.where(np.isfinite(signals[name]), signals[name], np.nan)
    if n_bad:
        warnings.warn(
            f"dropped {n_bad} point(s) where energy or {main} = {ch.attrs.get('mu_expression')} "
            "is not finite (zero or negative intensity, or missing value)",
            FormatWarning,
            stacklevel=3,
        )
    energy = energy[keep]
    check_energy_range(energy, label=label)
    if energy.size > 1 and np.all(np.diff(energy) < 0):
        energy = energy[::-1].copy()
        signals = {k: v[::-1].copy() for k, v in signals.items()}
    return Channels(energy, signals, dict(ch.attrs, n_dropped=n_bad))
