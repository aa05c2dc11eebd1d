"""No valence for a spectrum of another element or edge than the anchors'."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.calibration_line import OTHER_EDGE_EV, apply_calibration, linear_calibration
from spectro.errors import SpectroWarning
from spectro.valence import from_spectra


def test_energies_far_from_every_anchor_get_no_valence():
    cal = linear_calibration([2, 3], [8345.0, 8347.4])
    # Fe K, Co K, Cu K edges, a Ni value, one just inside the limit
    e0 = [7112.0, 7709.0, 8979.0, 8346.0, 8347.4 + OTHER_EDGE_EV - 1.0]
    res = xr.Dataset({"e0": ("scan", e0), "e0_err": ("scan", [0.02] * 5)}, coords={"scan": list("abcde")})
    with pytest.warns(SpectroWarning, match="'a', 'b', 'c'.*another element or edge"):
        out = apply_calibration(res, cal, flag_uncalibrated=False)
    assert out.valence_flags.values.tolist()[:3] == ["other_edge"] * 3
    assert np.isnan(out.valence.values[:3]).all() and np.isnan(out.valence_err.values[:3]).all()
    assert out.valence.values[3] == pytest.approx(2.42, abs=0.01)
    assert out.valence_flags.values[4] == "extrapolated" and np.isfinite(out.valence.values[4])


def test_an_intensity_observable_is_never_another_edge():
    cal = linear_calibration([0, 1], [0.0, 0.1], observable="iad", quantity="f", units="1")
    out = apply_calibration(xr.Dataset({"iad": ("scan", [500.0])}), cal, flag_uncalibrated=False)
    assert out.f_flags.values[0] != "other_edge"


def test_a_spectrum_of_another_element_gets_no_valence_from_spectra():
    nio = spectro.simulate.xanes(valence=2.0, seed=1)
    lanio3 = spectro.simulate.xanes(valence=3.0, seed=2)
    ni = spectro.simulate.xanes(valence=2.5, seed=3)
    fe_like = spectro.simulate.xanes(valence=2.5, seed=4)
    fe_like = fe_like.assign_coords(energy=fe_like.energy - 1221.0)  # the same shape at the Fe K edge
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, (ni_res, fe_res) = from_spectra([ni, fe_like], [(nio, 2.0), (lanio3, 3.0)],
                                           options=spectro.XanesOptions(preedge="centroid"))
    assert np.isfinite(ni_res.valence.values).all()
    assert np.isnan(fe_res.valence.values).all()
    assert fe_res.valence_flags.values.tolist() == ["other_edge"]
