"""The option flags every command shares, made from the option classes.

Each analysing command adds the flags of the steps it runs, grouped under
a heading: ``--energy``, ``--mu``, ``--mode`` ... (reading, every command),
``--pre1``, ``--preedge`` ... (XANES), ``--element``, ``--norm`` ... (XES),
``--anchors`` (valence). The flags are those of
:meth:`spectro.options.Options.add_arguments`, so a flag is spelled the
same in every command and means what the Python keyword of the same name
means. A manifest row changes the reading flags for its files with
columns of the same names (:func:`read_job`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import OptionError
from ..options import AnalysisOptions, ReadOptions, ValenceOptions, XanesOptions, XesOptions

if TYPE_CHECKING:
    import xarray as xr

    from ..batch.manifest import Job

__all__ = ["STEPS", "add_option_flags", "options_from_flags", "read_job"]

#: Each step's options class and the heading of its flags in ``--help``.
STEPS: dict[str, tuple[type, str]] = {
    "read": (ReadOptions, "reading (every file)"),
    "xanes": (XanesOptions, "XANES analysis"),
    "xes": (XesOptions, "XES analysis"),
    "valence": (ValenceOptions, "valence"),
}


def add_option_flags(parser: argparse.ArgumentParser, *steps: str, skip: tuple[str, ...] = ()) -> None:
    """Add the flags of ``steps`` (names of :data:`STEPS`) to a subcommand's parser, but those of ``skip``.

    An option of the same name in two steps (``budget``: XANES and XES) is one flag, shown under the first;
    it sets both.
    """
    added: set[str] = set()
    for step in steps:
        cls, title = STEPS[step]
        cls.add_arguments(parser.add_argument_group(title), skip=tuple(skip) + tuple(added))
        added.update(cls.names())


def options_from_flags(args: argparse.Namespace, *, valence: bool = True) -> AnalysisOptions:
    """The options the flags of ``args`` give (the defaults for the others).

    A bad value is an :class:`~spectro.errors.OptionError` spelled as the flag.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_option_flags(parser, "read", "xanes")
    >>> opts = options_from_flags(parser.parse_args(["--mu", "Norm", "--preedge", "centroid"]))
    >>> opts.read.mu, opts.xanes.preedge
    ('Norm', 'centroid')
    """
    return AnalysisOptions(
        read=ReadOptions.from_args(args),
        xanes=XanesOptions.from_args(args),
        xes=XesOptions.from_args(args),
        valence=ValenceOptions.from_args(args) if valence else None,
    )


def read_job(job: Job, options: ReadOptions) -> xr.Dataset:
    """Read a job's file with the reading flags ``options`` changed by its manifest row.

    An option of the row that the file's reader does not take is an
    :class:`~spectro.errors.OptionError` naming the row and the column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from spectro.batch.manifest import Job
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.dat"
    >>> e = np.arange(8300.0, 8400.0, 0.5)
    >>> np.savetxt(path, np.c_[e, e, 1 + np.tanh((e - 8345) / 3)], header="energy a b")
    >>> ds = read_job(Job(path, read=(("mu", "b"),)), ReadOptions(energy="energy"))
    >>> ds.attrs["mu_expression"]
    'b'
    """
    from ..io import read

    row = dict(job.read)
    try:
        return read(job.path, ReadOptions.from_mapping(row, door="manifest", base=options))
    except OptionError as err:
        if err.option not in row or err.door != "keyword":
            raise
        raise OptionError(err.option, err.value, err.allowed, door="manifest", file=err.file, row=job.row) from None
