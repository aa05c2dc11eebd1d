"""Properties every Kbeta metric must have (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import spectro
from spectro.errors import MissingRegionWarning
from spectro.simulate import xes
from spectro.xes import analyze_arrays
from spectro.xes._iad import iad as iad_kernel
from spectro.xes._kbeta import kbeta as kbeta_kernel
from spectro.xes._vtc import vtc as vtc_kernel

ENERGIES = ("kb13_energy", "kb13_m1", "kb25_energy", "kb25_centroid", "kbpp_energy")
SHAPES = ("kb13_fwhm", "kb_prime", "kb_prime_ratio", "kb25_intensity", "kb25_area",
          "kbpp_intensity", "kb13_area")

spectra = st.builds(
    lambda f, seed: xes(high_spin_fraction=f, noise=0.01, seed=seed),
    st.floats(0.0, 1.0),
    st.integers(0, 2**16),
)
REFERENCE = xes(spin="low", noise=0.01, seed=99)


def _analyze(ds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingRegionWarning)
        return spectro.xes.analyze(ds, reference=REFERENCE)


@settings(max_examples=25)
@given(spectra, st.floats(1e-3, 1e4))
def test_metrics_unchanged_by_scaling_the_intensity(ds, scale):
    scaled = ds.copy(data={"intensity": ds.intensity * scale,
                           "intensity_err": ds.intensity_err * scale})
    a, b = _analyze(ds), _analyze(scaled)
    for name in ENERGIES + SHAPES + ("iad",):
        np.testing.assert_allclose(b[name], a[name], rtol=1e-8, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(b[f"{name}_err"], a[f"{name}_err"], rtol=1e-6, err_msg=name)


@settings(max_examples=25)
@given(spectra, st.floats(-3.0, 3.0))
def test_energies_move_exactly_with_an_energy_shift(ds, shift):
    moved = ds.assign_coords(emission_energy=ds.emission_energy + shift)
    a, b = _analyze(ds), _analyze(moved)
    for name in ENERGIES:
        np.testing.assert_allclose(b[name] - a[name], shift, atol=1e-6, err_msg=name)
    for name in SHAPES:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-6, atol=1e-9, err_msg=name)


@settings(max_examples=25)
@given(spectra)
def test_inputs_are_not_mutated(ds):
    before = ds.copy(deep=True)
    reference = REFERENCE.copy(deep=True)
    _analyze(ds)
    assert ds.identical(before)
    assert REFERENCE.identical(reference)
    e = ds.emission_energy.values.copy()
    y = ds.intensity.values.copy()
    s = ds.intensity_err.values.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingRegionWarning)
        kbeta_kernel(e, y, s)
        vtc_kernel(e, y, s)
        iad_kernel(e, y, e, REFERENCE.intensity.values[0], s)
        analyze_arrays(e, y, s, fit=True, reference=(e, REFERENCE.intensity.values[0], None))
    assert np.array_equal(e, ds.emission_energy.values)
    assert np.array_equal(y, ds.intensity.values)
    assert np.array_equal(s, ds.intensity_err.values)


@settings(max_examples=25)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=5), st.integers(0, 1000))
def test_rows_are_independent(fractions, seed):
    """A scan's metrics do not depend on the other scans it is analysed with, to the bit."""
    many = xes(n_scans=len(fractions), high_spin_fraction=fractions, noise=0.01, seed=seed)
    together = _analyze(many)
    alone = _analyze(many.isel(scan=[0]))
    for name in together.data_vars:
        np.testing.assert_array_equal(together[name][0], alone[name][0], err_msg=name)
