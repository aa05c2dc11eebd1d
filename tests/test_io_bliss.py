"""ESRF BLISS and Sardana HDF5 scans, on files made to the BLISS NeXus writer's layout and on real files."""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

import spectro
from spectro.errors import ColumnError, FormatError, LimitError, SpectroError
from spectro.io import sniff_format

#: The simulated Ni K-edge scan every BLISS file here is made of.
SIM = spectro.simulate.xanes(seed=7, reference=True, energy_offset=0.5)
E = SIM.energy.values
MU = SIM.mu.values[0]
MU_REF = SIM.mu_ref.values[0]
I0 = 2.0e5 * (1 + 0.1 * np.sin(E / 40.0))
I1 = I0 * np.exp(-MU)
I2 = I1 * np.exp(-MU_REF)


def _scan(h5, name, counters, *, title="", start="2025-03-01T10:00:00", units=None, positioners=()):
    """A scan group as the BLISS writer makes it: data in instrument, measurement links to it."""
    group = h5.create_group(name)
    group.attrs["NX_class"] = "NXentry"
    group["title"] = title
    group["start_time"] = start
    group["end_time"] = start
    inst = group.create_group("instrument")
    inst.attrs["NX_class"] = "NXinstrument"
    meas = group.create_group("measurement")
    meas.attrs["NX_class"] = "NXcollection"
    for key, values in counters.items():
        kind, field = ("NXpositioner", "value") if key in positioners else ("NXdetector", "data")
        det = inst.create_group(key)
        det.attrs["NX_class"] = kind
        dset = det.create_dataset(field, data=values)
        if units and key in units:
            dset.attrs["units"] = units[key]
        meas[key] = h5py.SoftLink(dset.name)
    return group


@pytest.fixture
def bliss_file(tmp_path):
    """Scan 1.1 a XAS scan in keV with ion chambers; 2.1 an alignment scan; 3.1 mu counters in eV; 3.2 a sub-scan."""
    path = tmp_path / "sample_0001.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs["NX_class"] = "NXroot"
        h5.attrs["creator"] = "Bliss"
        _scan(h5, "1.1", {"energy_enc": E / 1000.0, "I0": I0, "I1": I1, "I2": I2, "epoch": np.arange(E.size) + 1.7e9},
              title="contscan.motor energy 8.2 8.7 500 0.1", units={"energy_enc": "keV"},
              positioners=("energy_enc",))
        _scan(h5, "2.1", {"samy": np.linspace(-1, 1, 41), "diode1": np.exp(-np.linspace(-1, 1, 41) ** 2)},
              title="ascan samy -1 1 40 0.1", positioners=("samy",))
        three = _scan(h5, "3.1", {"energy": E, "mu_trans": MU, "mu_ref": MU_REF, "elapsed_time": E * 0 + 0.1},
                      title="ascan energy 8200 8700 500 0.1", start="2025-03-01T11:00:00",
                      units={"energy": "eV"}, positioners=("energy",))
        three["instrument/mca"] = np.ones((E.size, 16))
        three["measurement/mca_det0"] = h5py.SoftLink("/3.1/instrument/mca")
        _scan(h5, "3.2", {"elapsed_time": np.arange(10.0), "sample_temperature": np.full(10, 293.0)},
              title="timescan 1")
    return path


