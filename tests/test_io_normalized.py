"""Already-normalized input: recognised by its columns or said, marked on the Dataset, not normalized again."""

from __future__ import annotations

import json
import warnings

import h5py
import numpy as np
import pytest

import spectro
from spectro.batch.manifest import Job
from spectro.batch.pipeline import analyze_file
from spectro.cli import main
from spectro.errors import DataError, OptionError
from spectro.io.channels import NORMALIZED_MU, clean_label
from spectro.io.columns import parse_table, read_text
from spectro.options import AnalysisOptions, ReadOptions, XanesOptions
from spectro.xanes import XanesFlag, normalize_arrays


@pytest.fixture(scope="module")
def raw():
    """A simulated Ni K-edge scan with its foil, 1 eV off, and the analysis of its raw mu."""
    ds = spectro.simulate.xanes(seed=3, reference=True, energy_offset=1.0)
    return ds, spectro.xanes.analyze(ds, preedge="centroid")


def _export(path, energy, columns: dict[str, np.ndarray], sep: str = "\t"):
    """A processed-data export: a comment, a label line, the numbers with 8 decimals."""
    with open(path, "w") as fh:
        fh.write("# exported from a processing program\n# " + sep.join(["shifted energy", *columns]) + "\n")
        for row in zip(energy, *columns.values()):
            fh.write(sep.join(f"{v:.8f}" for v in row) + "\n")
    return path


def _normalized_export(tmp_path, raw, *, window=slice(None), name="norm", sep="\t"):
    ds, res = raw
    e = ds.energy.values
    ref = normalize_arrays(e, ds.mu_ref.values[0]).norm
    columns = {name: res.norm.values[0][window], "reference": ref[window]}
    return _export(tmp_path / "export.txt", e[window], columns, sep=sep)


def test_an_export_with_shifted_energy_norm_and_reference_is_read_and_marked(tmp_path, raw):
    ds = spectro.read(_normalized_export(tmp_path, raw))
    assert ds.attrs["normalized"] == 1
    assert (ds.attrs["energy_column"], ds.attrs["mu_column"], ds.attrs["mu_ref_column"]) == (
        "shifted energy", "norm", "reference")
    np.testing.assert_allclose(ds.mu.values[0], raw[1].norm.values[0], atol=5e-9)


def test_normalized_input_is_not_normalized_again(tmp_path, raw):
    ds = spectro.read(_normalized_export(tmp_path, raw))
    res = spectro.xanes.analyze(ds, preedge="centroid")
    _, want = raw
    assert res.edge_step.values.tolist() == [1.0] and res.edge_step_err.values.tolist() == [0.0]
    assert "edge step 1 by definition" in res.edge_step.attrs["method"] and res.attrs["normalized"] == 1
    np.testing.assert_array_equal(res.norm.values, ds.mu.values)
    np.testing.assert_array_equal(res.flat.values, ds.mu.values)
    assert np.isnan(res[["pre1", "pre2", "norm1", "norm2"]].to_array().values).all()
    assert res.nnorm.values.tolist() == [0] and res.flags.values.tolist() == [0]
    # the numbers of the raw spectrum's analysis, from its normalized export (8 decimals written)
    for name in ("e0", "e0_half", "e0_derivative", "calibration_shift", "preedge_centroid"):
        assert float(res[name][0]) == pytest.approx(float(want[name][0]), abs=1e-4), name
    assert float(res.feature_c[0]) == pytest.approx(float(want.feature_c[0]), abs=1e-6)
    assert float(res.calibration_shift[0]) == pytest.approx(-1.0, abs=0.02)


def test_a_xanes_only_export_is_analysed_where_normalizing_again_fails(tmp_path, raw):
    """-25 to +60 eV around the edge: no pre-edge window to normalize on, nothing needed."""
    e = raw[0].energy.values
    e0 = float(raw[1].e0_anchor[0])
    path = _normalized_export(tmp_path, raw, window=(e > e0 - 25) & (e < e0 + 60))
    res = spectro.xanes.analyze(spectro.read(path), preedge="centroid")
    assert res.flags.values.tolist() == [0]
    assert float(res.e0[0]) == pytest.approx(float(raw[1].e0[0]), abs=1e-4)
    with pytest.warns(spectro.errors.MissingRegionWarning):
        again = spectro.xanes.analyze(spectro.read(path, normalized=False), preedge="centroid")
    assert again.flags.values[0] & XanesFlag.NORMALIZATION_FAILED and np.isnan(again.e0.values[0])
    assert "normalized" not in spectro.read(path, normalized=False).attrs


@pytest.mark.parametrize("label", ["norm", "Norm", "normalized", "flat", "normalized (a.u.)", "NORMALISED"])
def test_normalized_column_names_are_recognised(tmp_path, raw, label):
    ds = spectro.read(_normalized_export(tmp_path, raw, name=label, sep="  "))
    assert ds.attrs["normalized"] == 1 and ds.attrs["mu_column"] == label
    assert clean_label(label) in NORMALIZED_MU


