"""A scan that does not cover the edge gives no edge numbers, and says so: nothing at the range's end."""

from __future__ import annotations

import numpy as np
import pytest

import spectro
from spectro.xanes import XanesFlag, analyze_arrays


@pytest.mark.parametrize(("low", "high"), [(8352.0, 8700.0), (8200.0, 8338.0), (8346.0, 8700.0)],
                         ids=["above the edge only", "below the edge only", "from the top of the edge"])
def test_a_scan_without_the_edge_gives_nan_and_a_flag(low, high):
    ds = spectro.simulate.xanes(seed=0, noise=0.002)
    e, mu = ds.energy.values, ds.mu.values[0]
    keep = (e > low) & (e < high)
    r = analyze_arrays(e[keep], mu[keep][None], preedge="centroid")
    assert XanesFlag(int(r.flags[0])) & (XanesFlag.NO_EDGE | XanesFlag.NORMALIZATION_FAILED)
    for name in ("e0", "e0_derivative", "e0_half", "edge_step", "preedge_centroid_free", "feature_c"):
        assert np.isnan(getattr(r, name)[0]), name
    full = analyze_arrays(e, mu[None], preedge="centroid")  # the same spectrum, whole: its edge is found
    assert full.flags[0] == 0 and abs(full.e0[0] - float(ds.true_e0[0])) < 0.1
