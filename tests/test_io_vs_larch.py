"""spectro's readers against xraylarch's on the same files.

For every text file that both read, the energy and mu spectro returns must
equal what spectro's documented rules give when applied to the columns
larch parsed (same column, same formula, same grid cleaning). Where larch
is known to be wrong (keV energies left unconverted, an event counter taken
as the energy), the physically right answer is asserted instead.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.grid import clean_grid
from spectro.io.units import angle_to_energy

# (file, larch reader) pairs where larch's first column and column order are right
AGREE = [
    ("xanes/larch_ni_metal_rt.xdi", "xdi"),
    ("xanes/xaslib_Ni_metal_rt_01.xdi", "xdi"),
    ("xanes/xaslib_NiS_rt_01.xdi", "xdi"),
    ("xanes/xaslib_Ni2O3_rt_02.xdi", "xdi"),
    ("xanes/ceric_NiO_111.xdi", "xdi"),
    ("xanes/ceric_LaNiO3_Ni_80K_111.xdi", "xdi"),
    ("xanes/ceric_Ni_foil_111.xdi", "xdi"),
    ("formats/ceric_NiFe2O4_Fe_80K_111.xdi", "xdi"),
    ("formats/larch_fe_xanes_8ch.xdi", "xdi"),
    ("xanes/xasref_Ni foil Ni K.dat", "ascii"),
    ("formats/larch_APS10BM_2019.dat", "ascii"),
    ("formats/larch_APS13ID_2008.dat", "ascii"),
    ("formats/larch_APS13ID_2019.dat", "ascii"),
    ("formats/larch_APS20BM_2001.dat", "ascii"),
    ("formats/larch_APS20ID_2022.dat", "ascii"),
    ("formats/larch_APS9BM_2019.dat", "ascii"),
    ("formats/larch_ESRF_BM08_LISA_2021.dat", "ascii"),
    ("formats/larch_NSLS6BM_2019.dat", "ascii"),
    ("formats/larch_NSLS_XDAC_2011.dat", "ascii"),
    ("formats/larch_incomplete_label.dat", "ascii"),
    ("formats/larch_mn_cpmnco3.dat", "ascii"),
    ("copyleft-test-inputs/formats/demeter_Calibração.060", "ascii"),
    ("copyleft-test-inputs/formats/demeter_kev.dat", "ascii"),
    ("copyleft-test-inputs/xanes/xanespy_NCA_xanes.csv", "ascii"),
    (
        "copyleft-test-inputs/xanes/xanespy_NCA-cell2-soc1-fov1-xanesspectrum.tsv",
        "ascii",
    ),
]


def quiet_read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path, **options)


def larch_table(larch, path, reader):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if reader == "xdi":
            return np.asarray(larch.io.read_xdi(str(path)).data, dtype=float)
        return np.asarray(larch.io.read_ascii(str(path)).data, dtype=float)


@np.errstate(divide="ignore", invalid="ignore")
def expected(ds, data):
    """Energy and signals from larch's columns by spectro's documented rules."""
    cols = list(ds.attrs["columns"])
    a = ds.attrs
    col = {lb: data[i] for i, lb in enumerate(cols)}
    energy = col[a["energy_column"]]
    energy = {"eV": energy, "keV": energy * 1000.0}.get(a["energy_units_in"])
    if energy is None:
        energy = angle_to_energy(col[a["energy_column"]], a["d_spacing"])
    if a["mode"] == "mu":
        mu = col[a["mu_column"]]
    elif a["mode"] == "transmission":
        mu = np.log(col[a["i0_column"]] / col[a["itrans_column"]])
    else:
        mu = col[a["ifluor_column"]] / col[a["i0_column"]]
    signals = {"mu": mu}
    if "mu_ref_column" in a:
        signals["mu_ref"] = col[a["mu_ref_column"]]
    elif "irefer_column" in a:
        signals["mu_ref"] = np.log(col[a["itrans_column"]] / col[a["irefer_column"]])
    if "mu_ref" in signals:
        signals["mu_ref"] = np.where(
            np.isfinite(signals["mu_ref"]), signals["mu_ref"], np.nan
        )
    keep = np.isfinite(energy) & np.isfinite(mu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clean_grid(energy[keep], {k: v[keep] for k, v in signals.items()})


@pytest.mark.parametrize("rel, reader", AGREE, ids=[r for r, _ in AGREE])
def test_energy_and_mu_agree_with_larch(larch, data_file, rel, reader):
    path = data_file(rel)
    ds = quiet_read(path)
    data = larch_table(larch, path, reader)
    assert data.shape[0] == len(ds.attrs["columns"])
    energy, signals = expected(ds, data)
    np.testing.assert_allclose(ds.energy.values, energy, rtol=1e-12)
    for name, values in signals.items():
        np.testing.assert_allclose(ds[name].values[0], values, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "rel, reader, options",
    [
        ("copyleft-test-inputs/formats/demeter_CR.dat", "ascii", {}),
        ("formats/larch_APS12BM_2019.dat", "ascii", {"mu": "8_mu01"}),
    ],
)
def test_larch_leaves_kev_unconverted(larch, data_file, rel, reader, options):
    path = data_file(rel)
    data = larch_table(larch, path, reader)
    assert (
        data[0].max() < 100.0
    )  # larch: keV numbers taken as eV (not an X-ray energy in eV)
    ds = quiet_read(path, **options)
    assert ds.attrs["energy_units_in"] == "keV"
    energy, _ = expected(ds, data)
    np.testing.assert_allclose(ds.energy.values, energy, rtol=1e-12)
    assert ds.energy.values.min() > 1000.0


def test_larch_spec_reader_kev_zap_energy(larch, data_file):
    path = data_file("formats/larch_ESRF_SNBL_2013.dat")
    ds = quiet_read(path, i0="Ion1", itrans="Ion2")
    for k, scan in enumerate((1, 2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = larch.io.read_specfile(str(path), scan=scan)
        labels = list(g.array_labels)
        zap = np.asarray(g.data[labels.index("ZapEnergy")], dtype=float)
        assert zap.max() < 20.0  # keV, as stored
        mu = np.log(g.data[labels.index("Ion1")] / g.data[labels.index("Ion2")])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            energy, signals = clean_grid(zap * 1000.0, {"mu": mu})
        row = ds.mu.isel(scan=k)
        ok = np.isfinite(row.values)
        # larch's SPEC reader returns float32 columns: agreement to float32 precision
        np.testing.assert_allclose(ds.energy.values[ok], energy, rtol=1e-7)
        np.testing.assert_allclose(row.values[ok], signals["mu"], rtol=1e-6)


def test_larch_takes_event_id_as_energy(larch, data_file):
    path = data_file("copyleft-test-inputs/formats/demeter_ORP5.000")
    data = larch_table(larch, path, "ascii")
    assert np.all(data[0] == 1.0)  # larch's first column: the CLS Event-ID
    ds = quiet_read(path)
    energy, _ = expected(ds, data)
    np.testing.assert_allclose(ds.energy.values, energy, rtol=1e-12)
    assert 9000.0 < ds.energy.values.min()


def test_same_measurement_two_encodings(data_file):
    """larch_ni_metal_rt.xdi stores mutrans; XASLIB's copy stores i0 and itrans."""
    a = quiet_read(data_file("xanes/larch_ni_metal_rt.xdi"))
    b = quiet_read(data_file("xanes/xaslib_Ni_metal_rt_01.xdi"))
    assert a.attrs["mode"] == "mu" and b.attrs["mode"] == "transmission"
    np.testing.assert_array_equal(a.energy.values, b.energy.values)
    # itrans was back-computed from mutrans and printed to ~1e-6 relative: agreement to 1e-9 absolute
    np.testing.assert_allclose(a.mu.values, b.mu.values, rtol=0, atol=1e-9)
