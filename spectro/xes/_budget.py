"""The Kbeta uncertainty budget: each metric's statistical and systematic parts.

The errors of :func:`spectro.xes.analyze` are statistical: the counting
noise, propagated. What else moves a Kbeta metric is a choice the analysis
makes for the user; :func:`budget_arrays` re-runs the kernel with each
choice varied (one call per variation, every scan at once) and takes each
metric's change. The systematic components, each the root mean square of
the changes of its variations:

* ``background``: the other model of the background under the lines
  (``constant`` and ``linear`` swapped; ``none`` against ``constant``);
* ``window``: each edge of the Kbeta' window moved by
  :data:`KB_PRIME_STEP` eV and, with an IAD reference, each edge of
  ``iad_window`` by :data:`IAD_WINDOW_STEP` eV (as the spin
  fraction's window term). The windows are nested, so each change is taken
  less the variance that the noise of the points moved in or out gives it
  (:func:`spectro._variations.less_noise`).

A window term is left out of the total of the metrics that window defines
(:data:`WINDOW_DEFINED`: the Kbeta' area and ratio, the IAD), as another
edge level is for E0: it is reported beside it. The other windows
(Kbeta1,3, Kbeta2,5, Kbeta'') are the element's
tabulated ones and are not varied, nor is the spectrometer's energy scale,
which one spectrum does not show: a peak energy's systematic part holds the
background's effect only. The plan of variations depends on the options
alone (and on whether a reference is given), so that every scan, in memory
or in dask chunks, has the same variations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._variations import less_noise, row_rms
from ..errors import OptionError
from ..options import XesOptions
from ._analyze import FIT, RESULTS, XesResult, analyze_arrays
from ._element import with_element
from ._windows import windows_of

__all__ = ["COMPONENTS", "IAD_WINDOW_STEP", "KB_PRIME_STEP", "WINDOW_DEFINED", "XesBudget", "budget_arrays", "budgeted", "in_total",
           "variations"]

#: The systematic components, in order.
COMPONENTS: tuple[str, ...] = ("background", "window")

#: How far each edge of the IAD window is moved (eV, both ways) for the window's systematic error (here and in the
#: spin fraction's window term).
IAD_WINDOW_STEP: float = 2.0

#: Each edge of the Kbeta' window is moved by this (eV) in the ``window`` component: a tenth of the element's
#: 10 eV window, about the spread of Kbeta' positions between compounds of one element.
KB_PRIME_STEP: float = 1.0

#: Metrics defined by a window that the ``window`` component moves: that term is reported (``<m>_sys_window``) and
#: left out of ``<m>_sys`` and ``<m>_err``. Another window gives another quantity, the same for every spectrum
#: analysed alike (as another edge level does for E0, docs/uncertainty.md); it matters when comparing with a number
#: measured over another window. The spin fraction, which is not defined by a window, takes it (docs/xes.md).
WINDOW_DEFINED: frozenset[str] = frozenset({"kb_prime", "kb_prime_ratio", "iad"})

#: The other background model each model is compared with.
_OTHER_BACKGROUND = {"constant": "linear", "linear": "constant", "none": "constant"}


def budgeted(options: XesOptions) -> tuple[str, ...]:
    """The per-scan metrics that get a budget: those with a statistical error (the fit's with ``fit``).

    Examples
    --------
    >>> budgeted(XesOptions())[:3], "kb_prime_ratio_fit" in budgeted(XesOptions(fit=True))
    (('kb13_energy', 'kb13_m1', 'kb13_fwhm'), True)
    """
    return tuple(n for n in RESULTS if f"{n}_err" in RESULTS and n != "norm_scale" and (options.fit or n not in FIT))


def variations(options: XesOptions, *, reference: bool) -> list[tuple[str, str, dict]]:
    """(component, label, changes to the options) of every variation, in order.

    ``options.element`` must be set.

    Examples
    --------
    >>> [label for _, label, _ in variations(XesOptions(element="Ni"), reference=False)]
    ['background=linear', 'kb_prime=-16:-5', 'kb_prime=-14:-5', 'kb_prime=-15:-6', 'kb_prime=-15:-4']
    """
    out = [("background", f"background={_OTHER_BACKGROUND[options.background]}",
            {"background": _OTHER_BACKGROUND[options.background]})]
    moved = [("kb_prime", windows_of(options).kb_prime, KB_PRIME_STEP)]
    if reference:
        moved.append(("iad_window", options.iad_window, IAD_WINDOW_STEP))
    for name, (lo, hi), step in moved:
        for window in ((lo - step, hi), (lo + step, hi), (lo, hi - step), (lo, hi + step)):
            try:
                options.replace(**{name: window})
            except OptionError:  # e.g. a given kb_prime_offset the moved window leaves out
                continue
            out.append(("window", f"{name}={window[0]:g}:{window[1]:g}", {name: window}))
    return out


@dataclass(frozen=True)
class XesBudget:
    """The Kbeta analysis of spectra with the budget of each metric (see the module doc).

    Attributes
    ----------
    result : XesResult
        The plain analysis, unchanged.
    labels, components : tuple of str
        Each variation's label and component.
    delta : dict of str to ndarray, shape (..., n_variations)
        Each budgeted metric's change under each variation (a window's less
        the noise of the points it moves).
    """

    result: XesResult
    labels: tuple[str, ...]
    components: tuple[str, ...]
    delta: dict[str, np.ndarray]

    def sys(self, name: str, component: str | None = None) -> np.ndarray:
        """One systematic component of ``name`` (rms over its variations; 0 without any), or those of its
        total in quadrature (:func:`in_total`)."""
        if component is None:
            return np.sqrt(sum(self.sys(name, c) ** 2 for c in COMPONENTS if in_total(name, c)))
        cols = [i for i, c in enumerate(self.components) if c == component]
        if not cols:
            return np.zeros(self.delta[name].shape[:-1])
        return row_rms(self.delta[name][..., cols])


def in_total(name: str, component: str) -> bool:
    """Whether ``component`` is part of metric ``name``'s systematic total (not a window that defines it).

    Examples
    --------
    >>> in_total("kb_prime", "window"), in_total("kb_prime", "background"), in_total("kb13_m1", "window")
    (False, True, True)
    """
    return not (component == "window" and name in WINDOW_DEFINED)


def budget_arrays(
    energy: np.ndarray,
    intensity: np.ndarray,
    intensity_err: np.ndarray | None = None,
    options: XesOptions | None = None,
    /,
    *,
    reference: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
) -> XesBudget:
    """:func:`spectro.xes.analyze_arrays` and the change of each metric under every variation of the options.

    Parameters are those of :func:`~spectro.xes.analyze_arrays`.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(spin="high", noise=0.01, seed=0)
    >>> b = budget_arrays(ds.emission_energy.values, ds.intensity.values, ds.intensity_err.values)
    >>> b.labels[0], bool(b.sys("kb_prime", "window")[0] > 5 * b.result.kb_prime_err[0])
    ('background=linear', True)
    >>> bool(np.all(b.sys("kb_prime") == b.sys("kb_prime", "background")))  # its window defines it
    True
    """
    opts = with_element(options or XesOptions(), energy, intensity)
    nominal = analyze_arrays(energy, intensity, intensity_err, opts, reference=reference)
    plan = variations(opts, reference=reference is not None)
    names = budgeted(opts)
    delta: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for component, _, change in plan:
        varied = analyze_arrays(energy, intensity, intensity_err, opts.replace(**change), reference=reference)
        for n in names:
            d = getattr(varied, n) - getattr(nominal, n)
            if component == "window":
                d = less_noise(d, getattr(varied, f"{n}_err"), getattr(nominal, f"{n}_err"))
            delta[n].append(d)
    return XesBudget(  # the plan always holds the background variation
        result=nominal, labels=tuple(label for _, label, _ in plan), components=tuple(c for c, _, _ in plan),
        delta={n: np.stack(v, axis=-1) for n, v in delta.items()},
    )
