"""Every energy-valued XANES result moves exactly with an energy shift; every other result stays.

Shifting the measured energies (of sample and reference foil) by ``s`` and
every absolute energy of the options with them (pre-edge windows, feature
C, the foil's tabulated edge) must move each result in eV that is an
energy by ``s`` and leave the others (errors, widths, areas, heights,
steps, the calibration shift, the windows relative to E0, the flags)
as they were: nothing may depend on where the grid points fall.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spectro
from spectro.xanes._analyze import OUTPUTS

#: The per-scan results that are energies (the others in eV are errors, widths or areas).
ENERGIES = ("e0", "e0_derivative", "e0_half", "e0_anchor", "preedge_centroid", "preedge_centroid_free")


def test_the_energies_are_all_the_absolute_energies_of_the_results():
    """Every per-scan result in eV is an energy here, an error, an area or a window relative to E0."""
    in_ev = {n for n, (dims, units, _) in OUTPUTS.items() if not dims and units == "eV"}
    others = {n for n in in_ev if n.endswith("_err") or n in ("preedge_area", "pre1", "pre2", "norm1", "norm2",
                                                                 "calibration_shift")}
    assert in_ev - others == set(ENERGIES)


@pytest.fixture(scope="module")
def spectra():
    ds = spectro.simulate.xanes(valence=[2.2, 2.5, 2.8], noise=0.002, seed=7, reference=True, n_scans=3)
    return ds.energy.values, ds.mu.values, ds.mu_ref.values


@settings(max_examples=12)
@given(shift=st.one_of(st.floats(-5.0, 5.0), st.sampled_from([1e-3, -1e-3, 0.0625])),
       preedge=st.sampled_from(["fit", "centroid"]), reference=st.booleans())
def test_every_energy_moves_exactly_with_an_energy_shift(spectra, shift, preedge, reference):
    e, mu, ref = spectra
    ref = ref if reference else None
    opts = spectro.options.XanesOptions(preedge=preedge, edge_energy=8333.0)
    moved = opts.replace(fit_range=tuple(v + shift for v in opts.fit_range),
                         peak_range=tuple(v + shift for v in opts.peak_range),
                         feature_energy=opts.feature_energy + shift, edge_energy=opts.edge_energy + shift)
    a = spectro.xanes.analyze_arrays(e, mu, ref, opts)
    b = spectro.xanes.analyze_arrays(e + shift, mu, ref, moved)
    assert np.array_equal(a.flags, b.flags) and not a.flags.any()
    for name, (dims, _, _) in OUTPUTS.items():
        if dims:
            continue
        before, after = np.asarray(getattr(a, name), float), np.asarray(getattr(b, name), float)
        if name in ENERGIES:
            np.testing.assert_allclose(after - before, shift, rtol=0, atol=1e-4 if name == "preedge_centroid"
                                       and preedge == "fit" else 1e-6, err_msg=name)
        else:
            np.testing.assert_allclose(after, before, rtol=1e-3, atol=1e-9, equal_nan=True, err_msg=name)
