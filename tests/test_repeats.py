"""Repeated scans against their own errors: groups, chi2/dof, the widened errors, and ``spectro repeats``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr

from spectro.cli import main
from spectro.repeats import repeat_groups, repeat_scatter, repeat_table


def test_chi2_of_repeats_drawn_with_their_errors_is_near_one(rng):
    """Simulated repeats: 200 groups of 5 scans with their true errors give chi2/dof about 1 (mean 1 +- 0.03);
    the same scans with errors halved give about 4, and the widened errors bring the group's chi2 back to 1."""
    s = rng.uniform(0.01, 0.05, (200, 5))
    x = 8345.0 + rng.normal(0.0, s)
    res = xr.Dataset({"e0": ("scan", x.ravel()), "e0_err_scan": ("scan", s.ravel())},
                     coords={"sample": ("scan", np.repeat([f"s{i}" for i in range(200)], 5))})
    table = repeat_table(res, repeat_groups(res), name="e0")
    assert table.sizes["group"] == 200 and np.all(table.n == 5)
    assert abs(float(table.e0_chi2.mean()) - 1.0) < 0.1
    halved = res.assign(e0_err_scan=res.e0_err_scan / 2)
    before = repeat_table(halved, name="e0")
    assert abs(float(before.e0_chi2.mean()) - 4.0) < 0.4
    widened = repeat_scatter(halved.assign(e0_err=halved.e0_err_scan), "sample", name="e0")
    after = repeat_table(widened.drop_vars("e0_err_scan"), name="e0")  # on the widened e0_err
    np.testing.assert_allclose(after.e0_chi2, np.minimum(before.e0_chi2, 1.0), rtol=1e-9)


def test_groups_merges_and_copies():
    res = xr.Dataset(
        {"e0": ("spectrum", [1.0, 1.0, 1.2, 0.9, 5.0, 5.5]),
         "e0_err": ("spectrum", [0.1, 0.1, 0.1, 0.1, 0.2, 0.2])},
        coords={"file": ("spectrum", ["a.prj"] * 4 + ["b.xdi", "c.xdi"]),
                "sample": ("spectrum", ["", "", "", "", "NiS", "NiS"]),
                "pressure": ("spectrum", [np.nan] * 4 + [1.0, 2.0]),
                "athena_is_merge": ("spectrum", [0.0, 0.0, 0.0, 1.0, np.nan, np.nan])})
    groups = repeat_groups(res)
    assert groups.tolist() == ["file=a.prj"] * 3 + ["", "sample=NiS; pressure=1.0", "sample=NiS; pressure=2.0"]
    table = repeat_table(res, groups, name="e0")
    first = table.sel(group="file=a.prj")
    assert int(first.n) == 2 and int(first.copies) == 1  # the scan loaded twice counts once; the merge not at all
    assert float(first.e0_chi2) == pytest.approx(2.0)  # 1.0 and 1.2 about 1.1, errors 0.1, one dof
    assert float(first.e0_mean_err) == pytest.approx(0.1 / np.sqrt(2) * np.sqrt(2.0))
    assert table.attrs["error"] == "e0_err"
    assert np.isnan(table.sel(group="sample=NiS; pressure=1.0").e0_chi2)  # one scan: no chi2
    widened = repeat_scatter(res, groups, name="e0")  # no budget: e0_err is each scan's own error
    np.testing.assert_allclose(widened.e0_err.values, [0.1 * np.sqrt(2.0)] * 3 + [0.1, 0.2, 0.2])


@pytest.mark.realdata
def test_spectro_repeats_on_a_batch_of_real_repeats(data_dir, tmp_path, monkeypatch, capsys):
    """The NiO project's ten scans, and three XASLIB "Ni2O3" and NiS scans each (BM08 anchors, --budget): the
    command's chi2/dof are the module's; NiS repeats agree with their errors, "Ni2O3" and the NiO project do not
    (docs/uncertainty.md); --out widens every scan's errors by its group's scatter."""
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    files = [data_dir / "xanes/larch_NiO.prj", *(data_dir / f"xanes/xaslib_{c}_rt_0{i}.xdi"
                                                 for c in ("Ni2O3", "NiS") for i in (1, 2, 3))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["batch", "--budget", *map(str, files), "-o", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    results = tmp_path / "b" / "results.nc"
    out = tmp_path / "widened.nc"
    assert main(["repeats", str(results), "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    res = xr.load_dataset(results)
    for name in ("valence", "e0"):
        table = repeat_table(res, name=name)
        rows = {r["group"]: r for r in doc["results"][name]}
        assert set(rows) == {str(g) for g in table.group.values}
        for g in table.group.values:
            assert rows[str(g)]["chi2"] == pytest.approx(float(table[f"{name}_chi2"].sel(group=g)), rel=1e-12)
            assert rows[str(g)]["errors"] == f"{name}_err_scan"
    e0 = {r["group"].split("=")[1].split()[0]: r for r in doc["results"]["e0"]}
    nio = e0[str(files[0])]
    assert nio["n"] == 10 and nio["copies"] == 1  # the merge left out, the group loaded twice counted once
    assert 0.3 < e0["NiS"]["chi2"] < 3.0 and e0["Ni2O3"]["chi2"] > 100 and nio["chi2"] > 3.0
    widened = xr.load_dataset(out)
    expected = repeat_scatter(res, repeat_groups(res), name="e0")
    np.testing.assert_allclose(widened.e0_err, expected.e0_err, rtol=1e-12)
    assert np.all(widened.e0_err.values[np.isfinite(res.e0_err.values)] >= res.e0_err.values[
        np.isfinite(res.e0_err.values)])


def test_spectro_repeats_refuses_a_file_without_the_results(tmp_path, capsys):
    path = tmp_path / "r.nc"
    xr.Dataset({"x": ("scan", [1.0])}).to_netcdf(path, engine="h5netcdf")
    assert main(["repeats", str(path)]) == 2
    assert "holds none of valence, e0" in capsys.readouterr().err
    (tmp_path / "bad.nc").write_text("not netcdf")
    assert main(["repeats", str(tmp_path / "bad.nc")]) == 2
