"""The budget's normalization variations in one run give, to the bit, what each variation gives run by itself."""

from __future__ import annotations

import warnings
from dataclasses import fields

import numpy as np
import pytest

import spectro
from spectro.options import XanesOptions
from spectro.xanes._analyze import XanesResult, analyze_arrays, normalization_variations
from spectro.xanes._budget import variations


def _variants(opts: XanesOptions) -> list[XanesOptions]:
    return [opts.replace(preedge="centroid", **change) for component, _, change in variations(opts)
            if component == "normalization"]


def _assert_same_bits(got: list[XanesResult], want: list[XanesResult]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for f in fields(XanesResult):
            a, b = np.asarray(getattr(g, f.name)), np.asarray(getattr(w, f.name))
            assert a.shape == b.shape and a.dtype == b.dtype, f.name
            if a.dtype.kind == "f":
                assert np.array_equal(a.view(np.uint64), b.view(np.uint64)), f.name
            else:
                assert np.array_equal(a, b), f.name


def _simulated():
    ds = spectro.simulate.xanes(valence=[2.0, 2.5, 3.0, 2.2], n_scans=4, reference=True, seed=1)
    e, mu, ref = ds.energy.values, ds.mu.values, ds.mu_ref.values
    return {
        "scans with foils": (e, mu, ref),
        "scans": (e, mu, None),
        "one spectrum, 1-D": (e, mu[0], ref[0]),
        "a (2, 2) block": (e, mu.reshape(2, 2, -1), None),
        "each on its own grid": (np.stack([e, e + 0.3]), mu[:2], ref[:2]),
        "one complete, one not": (e, np.stack([mu[0], np.where(e > 8400.0, np.nan, mu[1])]), None),
    }


@pytest.mark.parametrize("case", list(_simulated()))
@pytest.mark.parametrize("changes", [{}, {"nnorm": 2}, {"e0_anchor": 8345.0}])
def test_variations_in_one_run_are_each_run_alone(case, changes):
    energy, mu, ref = _simulated()[case]
    variants = _variants(XanesOptions(deglitch=False, **changes))
    want = [analyze_arrays(energy, mu, ref, v, spectra=False) for v in variants]
    _assert_same_bits(normalization_variations(energy, mu, ref, variants), want)


def test_variations_of_real_files_on_their_union_grid(data_file):
    names = ["ceric_NiO_111.xdi", "xaslib_NiS_rt_01.xdi", "bmm_Ni-K-NickelOxide.xdi"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spectro.stack([spectro.read(data_file(f"xanes/{n}")) for n in names])
    variants = _variants(XanesOptions(deglitch=False))
    energy, mu, ref = ds.energy.values, ds.mu.values, ds.mu_ref.values
    want = [analyze_arrays(energy, mu, ref, v, spectra=False) for v in variants]
    _assert_same_bits(normalization_variations(energy, mu, ref, variants), want)


def test_variants_must_differ_only_in_normalization():
    ds = spectro.simulate.xanes(seed=0)
    opts = XanesOptions(deglitch=False)
    with pytest.raises(ValueError):
        normalization_variations(ds.energy.values, ds.mu.values, None, [opts, opts.replace(level=0.7)])
    with pytest.raises(ValueError):
        normalization_variations(ds.energy.values, ds.mu.values, None, [opts.replace(deglitch=True)])
    assert normalization_variations(ds.energy.values, ds.mu.values, None, []) == []


@pytest.mark.parametrize("case", ["scans with foils", "one spectrum, 1-D", "each on its own grid",
                                  "one complete, one not"])
@pytest.mark.parametrize("foil_edge", ["derivative", "xcorr"])
def test_budget_nominal_is_the_analysis_with_spiky_foils(case, foil_edge):
    """The budget calibrates the foil once for its nominal run and its foil variations, on the foil without
    its spikes: its nominal numbers are still those of analyze_arrays, to the bit, when both channels have
    spikes the analysis removes."""
    from spectro.xanes._budget import budget_arrays

    energy, mu, ref = _simulated()["scans with foils"]
    rng = np.random.default_rng(5)
    mu, ref = mu.copy(), ref.copy()
    for rows in (mu, ref):
        for row in rows:
            row[rng.integers(20, row.size - 20, 3)] += 0.3 * np.ptp(row)
    energy, mu, ref = {
        "scans with foils": (energy, mu, ref),
        "one spectrum, 1-D": (energy, mu[0], ref[0]),
        "each on its own grid": (np.stack([energy, energy + 0.3]), mu[:2], ref[:2]),
        "one complete, one not": (energy, mu[:2], np.stack([ref[0], np.where(energy > 8500.0, np.nan, ref[1])])),
    }[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = analyze_arrays(energy, mu, ref, foil_edge=foil_edge)
        got = budget_arrays(energy, mu, ref, foil_edge=foil_edge).result
    assert (np.asarray(want.flags) & int(spectro.xanes.XanesFlag.GLITCHES_REMOVED)).all()
    _assert_same_bits([got], [want])
