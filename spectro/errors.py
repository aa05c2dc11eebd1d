"""Errors and warnings raised by spectro.

Every error is a :class:`SpectroError`. Each subclass also derives from the
builtin exception a Python user would expect (``ValueError``,
``LookupError``, ...), so ``except ValueError`` keeps working.

Messages name the file, the scan and the problem, in that order::

    larch_NiO.prj: scan 'NiO scan 3': energy array has 2 points, need >= 5

Warnings are :class:`SpectroWarning` subclasses, issued when spectro fixed
something safely (duplicate energies merged, keV converted) or produced a
value the user should look at (valence outside the reference range).

Examples
--------
>>> from spectro.errors import FormatError
>>> err = FormatError("no numeric data", file="a.dat", scan="1")
>>> str(err)
"a.dat: scan '1': no numeric data"
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

import os

__all__ = [
    "SpectroError",
    "FormatError",
    "MissingFileError",
    "ColumnError",
    "DataError",
    "ValidationError",
    "ReferenceNotFoundError",
    "FitError",
    "OptionError",
    "SpectroWarning",
    "FormatWarning",
    "UnitConversionWarning",
    "GridWarning",
    "MissingRegionWarning",
    "ValenceFlagWarning",
    "ExtrapolationWarning",
    "FitWarning",
    "NoValenceWarning",
    "LimitError",
]


def _where(file: str | os.PathLike | None, scan: object | None) -> str:
    parts = []
    if file is not None:
        parts.append(os.fspath(file))
    if scan is not None:
        parts.append(f"scan {str(scan)!r}")
    return ": ".join(parts)


class SpectroError(Exception):
    """Base class of every error spectro raises.

    Parameters
    ----------
    problem : str
        What is wrong, and where possible what to do about it.
    file : str or path-like, optional
        The file the problem was found in.
    scan : object, optional
        The scan (label or number) the problem was found in.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | os.PathLike | None = None,
        scan: object | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else os.fspath(file)
        self.scan = scan
        where = _where(file, scan)
        super().__init__(f"{where}: {problem}" if where else problem)

    def with_context(
        self, *, file: str | os.PathLike | None = None, scan: object | None = None
    ) -> SpectroError:
        """Return a copy of this error with file and scan filled in where unset."""
        return type(self)(
            self.problem,
            file=self.file if self.file is not None else file,
            scan=self.scan if self.scan is not None else scan,
        )

    def __reduce__(self):
        return (_rebuild, (type(self), self.problem, self.file, self.scan))


def _rebuild(cls, problem, file, scan):
    return cls(problem, file=file, scan=scan)


class FormatError(SpectroError, ValueError):
    """A file cannot be parsed: unknown layout, malformed header or table."""


class MissingFileError(SpectroError, FileNotFoundError):
    """A file that was asked for does not exist."""


class ColumnError(SpectroError, LookupError):
    """A requested or required column (energy, i0, itrans, ...) is missing."""


class DataError(SpectroError, ValueError):
    """The numbers are unusable: too few points, no finite values, no edge."""


class ValidationError(SpectroError, ValueError):
    """A Dataset does not follow spectro's data model."""


class ReferenceNotFoundError(SpectroError, LookupError):
    """A reference spectrum is unknown, or its file cannot be found or fetched."""


class FitError(SpectroError, RuntimeError):
    """A fit did not converge or its result is not usable."""


class OptionError(SpectroError, ValueError):
    """An analysis or reading option has a value it cannot take.

    The message names the option in the spelling of the door it came
    through (``preedge='x'`` for a keyword, ``--preedge x`` on the command
    line, column ``preedge`` of a manifest), the value and what is allowed.

    Parameters
    ----------
    option : str
        The option's name (a field of an options object).
    value : object
        The value given.
    allowed : str
        What the option accepts, e.g. ``"one of 'fit', 'centroid'"``.
    door : {"keyword", "cli", "manifest"}
        How the option was given.
    row : int, optional
        The manifest row (1 is the header) of an option given as a column.

    Examples
    --------
    >>> err = OptionError("preedge", "spline", "one of 'fit', 'centroid'")
    >>> str(err)
    "preedge='spline' is not allowed: one of 'fit', 'centroid'"
    >>> str(err.through("cli"))
    "--preedge spline is not allowed: one of 'fit', 'centroid'"
    >>> str(OptionError("mode", "x", "one of 'mu'", door="manifest", row=3, file="m.csv"))
    "m.csv: row 3: column 'mode' = 'x' is not allowed: one of 'mu'"
    """

    def __init__(
        self,
        option: str,
        value: object,
        allowed: str,
        *,
        door: str = "keyword",
        file: str | os.PathLike | None = None,
        scan: object | None = None,
        row: int | None = None,
    ) -> None:
        self.option, self.value, self.allowed, self.door, self.row = option, value, allowed, door, row
        super().__init__(f"{_spelled(option, value, door, row)} is not allowed: {allowed}", file=file, scan=scan)

    def through(self, door: str) -> OptionError:
        """The same error spelled for another door (``"keyword"``, ``"cli"`` or ``"manifest"``)."""
        return OptionError(self.option, self.value, self.allowed, door=door, file=self.file, scan=self.scan,
                           row=self.row)

    def with_context(
        self, *, file: str | os.PathLike | None = None, scan: object | None = None
    ) -> OptionError:
        return OptionError(
            self.option, self.value, self.allowed, door=self.door,
            file=self.file if self.file is not None else file,
            scan=self.scan if self.scan is not None else scan,
            row=self.row,
        )

    def __reduce__(self):
        return (_rebuild_option, (self.option, self.value, self.allowed, self.door, self.file, self.scan, self.row))


def _spelled(option: str, value: object, door: str, row: int | None = None) -> str:
    """An option and its value as the user wrote them through ``door`` (a manifest's ``row``)."""
    if door == "cli":
        shown = value if not isinstance(value, (tuple, list)) else " ".join(str(v) for v in value)
        return f"--{option.replace('_', '-')} {shown}"
    if door == "manifest":
        return ("" if row is None else f"row {row}: ") + f"column {option!r} = {value!r}"
    return f"{option}={value!r}"


def _rebuild_option(option, value, allowed, door, file, scan, row=None):
    return OptionError(option, value, allowed, door=door, file=file, scan=scan, row=row)


class SpectroWarning(UserWarning):
    """Base class of every warning spectro issues."""


class FormatWarning(SpectroWarning):
    """A file deviates from its format's specification but could be read."""


class UnitConversionWarning(SpectroWarning):
    """Energies were converted (keV to eV, monochromator angle to eV)."""


class GridWarning(SpectroWarning):
    """The energy grid was repaired: sorted, or duplicate points merged."""


class MissingRegionWarning(SpectroWarning):
    """A spectrum does not cover the region a metric needs; the metric is NaN."""


class ValenceFlagWarning(SpectroWarning):
    """Scans whose quantity read on a calibration line is flagged (outside the anchors, another edge, an edge
    unlike the anchors'): :func:`spectro.calibration_line.flag_warnings`."""


class ExtrapolationWarning(ValenceFlagWarning):
    """A value lies outside the range spanned by its references or calibration."""


class FitWarning(SpectroWarning):
    """A fit converged poorly; its uncertainties may be unreliable."""


class NoValenceWarning(SpectroWarning):
    """A XANES input got no valence: its valence anchors could not be found or read."""


class LimitError(FormatError):
    """A file breaks a reading limit (size, nesting, line length) or is refused for safety.

    The limits are reading options (:mod:`spectro.io.limits`); the message
    names the limit and the option that raises it.
    """
