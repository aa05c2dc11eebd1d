"""Publication figures of spectro results, with matplotlib.

Every function takes a Dataset (raw spectra or results) and a keyword-only
``ax`` and returns the Axes it drew on, so figures compose::

    fig, (a, b) = plt.subplots(1, 2)
    spectro.plot.xanes(results, ax=a)
    spectro.plot.xes(kbeta, ax=b)

Markers, fits and insets are ordinary matplotlib artists with a ``gid``
(``"e0"``, ``"preedge_centroid"``, ``"breakpoint"``, ...) so that they can
be found and restyled; insets are ``ax.child_axes``. ``import spectro``
does not import this module; ``import spectro.plot`` does.
"""

from .paths import pt_paths
from .pressure import edge_shift_contraction, edge_shift_pressure
from .series import derivative_stack, stack
from .valence import valence_line
from .xanes import xanes
from .xes import xes

__all__ = [
    "xanes",
    "xes",
    "stack",
    "derivative_stack",
    "pt_paths",
    "edge_shift_pressure",
    "edge_shift_contraction",
    "valence_line",
]
