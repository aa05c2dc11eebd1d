"""The high-level analysis, its Dataset contract, the accessor, dask, and the CLI."""

import json
import warnings

import dataclasses

import numpy as np
import pytest

import spectro
from spectro.cli import main
from spectro.xanes import RESULTS, analyze

CONTRACT = (
    "e0",
    "e0_err",
    "e0_derivative",
    "e0_derivative_err",
    "e0_half",
    "edge_step",
    "preedge_centroid",
    "preedge_centroid_err",
    "preedge_area",
    "preedge_area_err",
    "preedge_height",
    "calibration_shift",
    "feature_c",
)


def test_results_follow_the_contract():
    ds = spectro.simulate.xanes(
        n_scans=3, pressure=[1.0, 5.0, 10.0], reference=True, seed=1
    )
    res = analyze(ds)
    for name in CONTRACT:
        assert res[name].dims == ("scan",)
        assert res[name].attrs["units"] == RESULTS[name][0]
        assert res[name].attrs["long_name"]
    assert res.norm.dims == ("scan", "energy") and res.flat.dims == ("scan", "energy")
    np.testing.assert_array_equal(res.pressure.values, [1.0, 5.0, 10.0])
    assert res.e0.attrs["level"] == 0.8


def test_recovers_the_simulated_truth():
    ds = spectro.simulate.xanes(
        valence=np.linspace(2, 3, 5),
        feature_c=np.linspace(0, 0.4, 5),
        n_scans=5,
        seed=2,
    )
    res = analyze(ds)
    np.testing.assert_allclose(res.e0.values, ds.true_e0.values, atol=0.02)
    np.testing.assert_allclose(
        res.preedge_centroid.values, ds.true_preedge_centroid.values, atol=0.05
    )
    assert np.isnan(res.calibration_shift.values).all()
    assert np.all(res.e0_half.values < res.e0.values)


def test_feature_c_tracks_its_amplitude():
    ds = spectro.simulate.xanes(feature_c=[0.0, 0.1, 0.3], n_scans=3, seed=3)
    fc = analyze(ds).feature_c.values
    np.testing.assert_allclose(fc - fc[0], [0.0, 0.1, 0.3], atol=0.01)


def test_dask_gives_the_same_answer():
    ds = spectro.simulate.xanes(n_scans=4, noise=0.005, reference=True, seed=4)
    eager = analyze(ds)
    lazy = analyze(ds.chunk({"scan": 2}))
    assert lazy.e0.chunks is not None
    np.testing.assert_allclose(lazy.e0.compute().values, eager.e0.values)


def test_accessor_is_the_function():
    ds = spectro.simulate.xanes(seed=5)
    np.testing.assert_array_equal(
        ds.xanes.analyze(level=0.7).e0.values, analyze(ds, level=0.7).e0.values
    )


def test_input_dataset_not_modified():
    ds = spectro.simulate.xanes(reference=True, seed=6)
    before = ds.copy(deep=True)
    analyze(ds)
    assert ds.identical(before)


