"""A pre-edge window the edge already rises through gives NaN pre-edge numbers with ``PREEDGE_ON_EDGE``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.xanes import XanesFlag, analyze_arrays
from spectro.xanes._preedge import ON_EDGE_LEVEL

PREEDGE = ("preedge_centroid", "preedge_centroid_err", "preedge_area", "preedge_height", "preedge_centroid_free",
           "preedge_centroid_free_err")


def _spectra(edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arctan edges (half width 1.5 eV) at ``edge`` with a 0.03-high pre-edge peak at 8333 eV."""
    e = np.arange(8200.0, 8600.0, 0.25)
    rng = np.random.default_rng(4)
    mu = (0.5 + np.arctan((e - edge[:, None]) / 1.5) / np.pi + 0.03 * np.exp(-0.5 * ((e - 8333.0) / 0.9) ** 2)
          + 0.001 * rng.standard_normal((edge.size, e.size)))
    return e, mu


def test_the_flag_follows_the_absorption_at_the_top_of_the_window():
    """Level at 8336.5 eV of an arctan edge at c: 1/2 + arctan((8336.5 - c)/1.5)/pi; flagged where it is >= 0.15."""
    edge = np.array([8346.0, 8343.0, 8338.5, 8337.0, 8334.0])
    e, mu = _spectra(edge)
    r = analyze_arrays(e, mu)
    level = 0.5 + np.arctan((8336.5 - edge) / 1.5) / np.pi
    want = level >= ON_EDGE_LEVEL
    assert want.tolist() == [False, False, True, True, True]  # 0.05, 0.07, 0.21, 0.40, 0.83
    on = (r.flags & XanesFlag.PREEDGE_ON_EDGE) != 0
    assert on.tolist() == want.tolist()
    for name in PREEDGE:
        value = getattr(r, name)
        assert np.all(np.isnan(value[on])), name
    assert np.all(np.isfinite(r.preedge_centroid_free[~on]))
    np.testing.assert_allclose(r.preedge_centroid_free[~on], 8333.0, atol=0.3)
    other = XanesFlag.PREEDGE_OUTSIDE_WINDOW | XanesFlag.PREEDGE_ON_BOUND | XanesFlag.PREEDGE_AREA_NOT_POSITIVE
    assert np.all((r.flags[on] & other) == 0)  # one reason, not four
    assert np.all(np.isfinite(r.e0))  # the edge itself is measured


@pytest.mark.realdata
@pytest.mark.parametrize("name, on_edge", [
    ("xanes/ceric_NiO_111.xdi", False),
    ("xanes/ceric_LaNiO3_Ni_80K_111.xdi", False),
    ("xanes/bmm_Ni-K-NickelOxide.xdi", False),
    ("xanes/xaslib_Ni2O3_rt_01.xdi", False),
    ("xanes/larch_NiO.prj", False),
    ("xanes/ceric_Ni_foil_111.xdi", True),
    ("xanes/xaslib_Ni_metal_rt_01.xdi", True),
    ("xanes/xaslib_NiS_rt_02.xdi", True),
    ("xanes/larch_Ni_FeNiS20_RT.prj", True),
])
def test_metals_and_sulfides_have_no_preedge_peak_apart_from_their_edge(data_file, name, on_edge):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = spectro.xanes.analyze(spectro.read(data_file(name)))
    flagged = (res.flags.values & int(XanesFlag.PREEDGE_ON_EDGE)) != 0
    assert np.all(flagged == on_edge)
    centroid = res.preedge_centroid_free.values
    assert np.all(np.isnan(centroid)) if on_edge else np.all(np.isfinite(centroid))
