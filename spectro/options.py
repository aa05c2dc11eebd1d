"""Options as values: what to read and how to analyse, frozen and validated.

Every option of spectro is a field of one of these frozen dataclasses:

- :class:`ReadOptions` — how a file becomes spectra (columns, mode, units,
  scans, groups) and the per-scan metadata a reader attaches;
- :class:`XanesOptions` — normalization windows, edge definition,
  calibration, pre-edge model;
- :class:`XesOptions` — element, background, normalization, windows of the
  Kβ metrics;
- :class:`ValenceOptions` — the valence anchors and the observable.

Each is validated in one place (its ``__post_init__``): a bad value raises
:class:`~spectro.errors.OptionError`, a ``SpectroError`` that is also a
``ValueError``, naming the option, the value and what is allowed, spelled
the way it was given (keyword, command-line flag or manifest column). Each
records itself on results (:meth:`Options.to_attrs`), has a stable hash
(:meth:`Options.digest`) that resumable batches use in their keys, and
makes its own command-line flags (:meth:`Options.add_arguments`), so an
option is defined once: here.

Functions take an options object and keyword changes to it::

    spectro.xanes.analyze(ds, preedge="centroid")
    spectro.xanes.analyze(ds, XanesOptions(preedge="centroid"))
    spectro.xanes.analyze(ds, opts, nnorm=1)          # opts with nnorm=1

Examples
--------
>>> opts = XanesOptions(pre1=-120.0, preedge="centroid")
>>> opts.pre1, opts.replace(nnorm=1).nnorm
(-120.0, 1)
>>> XanesOptions(preedge="spline")
Traceback (most recent call last):
...
spectro.errors.OptionError: preedge='spline' is not allowed: one of 'fit', 'centroid'
>>> len(opts.digest()), opts.digest() == XanesOptions(preedge="centroid", pre1=-120).digest()
(64, True)
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from .errors import OptionError

__all__ = [
    "AnalysisOptions",
    "Options",
    "ReadOptions",
    "ValenceOptions",
    "XanesOptions",
    "XesOptions",
    "options_of",
]

T = TypeVar("T", bound="Options")


# --- value rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one option's value is checked and converted.

    ``convert`` returns the canonical value or raises ``ValueError``/
    ``TypeError``; ``allowed`` says in words what is accepted; ``nargs``
    is the number of command-line values (None: one).
    """

    convert: Callable[[Any], Any]
    allowed: str
    nargs: int | None = None
    metavar: str | None = None


def _none_or(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "default")):
            return None
        return convert(value)

    return checked


