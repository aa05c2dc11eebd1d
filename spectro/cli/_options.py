"""The option flags every command shares, made from the option classes.

Each analysing command adds the flags of the steps it runs, grouped under
a heading: ``--energy``, ``--mu``, ``--mode`` ... (reading, every command),
``--pre1``, ``--preedge`` ... (XANES), ``--element``, ``--norm`` ... (XES),
``--anchors`` (valence). The flags are those of
:meth:`spectro.options.Options.add_arguments`, so a flag is spelled the
same in every command and means what the Python keyword of the same name
means.
"""

from __future__ import annotations

import argparse

from ..options import AnalysisOptions, ReadOptions, ValenceOptions, XanesOptions, XesOptions

__all__ = ["STEPS", "add_option_flags", "options_from_flags"]

#: Each step's options class and the heading of its flags in ``--help``.
STEPS: dict[str, tuple[type, str]] = {
    "read": (ReadOptions, "reading (every file)"),
    "xanes": (XanesOptions, "XANES analysis"),
    "xes": (XesOptions, "XES analysis"),
    "valence": (ValenceOptions, "valence"),
}


def add_option_flags(parser: argparse.ArgumentParser, *steps: str) -> None:
    """Add the flags of ``steps`` (names of :data:`STEPS`) to a subcommand's parser."""
    for step in steps:
        cls, title = STEPS[step]
        cls.add_arguments(parser.add_argument_group(title))


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
