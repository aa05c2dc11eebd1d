"""The exact selection behind the row medians: the values of a sort, to the bit, on any rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectro.xanes import _arrays


def _rows(seed: int, rows: int, n: int, ties: float, nans: float, kind: str) -> np.ndarray:
    """Rows of ``n`` values: noise, sorted or reversed rows, few distinct values, infinities and NaN."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, n)) * rng.uniform(1e-3, 1e3, (rows, 1))
    if kind == "abs":
        a = np.abs(a)
    elif kind == "sorted":
        a.sort(axis=-1)
    elif kind == "reversed":
        a = -np.sort(a, axis=-1)
    elif kind == "steps":  # a sample that brackets badly: a few levels in long runs
        a = np.repeat(rng.integers(0, 4, (rows, n // 64 + 1)).astype(float), 64, axis=-1)[:, :n]
    if ties:
        pick = rng.random(a.shape) < ties
        a[pick] = rng.choice([0.0, 1.0, -2.5], size=int(pick.sum()))
    a[rng.random(a.shape) < 0.002] = np.inf
    if nans:
        a[rng.random(a.shape) < nans] = np.nan
        a[0] = np.nan  # a row without a number
        if rows > 1:
            a[1, : n // 2] = np.nan  # a row half missing
    return a


rows_strategy = st.builds(
    _rows,
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 40),
    n=st.integers(_arrays.SELECT_MIN - 3, 2500),
    ties=st.sampled_from([0.0, 0.05, 0.6]),
    nans=st.sampled_from([0.0, 0.0, 0.1, 0.7]),
    kind=st.sampled_from(["normal", "abs", "sorted", "reversed", "steps"]),
)


@settings(max_examples=60, deadline=None)
@given(rows_strategy, st.integers(0, 2**32 - 1))
def test_order_statistics_are_the_sorted_values(a, seed):
    """Any two ranks of every row: the values np.sort puts there (NaN last), whatever the other rows."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, a.shape[1], a.shape[0])
    high = np.minimum(low + rng.integers(0, 3, a.shape[0]), a.shape[1] - 1)
    kept = a.copy()
    got_low, got_high = _arrays.order_statistics(a, low, high)
    ordered = np.sort(a, axis=-1)
    rows = np.arange(a.shape[0])
    np.testing.assert_array_equal(got_low, ordered[rows, low])
    np.testing.assert_array_equal(got_high, ordered[rows, high])
    np.testing.assert_array_equal(a, kept)
    alone = _arrays.order_statistics(a[-1:], low[-1:], high[-1:])
    assert np.array_equal(alone[0], got_low[-1:], equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_medians_are_numpys(a):
    """row_median is np.median on rows without NaN, nan_row_median np.nanmedian on any rows (odd, even counts)."""
    finite = np.where(np.isnan(a), 0.5, a)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(_arrays.row_median(finite), np.median(finite, axis=-1))
        np.testing.assert_array_equal(_arrays.row_median(finite[:, 1:]), np.median(finite[:, 1:], axis=-1))
        np.testing.assert_array_equal(_arrays.nan_row_median(a), np.nanmedian(a, axis=-1))
        np.testing.assert_array_equal(_arrays.nan_row_median(a[:, 1:]), np.nanmedian(a[:, 1:], axis=-1))


@pytest.mark.parametrize("n", [_arrays.SELECT_MIN + 4, 2001, 2002])
def test_noise_sigma_is_the_median_of_the_residual(n):
    """The uniform-grid noise estimate: 1.4826 times np.median of the scaled residual |y - cubic| of every row."""
    rng = np.random.default_rng(n)
    x = 8200.0 + 0.25 * np.arange(n)
    y = np.tanh((x - 8340.0) / 5.0) + rng.normal(0.0, rng.uniform(1e-3, 1e-1, (30, 1)), (30, n))
    residual = np.abs(y[:, :-4] - 4 * y[:, 1:-3] + 6 * y[:, 2:-2] - 4 * y[:, 3:-1] + y[:, 4:]) / 6.0
    scale = 1.4826 / np.sqrt(1.0 + 2.0 * (1 / 36 + 4 / 9))
    expected = scale * np.median(residual, axis=-1)
    got = _arrays.noise_sigma(np.broadcast_to(x, y.shape), y)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # the same value as the partition of the residual the convolution gives, to the bit
    r = np.abs(_arrays.convolve_rows(y, _arrays._RESIDUAL))[:, 2:-2]
    np.testing.assert_array_equal(got, scale * np.median(r, axis=-1))
    # and the noise of white noise (a median of n - 4 correlated residuals scatters by several %)
    sigma = _arrays.noise_sigma(np.broadcast_to(x, y.shape), rng.normal(0.0, 0.01, (30, n)))
    assert abs(sigma.mean() / 0.01 - 1) < 0.05
    assert np.all(np.abs(sigma / 0.01 - 1) < 0.35)


@pytest.mark.parametrize("kind", ["normal", "sorted", "steps"])
def test_order_statistics_at_the_ends(kind):
    """The first and last ranks (a bracket as wide as the rows): the smallest value and the largest (or NaN)."""
    a = _rows(7, 12, 1500, ties=0.05, nans=0.0, kind=kind)
    a[3, 5] = np.nan
    rows = np.arange(a.shape[0])
    low, high = _arrays.order_statistics(a, np.zeros(12, int), np.full(12, 1499))
    ordered = np.sort(a, axis=-1)
    np.testing.assert_array_equal(low, ordered[rows, 0])
    np.testing.assert_array_equal(high, ordered[rows, -1])
    assert np.isnan(high[3]) and low[3] == np.nanmin(a[3])
