"""The XANES kernel refuses to invent numbers from spectra without an edge, and ignores a lone spike."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import MissingRegionWarning
from spectro.xanes import XanesFlag, analyze_arrays


@pytest.fixture(scope="module")
def edge():
    ds = spectro.simulate.xanes(seed=0, noise=0.002)
    return ds.energy.values, ds.mu.values[0]


def _junk(e, mu):
    rng = np.random.default_rng(0)
    return {
        "noise": rng.normal(0.0, 0.01, e.size),
        "inverted edge": -mu,
        "constant": np.full(e.size, 1.0),
        "ramp": 1e-3 * (e - e[0]),
    }


@pytest.mark.parametrize("kind", ["noise", "inverted edge", "constant", "ramp"])
def test_no_edge_gives_nan_and_a_flag(edge, kind):
    e, mu = edge
    r = analyze_arrays(e, _junk(e, mu)[kind][None], preedge="centroid")
    flags = XanesFlag(int(r.flags[0]))
    assert flags & (XanesFlag.NO_EDGE | XanesFlag.NORMALIZATION_FAILED)
    for name in ("e0", "e0_err", "e0_derivative", "e0_half", "edge_step", "preedge_centroid",
                 "preedge_centroid_err", "preedge_centroid_free", "feature_c"):
        assert np.isnan(getattr(r, name)[0]), name


def test_a_good_edge_beside_junk_keeps_its_numbers(edge):
    e, mu = edge
    alone = analyze_arrays(e, mu[None], preedge="centroid")
    both = analyze_arrays(e, np.stack([mu, -mu]), preedge="centroid")
    assert both.flags.tolist() == [0, int(XanesFlag.NO_EDGE)]
    assert both.e0[0] == alone.e0[0] and both.edge_step[0] == alone.edge_step[0]


def test_one_spike_does_not_move_e0(edge):
    e, mu = edge
    spiked = mu + np.where(np.abs(e - 8260.0) < 0.01, 5.0, 0.0)
    clean = analyze_arrays(e, mu[None], preedge="centroid")
    r = analyze_arrays(e, spiked[None], preedge="centroid")
    assert int(r.flags[0]) == XanesFlag.GLITCHES_REMOVED
    assert abs(r.e0[0] - clean.e0[0]) < r.e0_err[0]
    assert abs(r.e0_anchor[0] - clean.e0_anchor[0]) < 0.01
    # without the glitch step the spike takes the window anchor 80 eV away
    kept = analyze_arrays(e, spiked[None], preedge="centroid", deglitch=False)
    assert abs(kept.e0_anchor[0] - 8260.0) < 1.0


def test_a_spike_in_the_foil_does_not_move_the_calibration():
    ds = spectro.simulate.xanes(seed=1, reference=True, energy_offset=1.5)
    e, mu, ref = ds.energy.values, ds.mu.values, ds.mu_ref.values
    spiked = ref.copy()
    spiked[0, np.argmin(np.abs(e - 8300.0))] += 3.0
    clean = analyze_arrays(e, mu, ref)
    r = analyze_arrays(e, mu, spiked)
    assert r.calibration_shift[0] == pytest.approx(clean.calibration_shift[0], abs=0.01)
    assert r.flags[0] & XanesFlag.GLITCHES_REMOVED


def test_analyze_warns_naming_the_scan(edge):
    e, mu = edge
    ds = spectro.simulate.xanes(seed=0, noise=0.002, n_scans=2)
    ds["mu"][1] = -ds["mu"][1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = spectro.xanes.analyze(ds, preedge="centroid")
    text = [str(w.message) for w in caught if issubclass(w.category, MissingRegionWarning)]
    assert any("'sim0001'" in t and "no edge" in t for t in text)
    assert np.isfinite(res.e0[0]) and np.isnan(res.e0[1])


def test_real_spectra_have_no_glitches_removed(data_dir):
    """The spike rule leaves every measured Ni K spectrum here alone."""
    files = sorted((data_dir / "xanes").glob("*.xdi"))
    assert files
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = spectro.xanes.analyze(spectro.read(path), preedge="centroid")
        assert not (res.flags.values & int(XanesFlag.GLITCHES_REMOVED)).any(), path.name