def _read(path, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = spectro.read(path, **options)
    return ds, [str(w.message) for w in caught]


def test_scans_are_read_with_their_counters_titles_and_start_times(bliss_file):
    assert sniff_format(bliss_file) == "bliss"
    ds, messages = _read(bliss_file)
    assert ds.scan.values.tolist() == ["1.1", "3.1"]
    assert ds.title.values.tolist() == ["contscan.motor energy 8.2 8.7 500 0.1", "ascan energy 8200 8700 500 0.1"]
    assert ds.start_time.values.tolist() == ["2025-03-01T10:00:00", "2025-03-01T11:00:00"]
    assert ds.hdf5_entry.values.tolist() == ["/1.1", "/3.1"]
    assert ds.attrs["subscans_not_read"] == ["3.2"] and ds.attrs["n_scans_in_file"] == 4
    np.testing.assert_allclose(ds.energy.values, E, rtol=0, atol=1e-9)
    # 1.1: ln(I0/I1) and ln(I1/I2) from the ion chambers; 3.1: the mu counters as they are
    np.testing.assert_allclose(ds.mu.values, [MU, MU], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds.mu_ref.values, [MU_REF, MU_REF], rtol=0, atol=1e-12)
    assert ds.scan_mu_expression.values.tolist() == ["ln(I0/I1)", "mu_trans"]
    assert ds.scan_energy_units_in.values.tolist() == ["keV", "eV"]
    assert any("skipped" in m and "'2.1'" in m and "outside the 1-100 keV" in m for m in messages)


def test_a_bliss_scan_is_analysed_as_the_spectrum_it_holds(bliss_file):
    ds, _ = _read(bliss_file, scans=["1"])
    got = spectro.xanes.analyze(ds, preedge="centroid")
    want = spectro.xanes.analyze(SIM, preedge="centroid")
    for name in ("e0", "calibration_shift", "edge_step", "preedge_centroid"):
        assert float(got[name][0]) == pytest.approx(float(want[name][0]), abs=1e-6), name


@pytest.mark.parametrize("wanted, labels", [(["3"], ["3.1"]), (["3.1", "1"], ["3.1", "1.1"]), ("1.1", ["1.1"])])
def test_scans_are_chosen_by_name_or_number(bliss_file, wanted, labels):
    ds, _ = _read(bliss_file, scans=wanted)
    assert ds.scan.values.tolist() == labels and "subscans_not_read" not in ds.attrs


def test_a_subscan_is_read_only_when_asked_and_an_unknown_scan_is_refused(bliss_file):
    with pytest.raises(SpectroError, match=r"scan '3.2': energy column 'elapsed_time' spans .* outside the 1-100 keV"):
        _read(bliss_file, scans=["3.2"])  # a temperature log: refused, not mixed into scan 3
    with pytest.raises(FormatError, match=r"no scan '9' in the file; scans are \['1.1', '2.1', '3.1', '3.2'\]"):
        spectro.read(bliss_file, scans=["9"])


def test_energy_units_from_magnitude_without_a_units_attribute(tmp_path):
    path = tmp_path / "kev.h5"
    with h5py.File(path, "w") as h5:
        _scan(h5, "1.1", {"energy": E / 1000.0, "I0": I0, "I1": I1})
    ds, messages = _read(path)
    np.testing.assert_allclose(ds.energy.values, E, atol=1e-9)
    assert ds.attrs["energy_units_in"] == "keV" and any("keV; converted to eV" in m for m in messages)


def test_counters_are_chosen_by_the_reading_options(bliss_file):
    ds, _ = _read(bliss_file, scans=["1"], mode="transmission", i0="I1", itrans="I2", reference=False)
    np.testing.assert_allclose(ds.mu.values[0], MU_REF, atol=1e-12)
    assert "mu_ref" not in ds


def test_a_missing_or_external_counter_names_its_hdf5_path(tmp_path):
    path = tmp_path / "links.h5"
    with h5py.File(path, "w") as h5:
        scan = _scan(h5, "1.1", {"energy": E, "I0": I0, "I1": I1}, units={"energy": "eV"})
        scan["measurement/xmap_det0"] = h5py.SoftLink("/1.1/instrument/xmap_det0/data")
        scan["measurement/eiger_roi1"] = h5py.ExternalLink("sample_0001_eiger.h5", "/entry/roi1")
    with pytest.raises(LimitError, match="/1.1/measurement/eiger_roi1 is an external link to sample_0001_eiger.h5"):
        spectro.read(path)  # refused unless asked for
    ds, _ = _read(path, external_links=True)  # the unreadable counters are not needed
    np.testing.assert_allclose(ds.mu.values[0], MU, atol=1e-12)
    assert "external_files" not in ds.attrs  # nothing was read from another file
    with pytest.raises(FormatError) as err:
        spectro.read(path, ifluor="eiger_roi1", mode="fluorescence", external_links=True)
    assert str(err.value) == (
        f"{path}: scan '1.1': counter 'eiger_roi1' (the reading option ifluor): /1.1/measurement/eiger_roi1 is "
        "an external link to sample_0001_eiger.h5:/entry/roi1, which cannot be opened")
    with pytest.raises(FormatError, match=r"/1.1/measurement/xmap_det0 is a link to /1.1/instrument/xmap_det0/data, "
                                          "which does not exist"):
        spectro.read(path, ifluor="xmap_det0", mode="fluorescence", external_links=True)


def test_when_no_mu_can_be_made_the_error_names_the_unreadable_counters(tmp_path):
    path = tmp_path / "fluo.h5"
    with h5py.File(path, "w") as h5:
        scan = _scan(h5, "1.1", {"energy": E, "I0": I0, "elapsed_time": E * 0 + 0.1}, units={"energy": "eV"})
        scan["measurement/eiger_roi1"] = h5py.ExternalLink("missing.h5", "/entry/roi1")
    with pytest.raises(ColumnError) as err:
        spectro.read(path, external_links=True)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: scan '1.1': cannot tell how to get mu")
    assert message.endswith("not readable: /1.1/measurement/eiger_roi1 is an external link to missing.h5:"
                            "/entry/roi1, which cannot be opened")


def test_an_interrupted_scan_is_cut_to_its_shortest_counter(tmp_path):
    path = tmp_path / "cut.h5"
    with h5py.File(path, "w") as h5:
        _scan(h5, "1.1", {"energy": E, "I0": I0[:-7], "I1": I1}, units={"energy": "eV"})
    ds, messages = _read(path)
    assert ds.sizes["energy"] == E.size - 7
    assert any(f"counters have {E.size - 7} to {E.size} points" in m for m in messages)


def test_a_file_without_usable_scans_gives_the_first_scans_error(tmp_path):
    path = tmp_path / "align.h5"
    with h5py.File(path, "w") as h5:
        _scan(h5, "1.1", {"samy": np.linspace(-1, 1, 41), "diode1": np.ones(41)})
        h5.create_group("2.1/measurement")
    with pytest.raises(SpectroError) as err:
        spectro.read(path)
    assert str(err.value).startswith(f"{path}: scan '1.1': ")


def test_nxxas_files_stay_with_the_nexus_reader(data_file):
    for name in ("formats/pynxxas_generic.h5", "formats/pynxxas_Fe_XDIFiles.h5", "formats/pynxxas_BlissMultiModal.h5"):
        assert sniff_format(data_file(name)) == "nexus"


def test_sardana_file_with_an_external_link_to_a_missing_file(data_file):
    """MAX IV Balder (Sardana): the HERFD signal is in a detector file that is not there."""
    path = data_file("formats/pxas_20230318.h5")
    assert sniff_format(path) == "bliss"
    with pytest.raises(LimitError, match="/entry24212/instrument/eiger_streaming is an external link to "
                       "scan-24212_eiger_streaming.h5:entry/instrument/eiger; refused"):
        spectro.read(path)
    with pytest.raises(ColumnError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spectro.read(path, external_links=True)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: scan 'entry24212': cannot tell how to get mu")
    assert ("/entry24212/measurement/eiger_streaming is an external link to scan-24212_eiger_streaming.h5:"
            "entry/instrument/eiger/data, which cannot be opened") in message
    ds, _ = _read(path, mode="fluorescence", i0="albaem-01_ch1", ifluor="albaem-01_ch2", external_links=True)
    assert ds.scan.values.tolist() == ["entry24212", "entry24213"]
    assert ds.attrs["energy_column"] == "mono1_energy_acs" and ds.attrs["energy_units_in"] == "eV"
    assert (ds.energy.values[0], ds.energy.values[-1]) == pytest.approx((16065.0, 16185.0), abs=0.1)
    assert ds.title.values[1].startswith("ascanct mono1_energy_acs 16080.0 16185.0 525")
    assert np.isfinite(ds.mu.values).sum(axis=1).tolist() == [601, 526]


def test_bliss_data_converted_to_nxxas_is_read_one_scan_per_channel(data_file):
    """pynxxas_BlissMultiModal.h5: two scans, each transmission, reference and 16 fluorescence channels, in keV."""
    path = data_file("formats/pynxxas_BlissMultiModal.h5")
    ds, messages = _read(path)
    channels = ["itrans", "iref"] + [f"fluo{i}" for i in range(16)]
    assert ds.scan.values.tolist() == [f"{s}/{c}" for s in ("1.1", "2.1") for c in channels]
    assert set(ds.measurement_mode.values) == {"transmission", "fluorescence"} and set(ds.element.values) == {"As"}
    assert ds.energy.values[0] == pytest.approx(11799.8, abs=0.1) and ds.energy.values[-1] == pytest.approx(12800.3, abs=0.1)
    assert any("'1.1/itrans/energy' is in keV" in m for m in messages)
    assert any("sorted 1 backward energy step" in m for m in messages)
    assert not any("no 'units' attribute" in m for m in messages)  # units from the long_name 'Energy (keV)'
    one, _ = _read(path, entries=["2.1/fluo3"])
    assert one.scan.values.tolist() == ["2.1/fluo3"]
    with pytest.raises(FormatError, match=r"no NXentry \['3.1/fluo0'\]"):
        spectro.read(path, entries=["3.1/fluo0"])
