"""Publication figures of spectro results, with matplotlib.

One convention for every function:

* it takes what the matching analysis returns: :func:`xanes`,
  :func:`stack` and :func:`derivative_stack` the results of
  :func:`spectro.xanes.analyze`; :func:`xes` (and :func:`stack`) the
  results of :func:`spectro.xes.analyze`; :func:`valence` the results of
  :func:`spectro.valence.valence` and the line they were read from;
  :func:`edge_shift_pressure` and :func:`edge_shift_contraction` those of
  :mod:`spectro.pressure`; :func:`pt_paths` any Datasets with per-scan
  ``pressure`` and ``temperature``;
* ``ax`` is keyword-only, and a new figure is made when it is None;
* it returns the Axes it drew on, so figures compose::

      fig, (a, b) = plt.subplots(1, 2)
      spectro.plot.xanes(spectro.xanes.analyze(xanes_spectra), ax=a)
      spectro.plot.xes(spectro.xes.analyze(xes_spectra), ax=b)

* several scans are overlaid, each in its own colour (distinct colours;
  stacks colour by pressure or temperature with a colorbar), labelled with
  its sample (or scan), pressure and temperature.

Markers, fits and insets are ordinary matplotlib artists with a ``gid``
(``"e0"``, ``"preedge_centroid"``, ``"breakpoint"``, ...) so that they can
be found and restyled; insets are ``ax.child_axes``. ``import spectro``
does not import this module; ``import spectro.plot`` does.
"""

from ._paths import pt_paths
from ._pressure import edge_shift_contraction, edge_shift_pressure
from ._series import derivative_stack, stack
from ._valence import valence
from ._xanes import xanes
from ._xes import xes

__all__ = [
    "derivative_stack",
    "edge_shift_contraction",
    "edge_shift_pressure",
    "pt_paths",
    "stack",
    "valence",
    "xanes",
    "xes",
]
