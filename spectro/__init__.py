"""spectro: Ni K-edge XANES and Kbeta XES of nickel compounds under pressure.

Spectra live in xarray Datasets (see :mod:`spectro.model`): XANES as
``mu(scan, energy)`` and XES as ``intensity(scan, emission_energy)``, with
energies in eV and pressure, temperature, run, sample and source per scan.

Examples
--------
>>> import spectro
>>> ds = spectro.simulate.xanes(valence=2.5, seed=0)
>>> spectro.validate(ds).mu.dims
('scan', 'energy')
"""

__version__ = "0.1.0"

from . import errors, simulate, xanes, xes
from .errors import SpectroError, SpectroWarning
from .grid import stack
from .io import read
from .model import validate

__all__ = [
    "__version__",
    "errors",
    "read",
    "simulate",
    "stack",
    "validate",
    "xanes",
    "xes",
    "SpectroError",
    "SpectroWarning",
]
