"""A spectrum's XANES results do not depend on the other spectra it is analysed with.

Every per-spectrum choice (fit-window offsets, post-edge order, the origin
of the normalization polynomials, the search range of the crossings) comes
from the row itself. Spectra on one shared grid (the scans of a file, the
chunks of a dask array) get the same numbers to the bit whatever rows share
the call; rows on their own energies padded with NaN get the same numbers
to rounding (sums over padded rows are grouped differently).
"""

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.xanes._analyze import RESULTS, analyze_arrays

FILES = [
    "xanes/ceric_NiO_111.xdi",
    "xanes/ceric_LaNiO3_Ni_80K_111.xdi",
    "xanes/ceric_Ni_foil_111.xdi",
    "xanes/larch_ni_metal_rt.xdi",
    "xanes/xaslib_Ni_metal_rt_01.xdi",
]


def _rows(data_file):
    rows = []
    for name in FILES:
        ds = spectro.read(data_file(name)).isel(scan=0)
        ok = np.isfinite(ds.mu.values)
        ref = ds.mu_ref.values[ok] if "mu_ref" in ds else None
        rows.append((ds.energy.values[ok], ds.mu.values[ok], ref))
    energy = np.arange(8150.0, 8800.0, 0.3)
    sim = spectro.simulate.xanes(energy=energy, reference=True, noise=0.002, seed=4).isel(scan=0)
    rows.append((sim.energy.values, sim.mu.values, sim.mu_ref.values))
    return rows


def _padded(rows):
    width = max(len(e) for e, _, _ in rows)
    out = np.full((3, len(rows), width), np.nan)
    for i, (e, mu, ref) in enumerate(rows):
        out[0, i, : len(e)] = e
        out[1, i, : len(e)] = mu
        if ref is not None:
            out[2, i, : len(e)] = ref
    return out


@pytest.fixture
def rows(data_file):
    return _rows(data_file)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_stacked_rows_give_each_row_its_own_results(rows):
    energy, mu, ref = _padded(rows)
    stacked = analyze_arrays(energy, mu, ref, preedge="centroid")
    for i, (e, m, r) in enumerate(rows):
        alone = analyze_arrays(e, m[None], None if r is None else r[None], preedge="centroid")
        for name in RESULTS:
            np.testing.assert_allclose(
                getattr(stacked, name)[i], getattr(alone, name)[0], rtol=1e-9, atol=1e-9,
                err_msg=f"{FILES[i:i+1]} {name}",
            )
        n = len(e)
        np.testing.assert_allclose(stacked.norm[i, :n], alone.norm[0], rtol=1e-9, atol=1e-9)
        assert np.isnan(stacked.norm[i, n:]).all()


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
@pytest.mark.parametrize("preedge", ["centroid", "fit"])
def test_rows_on_a_shared_grid_get_the_same_bits_in_any_company(data_file, preedge):
    """Real scans on one grid, alone, in any subset: identical bits (what a dask chunk of scans sees)."""
    ds = spectro.read(data_file("xanes/larch_NiO.prj"))
    e = ds.energy.values[np.isfinite(ds.mu.values[0])]
    m, r = (np.array([np.interp(e, ds.energy.values[np.isfinite(row)], row[np.isfinite(row)]) for row in v])
            for v in (ds.mu.values, ds.mu_ref.values))
    whole = analyze_arrays(e, m, r, preedge=preedge)
    assert np.isfinite(whole.e0).all() and m.shape[0] > 10
    for rows in ([0], [3, 1], list(range(1, m.shape[0], 2))):
        part = analyze_arrays(e, m[rows], r[rows], preedge=preedge)
        for name in RESULTS:
            np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[rows], err_msg=name)
        np.testing.assert_array_equal(part.norm, whole.norm[rows])


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_post_edge_order_is_chosen_per_spectrum(rows):
    e, mu, _ = rows[0]
    short = e <= e[np.searchsorted(e, 8333.0)] + 100.0  # post-edge span below 300 eV
    stacked = _padded([(e, mu, None), (e[short], mu[short], None)])
    n = spectro.xanes.normalize_arrays(stacked[0], stacked[1])
    alone = [spectro.xanes.normalize_arrays(x, y) for x, y in ((e, mu), (e[short], mu[short]))]
    assert n.nnorm.tolist() == [int(a.nnorm) for a in alone] == [2, 1]
    np.testing.assert_allclose(n.edge_step, [a.edge_step for a in alone], rtol=1e-9)


def test_analyze_keeps_scalar_coordinates():
    ds = spectro.simulate.xanes(seed=0).assign_coords(cell=((), "DAC-1", {"units": "", "long_name": "cell"}))
    res = spectro.xanes.analyze(ds, preedge="centroid")
    assert res.cell.item() == "DAC-1" and list(res.coords)[:2] == ["scan", "energy"]


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_derivative_e0_is_the_maximum_of_the_derivative_of_norm(rows):
    from spectro.xanes.edge import e0_derivative_arrays
    from spectro.xanes._normalize import normalize_arrays

    energy, mu, _ = _padded(rows)
    got = analyze_arrays(energy, mu, preedge="centroid")
    n = normalize_arrays(energy, mu)
    want = e0_derivative_arrays(energy, n.norm, sigma=n.sigma)
    assert np.isfinite(want.e0).all() and np.isfinite(want.e0_err).all()
    np.testing.assert_allclose(got.e0_derivative, want.e0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.e0_derivative_err, want.e0_err, rtol=1e-9)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_an_inverted_edge_has_no_derivative_e0(rows):
    from spectro.xanes import XanesFlag

    energy, mu, _ = _padded(rows)
    got = analyze_arrays(energy, -mu, preedge="centroid")
    assert np.isnan(got.e0_derivative).all() and np.isnan(got.e0).all()
    assert (got.flags & int(XanesFlag.NO_EDGE)).all()
