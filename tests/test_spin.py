"""High-spin fraction from Kbeta metrics, calibrated on simulated high- and low-spin references."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.errors import DataError, ExtrapolationWarning
from spectro.spin import fit_calibration, high_spin_fraction

FRACTIONS = [0.0, 1.0, 0.2, 0.5, 0.8]


@pytest.fixture(scope="module")
def simulated():
    """XES results of LS, HS and three mixtures (noise-free), IAD against the LS spectrum."""
    ds = spectro.simulate.xes(high_spin_fraction=FRACTIONS, n_scans=len(FRACTIONS), seed=5)
    return spectro.xes.analyze(ds, reference=ds.isel(scan=0))


@pytest.mark.parametrize(("metric", "tolerance"), [("iad", 0.03), ("kb_prime_ratio", 0.06), ("kb13_m1", 0.2)])
def test_fraction_of_mixtures_is_recovered(simulated, metric, tolerance):
    """Linear interpolation is exact for a metric linear in the mixture; ratio metrics
    (Kbeta' / Kbeta1,3, first moment) are not, hence the metric-dependent tolerance."""
    refs = simulated.isel(scan=[0, 1])
    cal = fit_calibration(refs, ["low", "high"], metric=metric)
    out = high_spin_fraction(simulated.isel(scan=[2, 3, 4]), cal)
    truth = np.array(FRACTIONS[2:])
    assert out.high_spin_fraction.values == pytest.approx(truth, abs=tolerance)
    assert np.all(np.diff(out.high_spin_fraction.values) > 0)
    assert out.high_spin_fraction_flags.values.tolist() == ["", "", ""]
    assert out.high_spin_fraction.attrs["observable"] == metric


def test_metrics_move_with_spin_in_the_expected_direction(simulated):
    """Kbeta' grows with the high-spin fraction, and so does the IAD from the LS spectrum."""
    for metric in ("iad", "kb_prime_ratio"):
        cal = fit_calibration(simulated.isel(scan=[0, 1]), ["low", "high"], metric=metric)
        assert cal.slope > 0, metric


def test_noise_draws_are_covered_by_the_error(rng):
    """With metrics drawn at their stated errors, the fraction's error matches its spread."""
    m_ls, m_hs, s_ref, s_m, truth = 0.05, 0.20, 0.004, 0.006, 0.4
    inside, n = 0, 3000
    for _ in range(n):
        refs = xr.Dataset(
            {"kb_prime_ratio": ("scan", [m_ls, m_hs] + rng.normal(0, s_ref, 2)),
             "kb_prime_ratio_err": ("scan", [s_ref, s_ref])},
        )
        cal = fit_calibration(refs, ["low", "high"], metric="kb_prime_ratio")
        est = cal.predict(m_ls + truth * (m_hs - m_ls) + rng.normal(0, s_m), s_m, warn=False)
        inside += abs(float(est.value) - truth) < float(est.err)
    assert 0.65 < inside / n < 0.71


def test_error_propagates_the_metric_error(simulated):
    cal = fit_calibration(simulated.isel(scan=[0, 1]), ["low", "high"], metric="kb_prime_ratio")
    out = high_spin_fraction(simulated.isel(scan=[3]), cal)
    expected = simulated.kb_prime_ratio_err.values[3] / abs(cal.slope)
    assert out.high_spin_fraction_err_sample.values == pytest.approx([expected])


def test_extrapolation_flagged(simulated):
    cal = fit_calibration(simulated.isel(scan=[0, 3]), ["low", 0.5], metric="iad")
    with pytest.warns(ExtrapolationWarning):
        out = high_spin_fraction(simulated.isel(scan=[1]), cal)
    assert out.high_spin_fraction_flags.values.tolist() == ["extrapolated"]
    assert float(out.high_spin_fraction[0]) == pytest.approx(1.0, abs=0.08)


def test_effective_spin_of_ni(simulated):
    refs = simulated.isel(scan=[0, 1])
    low, high = (str(s) for s in refs.scan.values)
    cal = fit_calibration(refs, {low: "low", high: "high"}, metric="kb_prime_ratio")
    out = high_spin_fraction(simulated.isel(scan=[3]), cal, spins=(0.5, 1.0))
    assert out.spin.values == pytest.approx(0.5 + 0.5 * out.high_spin_fraction.values)
    assert out.spin_err.values == pytest.approx(0.5 * out.high_spin_fraction_err.values)


def test_several_references_per_state_use_weighted_least_squares():
    res = xr.Dataset(
        {"kb_prime_ratio": ("scan", [0.05, 0.06, 0.20, 0.19]), "kb_prime_ratio_err": ("scan", [0.01] * 4)},
        coords={"scan": ["LS1", "LS2", "HS1", "HS2"]},
    )
    cal = fit_calibration(res, ["low", "low", "high", "high"], metric="kb_prime_ratio")
    assert cal.method == "weighted least squares"
    assert cal.intercept == pytest.approx(0.055) and cal.slope == pytest.approx(0.14)


def test_agrees_with_the_xes_two_reference_interpolation():
    high, low = spectro.simulate.xes(spin="high"), spectro.simulate.xes(spin="low")
    ds = spectro.simulate.xes(high_spin_fraction=[0.3, 0.6], n_scans=2, noise=0.01, seed=4)
    theirs = spectro.xes.spin(ds, high=high, low=low, metric="kb_prime_ratio")
    refs = spectro.xes.analyze(xr.concat([low, high], "scan"))
    cal = fit_calibration(refs, ["low", "high"], metric="kb_prime_ratio")
    ours = high_spin_fraction(spectro.xes.analyze(ds), cal)
    assert ours.high_spin_fraction.values == pytest.approx(theirs.high_spin_fraction.values, abs=1e-9)
    assert ours.high_spin_fraction_err.values == pytest.approx(theirs.high_spin_fraction_err.values, rel=1e-6)


def test_bad_input():
    res = xr.Dataset({"kb_prime_ratio": ("scan", [0.05, 0.2])}, coords={"scan": ["a", "b"]})
    with pytest.raises(DataError, match="no 'iad'"):
        fit_calibration(res, ["low", "high"], metric="iad")
    with pytest.raises(DataError, match="no spin state given"):
        fit_calibration(res, {"a": "low"}, metric="kb_prime_ratio")
    with pytest.raises(DataError, match="two different"):
        fit_calibration(res, ["high", "high"], metric="kb_prime_ratio")
