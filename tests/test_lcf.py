"""Linear-combination fitting: recovery, uncertainties and their coverage, shifts, NaN, xarray."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.errors import DataError
from spectro.lcf import fit, fit_arrays

ENERGY = np.arange(8300.0, 8450.0, 0.5)
WEIGHTS = np.array([0.47, 0.53])  # NiO-like and LaNiO3-like: valence 2.53


@pytest.fixture(scope="module")
def endmembers():
    """Normalized NiO-like (valence 2) and LaNiO3-like (valence 3) simulated spectra."""
    sim = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, energy=ENERGY, seed=7)
    return spectro.xanes.normalize(sim, pre1=-60.0, pre2=-20.0, norm1=30.0, norm2=100.0).norm.values


def test_noise_free_mixture_is_recovered_exactly(endmembers):
    y = WEIGHTS @ endmembers
    for sum_to_one in (True, False):
        res = fit_arrays(y, endmembers, energy=ENERGY, valences=[2, 3], sum_to_one=sum_to_one)
        assert res.weights == pytest.approx(WEIGHTS, abs=1e-8)
        assert float(res.valence) == pytest.approx(2.53, abs=1e-8)
        assert float(res.r_factor) < 1e-14


def test_simulated_la3ni2o7_valence_and_weights(endmembers, rng):
    y = WEIGHTS @ endmembers + rng.normal(0, 0.01, ENERGY.size)
    res = fit_arrays(y, endmembers, energy=ENERGY, valences=[2, 3], labels=["NiO", "LaNiO3"])
    assert float(res.valence) == pytest.approx(2.53, abs=0.02)
    assert np.all(np.abs(res.weights - WEIGHTS) < 3 * res.weights_err)
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert float(res.valence_err) == pytest.approx(float(res.weights_err[1]), rel=1e-6)
    assert "NiO" in res.summary() and "valence 2.5" in res.summary()


def test_end_to_end_from_raw_mixture(rng):
    """Raw mu of a mixture with 53 % of the Ni atoms LaNiO3-like, normalized like the endmembers.

    Each endmember's mu is divided by its edge step first, so that the weights
    are fractions of absorbing atoms, which is what LCF of normalized spectra measures.
    """
    sim = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, energy=ENERGY, seed=11)
    windows = dict(e0_anchor=8345.0, pre1=-40.0, pre2=-15.0, norm1=30.0, norm2=100.0)
    norm = spectro.xanes.normalize(sim, **windows)
    per_atom = sim.mu.values / norm.edge_step.values[:, None]
    mixed = sim.isel(scan=[0]).copy(deep=True)
    mixed["mu"] = (("scan", "energy"), (WEIGHTS @ per_atom)[None] + rng.normal(0, 0.003, (1, ENERGY.size)))
    y = spectro.xanes.normalize(mixed, **windows).norm.values[0]
    res = fit_arrays(y, norm.norm.values, energy=ENERGY, valences=[2, 3])
    assert float(res.valence) == pytest.approx(2.53, abs=0.02)
    assert abs(float(res.valence) - 2.53) < 3 * float(res.valence_err)


@pytest.mark.parametrize("sum_to_one", [True, False])
def test_uncertainty_coverage_over_noise_draws(endmembers, rng, sum_to_one):
    """Weight and valence pulls have unit spread; 1-sigma intervals hold ~68 % of draws."""
    n, sigma = 600, 0.01
    y = WEIGHTS @ endmembers + rng.normal(0, sigma, (n, ENERGY.size))
    res = fit_arrays(y, endmembers, energy=ENERGY, valences=[2, 3], sum_to_one=sum_to_one)
    pulls = (res.weights - WEIGHTS) / res.weights_err
    assert np.std(pulls, axis=0) == pytest.approx([1.0, 1.0], abs=0.1)
    coverage = np.mean(np.abs(pulls) < 1, axis=0)
    assert np.all((coverage > 0.62) & (coverage < 0.74))
    v_pull = (res.valence - 2.53) / res.valence_err
    assert np.std(v_pull) == pytest.approx(1.0, abs=0.1)
    assert np.mean(res.chi2_reduced) == pytest.approx(sigma**2, rel=0.05)


def test_weights_are_never_negative(endmembers):
    y = endmembers[0] * 1.0
    res = fit_arrays(y, endmembers, energy=ENERGY, sum_to_one=False)
    assert res.weights == pytest.approx([1.0, 0.0], abs=1e-12)
    assert np.isnan(res.weights_err[1])
    anti = 2 * endmembers[0] - endmembers[1]
    assert np.all(fit_arrays(anti, endmembers, energy=ENERGY, sum_to_one=False).weights >= 0)


def test_nan_padding_is_ignored(endmembers):
    y = WEIGHTS @ endmembers
    padded = y.copy()
    padded[:40] = np.nan
    refs = endmembers.copy()
    refs[1, -30:] = np.nan
    res = fit_arrays(np.stack([y, padded]), refs, energy=ENERGY)
    assert res.weights == pytest.approx(np.stack([WEIGHTS, WEIGHTS]), abs=1e-8)
    assert res.n_points.tolist() == [ENERGY.size - 30, ENERGY.size - 70]
    assert np.isnan(res.fit[1, :40]).all()


def test_fit_range_limits_the_points(endmembers):
    res = fit_arrays(WEIGHTS @ endmembers, endmembers, energy=ENERGY, fit_range=(8320.0, 8380.0))
    assert int(res.n_points) == np.count_nonzero((ENERGY >= 8320) & (ENERGY <= 8380))
    assert res.fit_range == (8320.0, 8380.0)


def test_r_factor_definition(endmembers, rng):
    y = WEIGHTS @ endmembers + rng.normal(0, 0.02, ENERGY.size)
    res = fit_arrays(y, endmembers, energy=ENERGY)
    assert float(res.r_factor) == pytest.approx(np.sum((y - res.fit) ** 2) / np.sum(y**2))


def _shift(spectrum, ds):
    return np.interp(ENERGY - ds, ENERGY, spectrum)


@pytest.mark.parametrize("mode", ["global", "each"])
def test_energy_shift_is_recovered(endmembers, rng, mode):
    refs = np.stack([_shift(r, -0.7) for r in endmembers])  # references miscalibrated by -0.7 eV
    y = WEIGHTS @ endmembers + rng.normal(0, 0.003, ENERGY.size)
    res = fit_arrays(y, refs, energy=ENERGY, valences=[2, 3], shift=mode, fit_range=(8310, 8440))
    assert res.shifts == pytest.approx([0.7, 0.7], abs=max(0.05, 3 * float(np.max(res.shifts_err))))
    assert np.all(np.abs(res.weights - WEIGHTS) < 3 * res.weights_err + 0.01)
    unshifted = fit_arrays(y, refs, energy=ENERGY, fit_range=(8310, 8440))
    assert float(res.r_factor) < 0.5 * float(unshifted.r_factor)


def test_bad_input_raises(endmembers):
    with pytest.raises(DataError, match="shift must be"):
        fit_arrays(endmembers[0], endmembers, energy=ENERGY, shift="both")
    with pytest.raises(DataError, match="share the last"):
        fit_arrays(endmembers[0][:-1], endmembers, energy=ENERGY)
    with pytest.raises(DataError, match="valences and labels"):
        fit_arrays(endmembers[0], endmembers, energy=ENERGY, valences=[2])


def test_inputs_are_not_modified(endmembers):
    y = WEIGHTS @ endmembers
    y_copy, refs_copy = y.copy(), endmembers.copy()
    fit_arrays(y, endmembers, energy=ENERGY, shift="global")
    assert np.array_equal(y, y_copy) and np.array_equal(endmembers, refs_copy)


def _references_da(endmembers, energy=ENERGY):
    return xr.DataArray(
        endmembers,
        dims=("reference", "energy"),
        coords={"reference": ["NiO", "LaNiO3"], "energy": energy, "valence": ("reference", [2.0, 3.0])},
    )


def test_xarray_wrapper_interpolates_references_and_keeps_coords(endmembers, rng):
    fine = np.arange(8300.0, 8450.0, 0.25)
    refs = _references_da(np.stack([np.interp(fine, ENERGY, r) for r in endmembers]), fine)
    y = xr.DataArray(
        WEIGHTS @ endmembers + rng.normal(0, 0.005, (3, ENERGY.size)),
        dims=("scan", "energy"),
        coords={"scan": ["a", "b", "c"], "energy": ENERGY, "pressure": ("scan", [0.0, 5.0, 10.0])},
    )
    out = fit(y, refs)
    assert out.weight.dims == ("scan", "reference")
    assert out.reference.values.tolist() == ["NiO", "LaNiO3"]
    assert out.pressure.values.tolist() == [0.0, 5.0, 10.0]
    assert out.valence.values == pytest.approx([2.53] * 3, abs=0.02)
    for name, var in out.data_vars.items():
        assert "units" in var.attrs and "long_name" in var.attrs, name
    direct = fit_arrays(y.values, endmembers, energy=ENERGY, valences=[2, 3])
    assert out.weight.values == pytest.approx(direct.weights, abs=1e-6)


def test_xarray_wrapper_on_dask(endmembers, rng):
    pytest.importorskip("dask")
    y = xr.DataArray(
        WEIGHTS @ endmembers + rng.normal(0, 0.005, (8, ENERGY.size)),
        dims=("scan", "energy"),
        coords={"energy": ENERGY},
    )
    eager = fit(y, _references_da(endmembers))
    lazy = fit(y.chunk(scan=3), _references_da(endmembers))
    assert lazy.weight.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager)


def test_larch_lincombo_agrees(endmembers, rng, larch):
    """xraylarch's lincombo_fit on the same normalized spectra gives the same weights."""
    from larch import Group
    from larch.math import lincombo_fit

    y = WEIGHTS @ endmembers + rng.normal(0, 0.005, ENERGY.size)
    groups = [Group(energy=ENERGY, norm=r, filename=f"ref{i}") for i, r in enumerate(endmembers)]
    result = lincombo_fit(Group(energy=ENERGY, norm=y, filename="sample"), groups, sum_to_one=True,
                          xmin=ENERGY[0], xmax=ENERGY[-1])
    larch_w = np.array([result.weights[f"ref{i}"] for i in range(2)])
    ours = fit_arrays(y, endmembers, energy=ENERGY)
    assert ours.weights == pytest.approx(larch_w, abs=2e-3)
