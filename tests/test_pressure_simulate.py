"""The simulated pressure campaign, and the full chain on it: analysis -> series -> verdicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.pressure import (
    NIO,
    edge_shift_vs_contraction,
    find_anomaly,
    preedge_stability,
    relative_series,
)
from spectro.simulate import pressure_series
from spectro.simulate._xanes import EV_PER_VALENCE
from spectro.simulate.series import MODEL_SAMPLE_BOND, model_sample_bond


def test_campaign_layout_and_paths():
    ds = pressure_series(seed=0)
    spectro.validate(ds)
    assert ds.sizes["scan"] == 43
    assert len(set(ds.scan.values.tolist())) == 43
    series = relative_series(ds.assign(e0=("scan", ds.true_e0.values)))
    kinds = {p: str(series.path_kind.values[series.path.values == p][0])
             for p in dict.fromkeys(series.path.values.tolist())}
    assert kinds == {"run2/p1": "isobaric", "run2/p2": "isothermal", "run3/p1": "isothermal",
                     "run3/p2": "isobaric", "nio/p1": "isothermal"}
    assert set(ds.sample.values.tolist()) == {"La3Ni2O7", "NiO"}
    assert np.all(ds.pressure_err.values == 0.1)
    resid = ds.pressure.values - ds.true_pressure.values
    assert 0.03 < np.std(resid) < 0.2


def test_truth_is_a_structural_shift():
    ds = pressure_series(slope=-12.0, seed=2)
    nio = ds.sample.values == "NiO"
    d = NIO.distance(ds.true_pressure.values[nio])
    np.testing.assert_allclose(ds.true_ni_o.values[nio], d)
    shift = ds.true_e0.values[nio] - ds.true_e0.values[nio][0]
    # Feature C grows with pressure and its tail moves the 0.8 crossing by < 0.5 %.
    np.testing.assert_allclose(shift, -12.0 * (d - d[0]), rtol=5e-3, atol=1e-6)
    sample = ~nio
    ds_d = ds.true_delta_ni_o.values[sample]
    np.testing.assert_allclose(ds_d, MODEL_SAMPLE_BOND.distance(ds.true_pressure.values[sample])
                               - MODEL_SAMPLE_BOND.distance(0.0))
    assert ds.attrs["truth_slope"] == -12.0 and ds.attrs["truth_nio_slope"] == -12.0


def test_valence_change_adds_non_structural_shift():
    base = pressure_series(seed=3)
    extra = pressure_series(seed=3, valence_rate=0.02, valence_onset=14.0)
    p = base.true_pressure.values
    sample = base.sample.values != "NiO"
    added = extra.true_e0.values - base.true_e0.values
    expected = EV_PER_VALENCE * 0.02 * np.clip(p - 14.0, 0, None)
    np.testing.assert_allclose(added[sample], expected[sample], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(added[~sample], 0.0, atol=1e-9)


def test_model_table_kink():
    t = model_sample_bond(12.0)
    np.testing.assert_allclose(t.slope([5.0, 20.0]), [-0.0020, -0.0028])
    assert float(t.distance(0.0)) == pytest.approx(1.9157)


def analysed(seed, **kw):
    ds = pressure_series(seed=seed, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spectro.errors.FitWarning)
        return relative_series(spectro.xanes.analyze(ds))


@pytest.mark.slow
def test_full_chain_structural_series():
    series = analysed(1)
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    assert abs(res.sample.slope + 15.0) < 3 * res.sample.slope_err
    assert abs(res.reference.slope + 15.0) < 3 * res.reference.slope_err
    assert res.comparison.consistent
    bp = find_anomaly(series, select=series.sample.values == "La3Ni2O7")
    assert abs(bp.breakpoint - 14.0) < 1.0 and bp.real
    assert series.e0_err.attrs["includes_calibration_error"] == 1
    st = preedge_stability(series, tolerance=0.1)
    assert st.max_abs_delta < 0.2  # pre-edge fixed in the model; spread is noise
    assert st.significance < 3.5 and st.compatible


@pytest.mark.slow
def test_full_chain_flags_valence_change():
    series = analysed(1, valence_rate=0.01, valence_onset=14.0)
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    assert not res.comparison.consistent
    assert res.sample.slope < -17.0
    assert res.verdict.startswith("evidence for a valence change at 95 %")
