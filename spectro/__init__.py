"""spectro: Ni K-edge XANES and Kbeta XES of nickel compounds under pressure.

Spectra live in xarray Datasets (see :mod:`spectro.model`): XANES as
``mu(scan, energy)`` and XES as ``intensity(scan, emission_energy)``, with
energies in eV and pressure, temperature, run, sample and source per scan.

:mod:`spectro.plot` (matplotlib), :mod:`spectro.batch` (dask),
:mod:`spectro.dispersive` and :mod:`spectro.demo` are imported on first use, so ``import spectro`` stays
light.

Examples
--------
>>> import spectro
>>> ds = spectro.simulate.xanes(valence=2.5, seed=0)
>>> spectro.validate(ds).mu.dims
('scan', 'energy')
>>> res = spectro.xanes.analyze(ds, spectro.XanesOptions(preedge="centroid"))
>>> res.attrs["xanes_preedge"]
'centroid'
"""

__version__ = "0.1.0"

import importlib

from . import calibration_line, errors, lcf, options, pressure, references, simulate, spin, valence, xanes, xes
from .errors import SpectroError, SpectroWarning
from .options import AnalysisOptions, ReadOptions, ValenceOptions, XanesOptions, XesOptions
from .grid import stack
from .io import read
from .model import validate

_LAZY = ("batch", "demo", "dispersive", "plot")

__all__ = [
    "__version__",
    "batch",
    "calibration_line",
    "demo",
    "dispersive",
    "errors",
    "lcf",
    "options",
    "plot",
    "pressure",
    "read",
    "references",
    "simulate",
    "spin",
    "stack",
    "validate",
    "valence",
    "xanes",
    "xes",
    "SpectroError",
    "SpectroWarning",
    "AnalysisOptions",
    "ReadOptions",
    "ValenceOptions",
    "XanesOptions",
    "XesOptions",
]


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'spectro' has no attribute {name!r}")
