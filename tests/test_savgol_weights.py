"""The Savitzky-Golay weights of the kernels are scipy's, bit for bit (without importing scipy.signal at start-up)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_coeffs

from spectro.xanes._arrays import savgol_weights


@pytest.mark.parametrize("degree", [1, 2, 3])
@pytest.mark.parametrize("delta", [0.05, 0.25, 0.5, 2.0])
@pytest.mark.parametrize("convolve", [False, True])
def test_the_same_numbers_as_scipy(degree, delta, convolve):
    for half in range(degree // 2 + 1, 40):  # at least degree + 1 points, as the kernels use
        for deriv in range(degree + 1):
            want = savgol_coeffs(2 * half + 1, degree, deriv=deriv, delta=delta, use="conv" if convolve else "dot")
            got = savgol_weights(2 * half + 1, degree, deriv=deriv, delta=delta, convolve=convolve)
            assert np.array_equal(got, want), (half, deriv)


def test_a_polynomial_is_differentiated_exactly():
    x = np.arange(-4, 5) * 0.25
    y = 1.0 - 2.0 * x + 3.0 * x**2
    assert savgol_weights(9, 2, deriv=1, delta=0.25) @ y == pytest.approx(-2.0)
    assert savgol_weights(9, 2, deriv=2, delta=0.25) @ y == pytest.approx(6.0)
    assert savgol_weights(9, 2) @ y == pytest.approx(1.0)


def test_too_few_points_is_an_error():
    with pytest.raises(ValueError, match="degree < points"):
        savgol_weights(3, 3)