def _finite(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError("not finite")
    return out


def _positive(value: Any) -> float:
    out = _finite(value)
    if out <= 0:
        raise ValueError("not positive")
    return out


def _fraction(value: Any) -> float:
    out = _finite(value)
    if not 0.0 < out < 1.0:
        raise ValueError("outside (0, 1)")
    return out


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("no", "false", "0", "off"):
        return False
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise ValueError("not a boolean")


def _count(value: Any) -> int:
    """A positive integer."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a count")
    out = int(value)
    if out != float(value) or out < 1:
        raise ValueError("not a positive integer")
    return out


def _maybe_boolean(value: Any) -> bool | None:
    """Yes, no, or None (not said: decided from the data)."""
    return _none_or(_boolean)(value)


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError("not a name")
    out = str(value).strip()
    if not out:
        raise ValueError("empty")
    return out


def _pair(value: Any) -> tuple[float, float]:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    lo, hi = (_finite(v) for v in value)
    if not lo < hi:
        raise ValueError("not ascending")
    return (lo, hi)


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = str(value).replace(",", " ").split()
    out = tuple(_text(v) for v in value)
    if not out:
        raise ValueError("empty")
    return out


def _one_of(*choices: Any) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        for choice in choices:
            if value == choice or (isinstance(choice, int) and isinstance(value, str) and value.strip() == str(choice)):
                return choice
        raise ValueError("not a choice")

    return checked


def _choices_text(choices: tuple) -> str:
    return "one of " + ", ".join(repr(c) for c in choices)


def _anchors(value: Any) -> tuple[tuple[str, float], ...]:
    """Anchors as ((name, valence), ...) from pairs, a mapping or ``"NiO=2,LaNiO3=3"``."""
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, Mapping):
        value = list(value.items())
    out = []
    for item in value:
        if isinstance(item, str):
            name, sep, number = item.rpartition("=")
            if not sep:
                raise ValueError("no '='")
            item = (name, number)
        name, number = item
        out.append((_text(name), _finite(number)))
    return tuple(out)


def option(default: Any, help: str, convert: Callable[[Any], Any], allowed: str, *,
           nargs: int | None = None, metavar: str | None = None) -> Any:
    """A dataclass field that is an option: its default, help text and :class:`Rule`."""
    return dataclasses.field(default=default, metadata={"help": help, "rule": Rule(convert, allowed, nargs, metavar)})


def choice(default: Any, help: str, *choices: Any, optional: bool = False) -> Any:
    """An option that takes one of ``choices`` (or None when ``optional``)."""
    convert = _one_of(*choices)
    allowed = _choices_text(choices)
    if optional:
        convert, allowed = _none_or(convert), allowed + " (or none)"
    return option(default, help, convert, allowed, metavar="{" + ",".join(str(c) for c in choices) + "}")


def number(default: float | None, help: str, *, positive: bool = False, optional: bool = False) -> Any:
    """A finite (positive) number option in its documented units (None when ``optional``)."""
    convert, allowed = (_positive, "a positive number") if positive else (_finite, "a finite number")
    if optional:
        convert, allowed = _none_or(convert), allowed + " or none"
    return option(default, help, convert, allowed, metavar="X")


def name(default: str | None, help: str) -> Any:
    """An optional name (column label, pattern, element symbol)."""
    return option(default, help, _none_or(_text), "a non-empty name or none", metavar="NAME")


def flag(default: bool, help: str) -> Any:
    """A yes/no option."""
    return option(default, help, _boolean, "yes or no")


def maybe(help: str) -> Any:
    """A yes/no option that may be left unsaid (None: decided from the data)."""
    return option(None, help, _maybe_boolean, "yes, no or none")


def pair(default: tuple[float, float], help: str) -> Any:
    """Two ascending numbers, eV."""
    return option(default, help, _pair, "two ascending finite numbers (eV)", nargs=2, metavar="E")


# --- the base class ----------------------------------------------------------------------


class Options:
    """Base of the option classes: validation, attrs, hash and command-line flags.

    Subclasses are frozen dataclasses whose fields are made with
    :func:`option` (or :func:`choice`, :func:`number`, ...), and set
    :attr:`prefix`, the name under which they are recorded.
    """

    prefix: ClassVar[str] = "options"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            rule: Rule = field.metadata["rule"]
            value = getattr(self, field.name)
            try:
                converted = rule.convert(value)
            except (TypeError, ValueError):
                raise OptionError(field.name, value, rule.allowed) from None
            object.__setattr__(self, field.name, converted)
        self._check_together()

    def _check_together(self) -> None:
        """Rules between options (override); raise :class:`OptionError`."""

    # -- building ------------------------------------------------------------------------

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_mapping(cls: type[T], values: Mapping[str, Any], *, door: str = "keyword",
                     base: T | None = None) -> T:
        """Options from a mapping of names to values (``base``'s values for the others).

        ``door`` (``"keyword"``, ``"cli"``, ``"manifest"``) spells the errors.
        """
        unknown = [k for k in values if k not in cls.names()]
        if unknown:
            raise OptionError(unknown[0], values[unknown[0]],
                              f"unknown option of {cls.__name__}; known: {', '.join(cls.names())}", door=door)
        try:
            return dataclasses.replace(base, **values) if base is not None else cls(**values)
        except OptionError as err:
            raise err.through(door) from None

    def replace(self: T, **changes: Any) -> T:
        """A copy with ``changes`` (validated)."""
        return type(self).from_mapping(changes, base=self) if changes else self

    # -- recording -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON-ready values (tuples become lists).

        Examples
        --------
        >>> XanesOptions().to_dict()["fit_range"]
        [8320.0, 8338.5]
        """
        return {k: _plain(getattr(self, k)) for k in self.names()}

    def changed(self) -> dict[str, Any]:
        """The options that differ from their defaults."""
        default = _defaults(type(self))
        return {k: getattr(self, k) for k in self.names() if getattr(self, k) != getattr(default, k)}

    def digest(self) -> str:
        """SHA-256 (hex) of the class name and every option: equal options, equal digest."""
        text = json.dumps({"class": type(self).__name__, **self.to_dict()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_attrs(self) -> dict[str, Any]:
        """Flat attrs that NetCDF keeps: ``<prefix>_<name>`` and ``<prefix>_options_sha256``.

        None becomes ``"none"``, booleans 0/1, pairs lists of floats.

        Examples
        --------
        >>> a = XanesOptions(nnorm=2).to_attrs()
        >>> a["xanes_nnorm"], a["xanes_e0_anchor"], a["xanes_reference_channel"]
        (2, 'none', 1)
        """
        out: dict[str, Any] = {}
        for k in self.names():
            value = getattr(self, k)
            if value is None:
                value = "none"
            elif isinstance(value, bool):
                value = int(value)
            elif isinstance(value, tuple):
                value = json.dumps(_plain(value)) if any(isinstance(v, tuple) for v in value) else list(value)
            out[f"{self.prefix}_{k}"] = value
        out[f"{self.prefix}_options_sha256"] = self.digest()
        return out

    # -- the command line ----------------------------------------------------------------

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser | Any, *, skip: tuple[str, ...] = ()) -> None:
        """Add one ``--flag`` per option to an argparse parser or argument group.

        Values stay strings until :meth:`from_args` validates them, so a bad
        value is an :class:`OptionError` spelled as the flag.
        """
        defaults = cls()
        for field in dataclasses.fields(cls):
            if field.name in skip:
                continue
            rule: Rule = field.metadata["rule"]
            flag_name = "--" + field.name.replace("_", "-")
            help_text = f"{field.metadata['help']} (default: {_shown(getattr(defaults, field.name))})"
            if rule.convert in (_boolean, _maybe_boolean):
                parser.add_argument(flag_name, dest=field.name, action=argparse.BooleanOptionalAction,
                                    default=None, help=help_text)
            else:
                parser.add_argument(flag_name, dest=field.name, default=None, nargs=rule.nargs,
                                    metavar=rule.metavar, help=help_text)

    @classmethod
    def from_args(cls: type[T], args: argparse.Namespace, *, base: T | None = None) -> T:
        """The options given as flags (see :meth:`add_arguments`); ``base``'s (default: the defaults) for the others."""
        given = {k: getattr(args, k) for k in cls.names() if getattr(args, k, None) is not None}
        return cls.from_mapping(given, door="cli", base=base)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return " ".join(f"{v[0]}={v[1]:g}" if isinstance(v, tuple) else _shown(v) for v in value)
    return str(value)


def options_of(cls: type[T], options: T | None, changes: Mapping[str, Any]) -> T:
    """``options`` (default ``cls()``) with keyword ``changes``: what a function taking options uses.

    Examples
    --------
    >>> options_of(XanesOptions, None, {"nnorm": 1}).nnorm
    1
    """
    if options is not None and not isinstance(options, cls):
        raise OptionError("options", options, f"a {cls.__name__}")
    base = options if options is not None else _defaults(cls)
    return cls.from_mapping(changes, base=base) if changes else base


@functools.cache
def _defaults(cls: type[T]) -> T:
    """The default options of a class (validated once)."""
    return cls()


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadOptions(Options):
    """How a file becomes spectra, for every reader.

    Column options take a column label or a 0-based column index. An
    option a file's reader does not use is an error when set (it would be
    silently ignored otherwise). Per-scan metadata (``pressure`` ... ``sample``)
    is attached to every scan read.

    Examples
    --------
    >>> ReadOptions(energy="ZapEnergy", mode="transmission").changed()
    {'energy': 'ZapEnergy', 'mode': 'transmission'}
    """

    prefix: ClassVar[str] = "read"

    format: str | None = name(None, "file format instead of detecting it (xdi, spec, fio, athena, nexus, bliss, "
                                    "i20, columns)")
    energy: str | None = name(None, "energy column label or 0-based index")
    mode: str | None = choice(None, "how mu is made from the channels", "transmission", "fluorescence", "mu",
                              optional=True)
    i0: str | None = name(None, "incident intensity column")
    itrans: str | None = name(None, "transmitted intensity column")
    ifluor: str | None = name(None, "fluorescence intensity column")
    irefer: str | None = name(None, "intensity after the reference foil")
    mu: str | None = name(None, "column that already holds mu")
    murefer: str | None = name(None, "column that already holds the reference foil's mu")
    reference: bool = flag(True, "make the reference foil's mu (mu_ref) when its channels exist")
    energy_units: str | None = choice(None, "units of the energy column", "eV", "keV", "deg", optional=True)
    d_spacing: float | None = number(None, "monochromator d-spacing for angle columns, Angstrom",
                                     positive=True, optional=True)
    labels: tuple[str, ...] | None = option(None, "column labels, one per column, for a file without them",
                                            _none_or(_texts), "names or none", metavar="NAME")
    scans: tuple[str, ...] | None = option(None, "SPEC, BLISS or Sardana scan numbers to read", _none_or(_texts),
                                           "scan numbers or none", metavar="N")
    entries: tuple[str, ...] | None = option(None, "NeXus entries to read", _none_or(_texts),
                                             "entry names or none", metavar="NAME")
    groups: str | None = name(None, "Athena project: read the groups whose label matches this pattern")
    reference_groups: str = choice("pair", "Athena project: 'pair' reference groups with their sample as "
                                   "mu_ref, or read them as 'scans'", "pair", "scans")
    normalized: bool | None = maybe("mu is already normalized (edge step 1), so the analysis does not normalize "
                                    "it again (none: when the mu column is named normalized, norm, flat, ...)")
    signal: str | None = name(None, "I20 XES or NeXus signal to read (e.g. FF/I1)")
    sigma: str | None = name(None, "I20 XES column of the intensity's standard deviation")
    pressure: float | None = number(None, "pressure of every scan, GPa", optional=True)
    pressure_err: float | None = number(None, "pressure uncertainty of every scan, GPa", positive=True,
                                        optional=True)
    temperature: float | None = number(None, "temperature of every scan, K", positive=True, optional=True)
    run: str | None = name(None, "run label of every scan")
    sample: str | None = name(None, "sample name of every scan")
    max_file_mb: float | None = number(None, "largest file (or decompressed text) read, MB (none: 1/16 of the "
                                       "available memory)", positive=True, optional=True)
    max_array_mb: float | None = number(None, "largest HDF5 dataset read, MB as float64 (none: 1/4 of the "
                                        "available memory)", positive=True, optional=True)
    max_depth: int = option(64, "deepest nesting of lists in an Athena project", _count, "a positive integer",
                            metavar="N")
    max_line_length: int = option(100_000, "longest line of a text file, characters", _count,
                                  "a positive integer", metavar="N")
    external_links: bool = flag(False, "HDF5: follow external links, virtual datasets and external storage "
                                "(their files are recorded in the attrs external_files)")

    #: Options that are per-scan metadata rather than reading instructions.
    METADATA: ClassVar[tuple[str, ...]] = ("pressure", "pressure_err", "temperature", "run", "sample")
    #: Options that limit what any reader takes (:mod:`spectro.io.limits`).
    LIMITS: ClassVar[tuple[str, ...]] = ("max_file_mb", "max_array_mb", "max_depth", "max_line_length",
                                         "external_links")


# --- XANES -------------------------------------------------------------------------------


@dataclass(frozen=True)
class XanesOptions(Options):
    """How a XANES spectrum is analysed (see ``docs/xanes.md`` for each definition).

    Energies of the windows are relative to the anchoring E0 (``pre1`` ...
    ``norm2``, xraylarch's meaning); pre-edge ranges and ``feature_energy``
    are absolute, on the calibrated scale.

    Examples
    --------
    >>> XanesOptions(pre1=-20.0, pre2=-60.0)
    Traceback (most recent call last):
    ...
    spectro.errors.OptionError: pre2=-60.0 is not allowed: above pre1 (-20.0)
    """

    prefix: ClassVar[str] = "xanes"

    reference_channel: bool = flag(True, "calibrate each scan on its reference foil (mu_ref) when present")
    e0_anchor: float | None = number(None, "E0 anchoring the normalization windows, eV on the measured scale "
                                     "(none: the derivative maximum of each mu)", optional=True)
    pre1: float = number(-150.0, "pre-edge window start relative to the anchor, eV")
    pre2: float = number(-30.0, "pre-edge window end relative to the anchor, eV")
    norm1: float = number(50.0, "post-edge window start relative to the anchor, eV")
    norm2: float = number(400.0, "post-edge window end relative to the anchor, eV")
    nnorm: int | None = choice(None, "post-edge polynomial order (none: by the post-edge span)", 0, 1, 2, 3,
                               optional=True)
    nvict: float = number(0.0, "energy exponent of the pre-edge line (Victoreen)")
    npre: int = choice(1, "pre-edge order: 1 a line, 0 a constant", 1, 0)
    level: float = option(0.8, "fraction of the jump that defines e0", _fraction, "a number in (0, 1)",
                          metavar="X")
    edge_energy: float | None = number(None, "tabulated edge of the reference foil, eV (none: Ni K, 8333.0)",
                                       positive=True, optional=True)
    fit_range: tuple[float, float] = pair((8320.0, 8338.5), "pre-edge baseline range, eV (calibrated)")
    peak_range: tuple[float, float] = pair((8330.0, 8336.5), "pre-edge peak range, eV (calibrated)")
    preedge: str = choice("fit", "pre-edge method: a least-squares peak 'fit' or the model-free 'centroid'",
                          "fit", "centroid")
    baseline: str = choice("arctan", "baseline of the pre-edge fit", "arctan", "erf")
    peak: str = choice("pseudovoigt", "peak shape of the pre-edge fit", "pseudovoigt", "gaussian")
    npeaks: int = choice(1, "number of pre-edge peaks fitted", 1, 2)
    feature_energy: float = number(8358.0, "energy of feature C, eV (calibrated)", positive=True)
    foil_edge: str = choice("derivative", "edge of the reference foil: first maximum of the smoothed 'derivative', "
                            "first 'inflection' point, 'half' height of the jump, or 'xcorr' alignment with the "
                            "reference Ni foil", "derivative", "inflection", "half", "xcorr")
    foil_smoothing: float = number(1.5, "smoothing window of the reference foil's derivative, eV", positive=True)
    deglitch: bool = flag(True, "drop isolated spikes of mu and mu_ref before the analysis "
                                "(spectro.xanes.find_glitches; flagged glitches_removed)")
    budget: bool = flag(False, "also give each number's statistical and systematic uncertainty "
                               "(spectro.xanes.budget; docs/uncertainty.md; where XES inputs are analysed too, "
                               "spectro.xes.budget)")

    def _check_together(self) -> None:
        # the conventions other than 'derivative' are placed on a Ni foil (Ni K edge 8333.0 eV)
        if self.foil_edge != "derivative" and self.edge_energy is not None and abs(self.edge_energy - 8333.0) > 25:
            raise OptionError("foil_edge", self.foil_edge, "'derivative' for an edge_energy other than Ni K")
        for lo, hi in (("pre1", "pre2"), ("norm1", "norm2"), ("pre2", "norm1")):
            if not getattr(self, lo) < getattr(self, hi):
                raise OptionError(hi, getattr(self, hi), f"above {lo} ({getattr(self, lo)})")
        (f1, f2), (p1, p2) = self.fit_range, self.peak_range
        if not f1 <= p1 < p2 <= f2:
            raise OptionError("peak_range", self.peak_range, f"inside fit_range {self.fit_range}")


# --- XES ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class XesOptions(Options):
    """How a Kβ emission spectrum is analysed (see ``docs/xes.md``).

    Window offsets are eV relative to the measured Kβ1,3 peak; the element's
    default windows are those of :func:`spectro.xes.windows`.

    Examples
    --------
    >>> XesOptions(element="Mn").element
    'Mn'
    >>> XesOptions(fit_window=(-25.0, -5.0))
    Traceback (most recent call last):
    ...
    spectro.errors.OptionError: fit_window=(-25.0, -5.0) is not allowed: around the peak (start < 0 < end)
    """

    prefix: ClassVar[str] = "xes"

    element: str | None = option(None, "emitting element (its tabulated Kbeta lines place the windows; none: "
                                 "decided from the emission energies, see docs/xes.md)", _none_or(_text),
                                 "an element symbol or none", metavar="SYMBOL")
    background: str = choice("constant", "background under the emission lines", "constant", "linear", "none")
    norm: str = choice("max", "normalization: Kbeta1,3 maximum = 1, unit area, or none", "max", "area", "none")
    iad_window: tuple[float, float] = pair((-20.0, 8.0), "IAD window relative to the Kbeta1,3 peak, eV")
    fit: bool = flag(False, "also fit Kbeta1,3 + Kbeta' peaks")
    fit_window: tuple[float, float] = pair((-25.0, 10.0), "range of the Kbeta1,3 + Kbeta' fit relative to the "
                                           "Kbeta1,3 peak, eV")
    kb_prime_offset: float | None = number(None, "start of the fitted Kbeta' position relative to Kbeta1,3, eV "
                                           "(none: the element's tabulated estimate)", optional=True)
    kb_prime: tuple[float, float] | None = option(None, "Kbeta' window relative to the Kbeta1,3 peak, eV "
                                                  "(none: from the element)", _none_or(_pair),
                                                  "two ascending numbers or none", nargs=2, metavar="E")
    budget: bool = flag(False, "also give each metric's statistical and systematic uncertainty "
                               "(spectro.xes.budget; docs/xes.md)")

    def _check_together(self) -> None:
        lo, hi = self.fit_window
        if not lo < 0.0 < hi:
            raise OptionError("fit_window", self.fit_window, "around the peak (start < 0 < end)")
        if self.kb_prime is not None and self.kb_prime_offset is not None:
            if not self.kb_prime[0] <= self.kb_prime_offset <= self.kb_prime[1]:
                raise OptionError("kb_prime_offset", self.kb_prime_offset, f"inside kb_prime {self.kb_prime}")


# --- valence -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ValenceOptions(Options):
    """Which reference compounds anchor the valence line, and on which observable.

    ``anchors`` are (name, valence) pairs; a name is a file, a catalogue id
    or a catalogued compound formula. On the command line:
    ``--anchors NiO=2 LaNiO3=3``.

    Examples
    --------
    >>> ValenceOptions(anchors="NiO=2, LaNiO3=3").anchors
    (('NiO', 2.0), ('LaNiO3', 3.0))
    """

    prefix: ClassVar[str] = "valence"

    anchors: tuple[tuple[str, float], ...] = option(
        (("NiO", 2.0), ("LaNiO3", 3.0)), "reference compounds and their valences, NAME=VALENCE", _anchors,
        "NAME=VALENCE pairs with at least two different valences", nargs="+", metavar="NAME=VALENCE")
    observable: str = option("e0", "per-scan result the valence is interpolated on", _text, "a result name",
                             metavar="NAME")
    force_anchors: bool = flag(False, "use catalogue entries that are not sound valence anchors (metal foils, "
                               "suspect compounds) as anchors")

    def _check_together(self) -> None:
        if len({v for _, v in self.anchors}) < 2:
            raise OptionError("anchors", self.anchors, "at least two anchors of different valence")


# --- all of them -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisOptions:
    """The options of a whole analysis (a batch, a cube, a CLI call), one per step.

    ``valence`` None: no valence is computed.

    Examples
    --------
    >>> a = AnalysisOptions(xanes=XanesOptions(preedge="centroid"))
    >>> a.xanes.preedge, a.valence.anchors[0], len(a.digest())
    ('centroid', ('NiO', 2.0), 64)
    """

    read: ReadOptions = dataclasses.field(default_factory=ReadOptions)
    xanes: XanesOptions = dataclasses.field(default_factory=XanesOptions)
    xes: XesOptions = dataclasses.field(default_factory=XesOptions)
    valence: ValenceOptions | None = dataclasses.field(default_factory=ValenceOptions)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            kind = {"read": ReadOptions, "xanes": XanesOptions, "xes": XesOptions, "valence": ValenceOptions}
            if not (isinstance(value, kind[field.name]) or (field.name == "valence" and value is None)):
                raise OptionError(field.name, value, f"a {kind[field.name].__name__}")

    def to_dict(self) -> dict[str, Any]:
        """Every step's options as JSON-ready values."""
        return {k: (None if v is None else v.to_dict()) for k, v in
                ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))}

    def digest(self) -> str:
        """SHA-256 (hex) of all the steps' options."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
