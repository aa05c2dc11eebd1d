"""spectro: Ni K-edge XANES and Kbeta XES of nickel compounds under pressure.

Spectra live in xarray Datasets (see :mod:`spectro.model`): XANES as
``mu(scan, energy)`` and XES as ``intensity(scan, emission_energy)``, with
energies in eV and pressure, temperature, run, sample and source per scan.

``import spectro`` loads only the errors and the option classes; every
other part (:mod:`spectro.xanes`, :mod:`spectro.io`, :mod:`spectro.batch`,
...) is imported on first use (``spectro.xanes``, ``spectro.read``), so
the command line and scripts that need one part do not pay for the others.
The ``ds.xanes`` and ``ds.xes`` accessors exist once :mod:`spectro.xanes`
and :mod:`spectro.xes` are imported; ``spectro.read``, ``spectro.validate``
and ``spectro.stack`` import them.

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

from . import errors, options
from .errors import SpectroError, SpectroWarning
from .options import AnalysisOptions, ReadOptions, ValenceOptions, XanesOptions, XesOptions

#: Subpackages and modules imported on first use.
_LAZY_MODULES = ("batch", "budget", "calibration_line", "demo", "dispersive", "lcf", "plot", "pressure", "references",
                 "simulate", "spin", "valence", "xanes", "xes")
#: Functions imported on first use: name -> module. They return or take Datasets, so they
#: also register the ``ds.xanes`` and ``ds.xes`` accessors.
_LAZY_FUNCTIONS = {"read": "io", "stack": "grid", "validate": "model"}

__all__ = [
    "__version__",
    "batch",
    "budget",
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
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        function = getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
        importlib.import_module(".xanes", __name__)
        importlib.import_module(".xes", __name__)
        globals()[name] = function
        return function
    raise AttributeError(f"module 'spectro' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