def test_raw_mu_is_preferred_to_a_normalized_column_and_can_be_declared_normalized(tmp_path, raw):
    ds, res = raw
    e = ds.energy.values
    path = _export(tmp_path / "both.txt", e, {"mu": ds.mu.values[0], "flat": res.flat.values[0]})
    read = spectro.read(path)
    assert read.attrs["mu_column"] == "mu" and "normalized" not in read.attrs
    assert spectro.xanes.analyze(read).edge_step.values[0] == pytest.approx(float(res.edge_step[0]), rel=1e-6)
    flat = spectro.read(path, mu="flat")
    assert flat.attrs["normalized"] == 1
    said = spectro.read(path, normalized=True)
    assert said.attrs["mu_column"] == "mu" and said.attrs["normalized"] == 1
    with pytest.warns(spectro.errors.SpectroWarning, match="no crossing of the edge level"):
        wrongly = spectro.xanes.analyze(said)  # raw mu said normalized: taken at its word
    edge_flags = wrongly.flags.values[0] & (XanesFlag.NORMALIZATION_FAILED | XanesFlag.E0_NOT_FOUND)
    assert wrongly.edge_step.values.tolist() == [1.0] and edge_flags == XanesFlag.E0_NOT_FOUND


def test_the_option_from_every_door(tmp_path, raw, capsys):
    assert ReadOptions(normalized="yes").normalized is True and ReadOptions(normalized="none").normalized is None
    with pytest.raises(OptionError, match="normalized='maybe' is not allowed: yes, no or none"):
        ReadOptions(normalized="maybe")
    (tmp_path / "mu").mkdir()
    named_mu = _normalized_export(tmp_path / "mu", raw, name="mu")
    named_norm = _normalized_export(tmp_path, raw, name="norm")
    for path, flags, normalized in ((named_mu, [], False), (named_mu, ["--normalized"], True),
                                    (named_norm, [], True), (named_norm, ["--no-normalized"], False)):
        assert main(["xanes", str(path), *flags, "--json"]) == 0
        row = json.loads(capsys.readouterr().out)[0]
        assert (row["edge_step"] == 1.0) is normalized, (path.parent.name, flags)
    manifest_row = ReadOptions.from_mapping({"normalized": "yes"}, door="manifest")
    assert spectro.xanes.analyze(spectro.read(named_mu, manifest_row)).edge_step.values.tolist() == [1.0]


def test_the_batch_does_not_normalize_again(tmp_path, raw):
    path = _normalized_export(tmp_path, raw)
    options = AnalysisOptions(xanes=XanesOptions(preedge="centroid"), valence=None)
    outcome = analyze_file(Job(path), options)
    want = spectro.xanes.analyze(spectro.read(path), options.xanes)
    assert outcome.results["edge_step"].tolist() == [1.0]
    assert outcome.results.results["edge_step"].attrs == dict(want.edge_step.attrs)
    assert outcome.results["e0"].tolist() == want.e0.values.tolist()


def test_scans_normalized_and_not_together_are_refused(raw):
    ds, _ = raw
    two = spectro.simulate.xanes(seed=4, n_scans=2)
    mixed = two.assign_coords(scan_normalized=("scan", [1.0, np.nan], {"units": "", "long_name": "normalized"}))
    with pytest.raises(DataError, match=r"scans \['sim0000'\] are already normalized and the others are not"):
        spectro.xanes.analyze(mixed)


def test_a_reader_without_columns_refuses_the_option(data_file):
    with pytest.raises(OptionError, match="normalized.*not used by the athena reader"):
        spectro.read(data_file("xanes/larch_NiO.prj"), normalized=True)


def test_a_nexus_intensity_said_normalized_is_marked(tmp_path, raw):
    ds, res = raw
    path = tmp_path / "norm.h5"
    with h5py.File(path, "w") as h5:
        entry = h5.create_group("scan1")
        entry.attrs["NX_class"] = "NXentry"
        entry.create_dataset("energy", data=ds.energy.values).attrs["units"] = "eV"
        entry["intensity"] = res.norm.values[0]
        entry["element/symbol"], entry["edge/name"] = "Ni", "K"
    assert "normalized" not in spectro.read(path).attrs
    assert spectro.read(path, normalized=True).attrs["normalized"] == 1


def test_the_real_c_k_edge_export_is_refused_for_its_energies_with_its_norm_column_recognised(data_file):
    """demeter_prenorm_xanes.dat: a normalized C K edge (275-325 eV), below the 1-100 keV the model takes."""
    path = data_file("copyleft-test-inputs/formats/demeter_prenorm_xanes.dat")
    with pytest.raises(DataError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spectro.read(path)
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert "274.87 to 324.68 eV, outside the 1-100 keV X-ray range" in message
    table = parse_table(read_text(path))
    assert table.labels == ["eV", "Norm"] and clean_label(table.labels[1]) in NORMALIZED_MU
