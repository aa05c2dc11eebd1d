"""A spectrum's XANES results do not depend on the other spectra it is analysed with.

The batch analyses the scans of many files in one array call, each row on
its own energies (padded with NaN). Every per-spectrum choice (fit-window
offsets, post-edge order, the search range of the crossings) must come from
the row itself, so stacking real spectra from different beamlines and
grids gives each one the results it gets alone.
"""

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.xanes.analyze import RESULTS, analyze_arrays

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
                stacked[name][i], alone[name][0], rtol=1e-9, atol=1e-9, err_msg=f"{FILES[i:i+1]} {name}"
            )
        n = len(e)
        np.testing.assert_allclose(stacked["norm"][i, :n], alone["norm"][0], rtol=1e-9, atol=1e-9)
        assert np.isnan(stacked["norm"][i, n:]).all()


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_post_edge_order_is_chosen_per_spectrum(rows):
    e, mu, _ = rows[0]
    short = e <= e[np.searchsorted(e, 8333.0)] + 100.0  # post-edge span below 300 eV
    stacked = _padded([(e, mu, None), (e[short], mu[short], None)])
    n = spectro.xanes.normalize_arrays(stacked[0], stacked[1])
    alone = [spectro.xanes.normalize_arrays(x, y) for x, y in ((e, mu), (e[short], mu[short]))]
    assert n.nnorm.tolist() == [int(a.nnorm) for a in alone] == [2, 1]
    np.testing.assert_allclose(n.edge_step, [a.edge_step for a in alone], rtol=1e-9)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_analyze_many_gives_each_file_what_analyze_gives_it(data_file):
    names = FILES + ["xanes/larch_NiO.prj"]
    datasets = [spectro.read(data_file(n)) for n in names]
    many = spectro.xanes.analyze_many(datasets, preedge="centroid")
    for name, ds, (res, _) in zip(names, datasets, many):
        alone = spectro.xanes.analyze(ds, preedge="centroid")
        assert list(res.data_vars) == list(alone.data_vars)
        assert set(res.coords) == set(alone.coords)
        assert res.attrs == alone.attrs
        for var in alone.data_vars:
            assert res[var].attrs == alone[var].attrs, (name, var)
            np.testing.assert_allclose(
                res[var].values, alone[var].values, rtol=1e-9, atol=1e-9, err_msg=f"{name} {var}"
            )


def test_analyze_many_returns_each_file_its_own_warnings():
    good = spectro.simulate.xanes(seed=0).assign_attrs(source_file="good.xdi")
    short = spectro.simulate.xanes(energy=np.arange(8300.0, 8360.0, 0.5), seed=1)
    short = short.assign_attrs(source_file="short.xdi")
    (_, w_good), (res, w_short) = spectro.xanes.analyze_many([good, short], preedge="centroid")
    assert w_good == []
    assert np.isnan(res.edge_step.values).all()
    assert any(str(w).startswith("short.xdi: scans 'sim0000': too few points") for w in w_short)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_files_as_parsed_arrays_give_what_their_datasets_give(data_file):
    paths = [data_file(n) for n in FILES + ["xanes/larch_NiO.prj"]]
    from_arrays = spectro.xanes.analyze_stacked([spectro.io.parse(p) for p in paths])
    from_datasets = spectro.xanes.analyze_stacked([spectro.read(p) for p in paths])
    np.testing.assert_array_equal(from_arrays.bounds, from_datasets.bounds)
    assert from_arrays.attrs == from_datasets.attrs and from_arrays.warnings == from_datasets.warnings
    for name, values in from_datasets.values.items():
        np.testing.assert_array_equal(from_arrays.values[name], values, err_msg=name)
    for i, path in enumerate(paths):
        xr.testing.assert_identical(from_arrays.dataset(i), from_datasets.dataset(i))
        assert "athena_label" in from_arrays.dataset(i).coords or path.suffix != ".prj"


def test_analyze_keeps_scalar_coordinates():
    ds = spectro.simulate.xanes(seed=0).assign_coords(cell=((), "DAC-1", {"units": "", "long_name": "cell"}))
    res = spectro.xanes.analyze(ds, preedge="centroid")
    assert res.cell.item() == "DAC-1" and list(res.coords)[:2] == ["scan", "energy"]


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["rising", "inverted"])
def test_derivative_e0_is_the_maximum_of_the_derivative_of_norm(rows, sign):
    from spectro.xanes.edge import e0_derivative_arrays
    from spectro.xanes.normalize import normalize_arrays

    energy, mu, _ = _padded(rows)
    got = analyze_arrays(energy, sign * mu, preedge="centroid")
    n = normalize_arrays(energy, sign * mu)
    want = e0_derivative_arrays(energy, n.norm, sigma=n.sigma)
    assert np.isfinite(want.e0).all() and np.isfinite(want.e0_err).all()
    np.testing.assert_allclose(got["e0_derivative"], want.e0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["e0_derivative_err"], want.e0_err, rtol=1e-9)