def test_cli_json_on_xdi(data_file, capsys):
    path = str(data_file("xanes/ceric_NiO_111.xdi"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["xanes", path, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 1
    rec = records[0]
    assert set(rec) == {
        "file",
        "scan",
        "e0",
        "e0_err",
        "e0_derivative",
        "edge_step",
        "preedge_centroid",
        "preedge_centroid_err",
        "preedge_area",
        "calibration_shift",
        "flags",
    }
    assert rec["calibration_shift"] is not None
    assert 8340 < rec["e0"] < 8350


def test_cli_without_reference_channel_and_windows(data_file, capsys):
    path = str(data_file("xanes/ceric_NiO_111.xdi"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (
            main(
                [
                    "xanes",
                    path,
                    "--json",
                    "--no-reference-channel",
                    "--pre1",
                    "-120",
                    "--norm1",
                    "40",
                    "--nnorm",
                    "1",
                ]
            )
            == 0
        )
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["calibration_shift"] is None


def test_cli_missing_file_is_an_error(tmp_path, capsys):
    assert main(["xanes", str(tmp_path / "nope.xdi")]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_a_scan_without_pre_edge_is_nan_with_a_warning_others_unaffected():
    from spectro.errors import MissingRegionWarning

    ds = spectro.simulate.xanes(n_scans=2, seed=7)
    mu = ds.mu.values.copy()
    mu[1, :600] = np.nan  # no data below 8350 eV
    bad = ds.assign(mu=(("scan", "energy"), mu, ds.mu.attrs))
    with pytest.warns(MissingRegionWarning):
        res = analyze(bad)
    assert np.isnan(res.e0.values[1]) and np.isnan(res.edge_step.values[1])
    assert abs(res.e0.values[0] - ds.true_e0.values[0]) < 0.02


def test_warnings_name_the_file_and_scans():
    from spectro.errors import MissingRegionWarning

    ds = spectro.simulate.xanes(n_scans=2, seed=7)
    mu = ds.mu.values.copy()
    mu[1, :600] = np.nan
    with pytest.warns(
        MissingRegionWarning, match="spectro.simulate.xanes: scans 'sim0001'"
    ):
        analyze(ds.assign(mu=(("scan", "energy"), mu, ds.mu.attrs)))


def test_calibrated_analysis_recovers_truth_across_miscalibrations():
    n = 12
    ds = spectro.simulate.xanes(
        valence=np.linspace(2, 3, n),
        edge_shift=np.linspace(-0.6, 0.6, n),
        energy_offset=np.linspace(-1.3, 1.1, n),
        feature_c=np.linspace(0, 0.3, n),
        n_scans=n,
        reference=True,
        seed=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(ds)
    offset = ds.true_energy_offset.values
    np.testing.assert_allclose(res.e0.values, ds.true_e0.values - offset, atol=0.02)
    np.testing.assert_allclose(
        res.preedge_centroid.values, ds.true_preedge_centroid.values - offset, atol=0.05
    )


def test_model_free_preedge_option_matches_the_free_centroid_and_rejects_unknown():
    ds = spectro.simulate.xanes(valence=[2.0, 2.5, 3.0], n_scans=3, noise=0.002, seed=7)
    fast = spectro.xanes.analyze(ds, preedge="centroid")
    np.testing.assert_array_equal(fast.preedge_centroid.values, fast.preedge_centroid_free.values)
    np.testing.assert_array_equal(fast.preedge_centroid_err.values, fast.preedge_centroid_free_err.values)
    assert fast.preedge_centroid.attrs["method"].startswith("model-free")
    fitted = spectro.xanes.analyze(ds)
    fast_bias = np.abs(fast.preedge_centroid - ds.true_preedge_centroid).values
    fit_bias = np.abs(fitted.preedge_centroid - ds.true_preedge_centroid).values
    assert fast_bias.max() < 0.3 and fit_bias.max() < 0.05  # the documented price of speed
    with pytest.raises(spectro.errors.OptionError, match="preedge='spline' is not allowed: one of 'fit', 'centroid'"):
        spectro.xanes.analyze(ds, preedge="spline")


def test_spectra_with_missing_points_do_not_take_the_others_off_the_shared_grid_path():
    """Complete spectra get what they get on their own, and so do those with gaps."""
    from spectro.xanes import analyze_arrays

    ds = spectro.simulate.xanes(valence=np.linspace(2.0, 3.0, 6), n_scans=6, reference=True, noise=0.003, seed=3)
    e, mu, ref = ds.energy.values, ds.mu.values.copy(), ds.mu_ref.values
    mu[[1, 4], 300:310] = np.nan
    mixed = analyze_arrays(e, mu, ref, e0_anchor=8333.0, preedge="centroid")
    complete = np.isfinite(mu).all(axis=-1)
    for rows in (complete, ~complete):
        alone = analyze_arrays(e, mu[rows], ref[rows], e0_anchor=8333.0, preedge="centroid")
        for name in dataclasses.asdict(alone):
            np.testing.assert_array_equal(getattr(mixed, name)[rows], getattr(alone, name), err_msg=name)
    assert np.isfinite(mixed.e0).all() and mixed.norm.shape == mu.shape
