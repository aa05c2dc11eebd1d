"""The data model: build() and each rule of validate()."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import GridWarning, ValidationError
from spectro.model import (
    ENERGY_DIMS,
    SCAN_COORDS,
    Scan,
    Spectra,
    build,
    energy_dim,
    kind_of,
    validate,
)

E = np.linspace(8300.0, 8400.0, 51)


def xanes_ds():
    return build(
        [
            Scan(
                E,
                {"mu": np.tanh((E - 8345) / 3), "mu_ref": np.tanh((E - 8333) / 3)},
                "1",
            )
        ],
        kind="xanes",
    )


def xes_ds():
    e = np.linspace(8240.0, 8280.0, 81)
    return build(
        [Scan(e, {"intensity": np.exp(-(((e - 8265) / 2) ** 2)) * 1e4}, "k")],
        kind="xes",
    )


def test_built_datasets_are_valid():
    for ds in (xanes_ds(), xes_ds()):
        assert validate(ds) is ds
    assert energy_dim(xes_ds()) == "emission_energy" and kind_of(xanes_ds()) == "xanes"


def test_build_fills_coordinates_and_units():
    ds = xanes_ds()
    for name, (units, long_name, _) in SCAN_COORDS.items():
        assert ds[name].attrs == {"units": units, "long_name": long_name}
    assert np.isnan(ds.pressure[0]) and ds.run.values[0] == ""
    assert ds.mu.attrs["units"] == "1" and ds.energy.attrs["units"] == "eV"


def test_build_union_grid_and_per_scan_attrs():
    e1, e2 = E[::2], E[1::2]
    ds = build(
        [
            Scan(e1, {"mu": e1 * 0}, "a", attrs={"mode": "mu", "shift": 1.0}),
            Scan(e2, {"mu": e2 * 0}, "b", attrs={"mode": "mu", "shift": 2.0}),
        ],
        kind="xanes",
        file="x.dat",
    )
    np.testing.assert_array_equal(ds.energy, np.sort(np.concatenate([e1, e2])))
    assert np.isnan(ds.mu.sel(scan="a").values[1::2]).all()
    assert ds.attrs["mode"] == "mu"
    assert (
        ds.scan_shift.values.tolist() == [1.0, 2.0]
        and ds.scan_shift.attrs["units"] == "eV"
    )
    assert ds.source.values.tolist() == ["x.dat", "x.dat"]


def test_build_sorts_with_warning():
    with pytest.warns(GridWarning):
        ds = build([Scan(E[::-1], {"mu": E[::-1]}, "1")], kind="xanes")
    np.testing.assert_array_equal(ds.mu.values[0], E)


@pytest.mark.parametrize(
    "kind, scans", [("xafs", [Scan(E, {"mu": E}, "1")]), ("xanes", [])]
)
def test_build_refuses_bad_arguments(kind, scans):
    with pytest.raises(ValidationError):
        build(scans, kind=kind)


def _broken(change):
    ds = xanes_ds().copy(deep=True)
    return change(ds)


def _set_attr(ds, var, key, value):
    ds[var].attrs[key] = value
    return ds


def _drop_attr(ds, var, key):
    del ds[var].attrs[key]
    return ds


RULES = [
    ("missing variable 'mu'", lambda ds: ds.drop_vars("mu")),
    ("'mu' has dims", lambda ds: ds.assign(mu=ds.mu.isel(scan=0))),
    (
        "'mu' has dtype",
        lambda ds: ds.assign(mu=ds.mu.fillna(0).astype(int).assign_attrs(ds.mu.attrs)),
    ),
    (
        "'mu_ref' has dtype",
        lambda ds: ds.assign(
            mu_ref=ds.mu_ref.astype(int).assign_attrs(ds.mu_ref.attrs)
        ),
    ),
    ("must have units 'eV'", lambda ds: _set_attr(ds, "energy", "units", "keV")),
    (
        "non-finite values",
        lambda ds: ds.assign_coords(
            energy=("energy", np.r_[E[:-1], np.nan], ds.energy.attrs)
        ),
    ),
    (
        "not strictly increasing",
        lambda ds: ds.assign_coords(
            energy=("energy", np.r_[E[:-1], E[-2]], ds.energy.attrs)
        ),
    ),
    ("missing per-scan coordinate 'pressure'", lambda ds: ds.drop_vars("pressure")),
    (
        "coordinate 'temperature' must be along 'scan'",
        lambda ds: ds.assign_coords(
            temperature=("energy", np.zeros(E.size), ds.temperature.attrs)
        ),
    ),
    ("'mu' lacks attrs ['units']", lambda ds: _drop_attr(ds, "mu", "units")),
    (
        "'pressure' lacks attrs ['long_name']",
        lambda ds: _drop_attr(ds, "pressure", "long_name"),
    ),
    ("missing dimension 'scan'", lambda ds: ds.isel(scan=0)),
]


@pytest.mark.parametrize("message, change", RULES, ids=[m for m, _ in RULES])
def test_each_rule_raises(message, change):
    ds = _broken(change)
    with pytest.raises(
        ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        validate(ds)


def test_all_problems_listed_at_once():
    ds = xanes_ds().drop_vars(["mu", "pressure"])
    with pytest.raises(ValidationError) as info:
        validate(ds)
    assert "missing variable 'mu'" in str(info.value) and "'pressure'" in str(
        info.value
    )


def test_xes_rules():
    ds = xes_ds()
    with pytest.raises(ValidationError, match="missing variable 'intensity'"):
        validate(ds.drop_vars("intensity"))
    ds.emission_energy.attrs["units"] = "keV"
    with pytest.raises(ValidationError, match="'emission_energy' must have units 'eV'"):
        validate(ds)


def test_kind_unknown():
    import xarray as xr

    with pytest.raises(ValidationError, match="not a spectro Dataset"):
        kind_of(xr.Dataset({"x": ("t", [1.0])}))
    assert set(ENERGY_DIMS) == {"xanes", "xes"}


def test_read_output_is_valid(tmp_path):
    path = tmp_path / "a.dat"
    path.write_text(
        "# energy i0 it\n" + "".join(f"{e} 1000 {500 + i}\n" for i, e in enumerate(E))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = spectro.read(path)
    validate(ds)


def test_spectra_with_values_leaves_the_original_and_the_attrs():
    sp = Spectra.from_scans([Scan(E, {"mu": E * 0}, "a"), Scan(E, {"mu": E * 0}, "b")], kind="xanes")
    new = sp.with_values(pressure=3.0, run="r2")
    assert new.coords["pressure"][0].tolist() == [3.0, 3.0] and new.coords["run"][0].tolist() == ["r2", "r2"]
    assert new.coords["pressure"][1] == {"units": "GPa", "long_name": "pressure"}
    assert np.isnan(sp.coords["pressure"][0]).all() and sp.coords["run"][0].tolist() == ["", ""]
    ds = new.to_dataset()
    assert ds.pressure.values.tolist() == [3.0, 3.0] and ds.pressure.attrs["units"] == "GPa"


def test_spectra_from_a_transposed_dataset_gives_scan_rows():
    ds = build([Scan(E, {"mu": E - E[0]}, "a"), Scan(E, {"mu": 2 * (E - E[0])}, "b")], kind="xanes")
    sp = Spectra.from_dataset(ds.transpose("energy", "scan"))
    np.testing.assert_array_equal(sp.signals["mu"][0], ds.mu.values)
    assert sp.labels.tolist() == ["a", "b"] and sp.file == ""

