"""Generic column files, energy units and channel selection."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.constants as sc
from hypothesis import given
from hypothesis import strategies as st

import spectro
from spectro.errors import (
    ColumnError,
    OptionError,
    DataError,
    FormatError,
    FormatWarning,
    SpectroError,
    UnitConversionWarning,
)
from spectro.io import columns
from spectro.io.channels import MIN_POINTS, clean_label, select_channels
from spectro.io.units import (
    HC_EV_ANGSTROM,
    angle_to_energy,
    detect_units,
    energy_to_angle,
    find_d_spacing,
)

E = np.round(np.linspace(8300.0, 8400.0, 21), 3)
I0 = np.full(E.size, 1.0e5)
IT = 1.0e5 * np.exp(-(1.0 + 0.5 * (E > 8340)))
MU = np.log(I0 / IT)


def write(tmp_path, text: str, name: str = "scan.dat", newline: str = "\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def table(sep: str = " ", trailing: str = "") -> str:
    return "".join(
        f"{e}{sep}{a:.1f}{sep}{b:.6f}{trailing}\n" for e, a, b in zip(E, I0, IT)
    )


def read_quiet(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path, **options)


# --- units -----------------------------------------------------------------


def test_hc_constant_is_codata():
    assert HC_EV_ANGSTROM == pytest.approx(sc.h * sc.c / sc.e * 1e10, rel=1e-12)


def test_bragg_angle_for_si111_at_ni_k_edge():
    d = 5.431020511 / np.sqrt(3)  # Si(111)
    theta = np.degrees(np.arcsin(sc.h * sc.c / sc.e * 1e10 / (2 * d * 8333.0)))
    assert float(angle_to_energy(theta, d)) == pytest.approx(8333.0, abs=1e-6)


@given(st.floats(5.0, 80.0), st.floats(1.0, 6.0))
def test_angle_energy_round_trip(theta, d):
    assert float(energy_to_angle(angle_to_energy(theta, d), d)) == pytest.approx(
        theta, abs=1e-9
    )


def test_angle_decreases_as_energy_increases():
    theta = np.array([17.4, 17.0, 16.0])
    assert np.all(np.diff(angle_to_energy(theta, 3.13551)) > 0)


@pytest.mark.parametrize(
    "values, label, units, expected",
    [
        ([8.3, 8.4], "energy", "", "keV"),
        ([8300.0, 8400.0], "energy", "", "eV"),
        ([8300.0, 8400.0], "Energy (keV)", "", "keV"),
        ([17.4, 17.3], "Angle(c)", "", "deg"),
        ([12.3, 12.2], "angle", "degrees", "deg"),
        ([10921.0, 10926.0], "eBraggEnergy", "", "eV"),
        ([6.9, 7.0], "Enkev", "", "keV"),
    ],
)
def test_detect_units(values, label, units, expected):
    assert detect_units(np.array(values), label, units) == expected


def test_find_d_spacing_variants():
    assert find_d_spacing("# Mono.d_spacing: 3.13553") == 3.13553
    assert find_d_spacing(" Mono :   Si(111)       D=  3.13551 A ") == 3.13551
    assert find_d_spacing("# sample at 3.5 GPa") is None


# --- labels and channels -----------------------------------------------------


@pytest.mark.parametrize(
    "label, clean",
    [
        ("I0 (counts)", "i0"),
        ("IO", "i0"),
        ("mutrans  ||  13IDE:scaler1.S2", "mutrans"),
        ("4_i0", "i0"),
        ("I0_KEITHLEY1_c4", "i0_keithley1"),
        ("ZapEnergy", "zapenergy"),
    ],
)
def test_clean_label(label, clean):
    assert clean_label(label) == clean


def test_transmission_and_reference_defaults():
    ref = IT * 0.5
    ch = select_channels(
        ["Energy", "I0 (counts)", "It", "Iref"], np.column_stack([E, I0, IT, ref])
    )
    assert ch.attrs["mode"] == "transmission"
    np.testing.assert_allclose(ch.signals["mu"], MU)
    np.testing.assert_allclose(ch.signals["mu_ref"], np.log(2.0))


def test_mu_column_wins_over_intensities():
    ch = select_channels(
        ["energy", "i0", "itrans", "mutrans"], np.column_stack([E, I0, IT, 2 * MU])
    )
    assert ch.attrs["mode"] == "mu"
    np.testing.assert_allclose(ch.signals["mu"], 2 * MU)


def test_fluorescence_default_and_explicit_mode():
    fl = 100.0 + E - E[0]
    data = np.column_stack([E, I0, IT, fl])
    ch = select_channels(["energy", "i0", "it", "iff"], data, mode="fluorescence")
    np.testing.assert_allclose(ch.signals["mu"], fl / I0)
    only_fl = select_channels(["energy", "i0", "ifluor"], np.column_stack([E, I0, fl]))
    assert only_fl.attrs["mode"] == "fluorescence"


def test_murefer_column_used_for_reference():
    data = np.column_stack([E, MU, MU / 2])
    ch = select_channels(["energy", "mutrans", "murefer"], data)
    np.testing.assert_allclose(ch.signals["mu_ref"], MU / 2)
    assert (
        "mu_ref"
        not in select_channels(
            ["energy", "mutrans", "murefer"], data, reference=False
        ).signals
    )


def test_explicit_columns_by_name_and_index():
    data = np.column_stack([np.arange(E.size), E, I0, IT])
    ch = select_channels(
        ["Event-ID", "ZapEnergy", "a", "b"], data, energy="ZapEnergy", i0=2, itrans="b"
    )
    np.testing.assert_allclose(ch.energy, E)
    np.testing.assert_allclose(ch.signals["mu"], MU)


def test_unknown_column_is_column_error():
    with pytest.raises(ColumnError, match="no itrans column 'nope'"):
        select_channels(
            ["energy", "i0", "it"], np.column_stack([E, I0, IT]), itrans="nope"
        )


def test_no_channels_is_column_error():
    with pytest.raises(ColumnError, match="cannot tell how to get mu"):
        select_channels(["energy", "a", "b"], np.column_stack([E, I0, IT]))


def test_inputs_not_mutated():
    data = np.column_stack([E, I0, IT])
    before = data.copy()
    select_channels(["energy", "i0", "it"], data)
    np.testing.assert_array_equal(data, before)


# --- header and label detection ---------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "# energy i0 it\n",
        "; scan of NiO\n;------\n;  energy  i0  it\n",
        "energy i0 it\n",
        "# #  energy  i0  it\n",
        "# energy\ti0\tit\n",
        "Data:\nenergy\ni0\nit\n",
        "Weights:\n 1.0 1.0 1.0\nOffsets:\n 0 0 0\nData:\nenergy\ni0\nit\n",
        "# Column.1: energy eV  ||  BL:En.VAL\n# Column.2: I0  ||  BL:S2\n# Column.3: It  ||  BL:S3\n",
    ],
)
def test_header_styles(tmp_path, header):
    ds = read_quiet(write(tmp_path, header + table()))
    assert ds.attrs["mode"] == "transmission"
    np.testing.assert_allclose(ds.energy, E)
    np.testing.assert_allclose(ds.mu[0], MU, rtol=1e-6)


@pytest.mark.parametrize(
    "sep, trailing", [(" ", ""), ("\t", "\t"), (",", ","), ("  ", "  "), (";", "")]
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_delimiters_and_line_endings(tmp_path, sep, trailing, newline):
    path = write(tmp_path, "# energy i0 it\n" + table(sep, trailing), newline=newline)
    ds = read_quiet(path)
    np.testing.assert_allclose(ds.mu[0], MU, rtol=1e-6)


def test_numeric_header_table_is_not_the_data(tmp_path):
    header = (
        " Block      Init-Eng  Final-Eng      Step/eV     Time/s       Num\n"
        "     1        8300.0   8350.00         5.00       1.00        10\n"
        "     2        8350.0   8400.00         5.00       1.00        10\n"
        "  energy  i0  it\n"
        "      Mode         0         0\n"
        "    Offset         0         0\n"
    )
    ds = read_quiet(write(tmp_path, header + table()))
    assert ds.sizes["energy"] == E.size
    assert ds.attrs["columns"] == ["energy", "i0", "it"]


def test_fewer_labels_than_columns_pads_and_warns(tmp_path):
    rows = "".join(f"{e} {a} {b} 7 8\n" for e, a, b in zip(E, I0, IT))
    with pytest.warns(FormatWarning, match="3 column labels for 5 columns"):
        ds = spectro.read(write(tmp_path, "# energy i0 it\n" + rows))
    assert ds.attrs["columns"] == ["energy", "i0", "it", "col4", "col5"]


def test_first_column_event_id_is_not_energy(tmp_path):
    header = "# column 1: Event-ID\n# column 2: Energy Setting\n# column 3: $(EnergyAchieved)\n# column 4: I0\n# column 5: I1\n"
    rows = "".join(f"1 {e - 0.5} {e} {a} {b}\n" for e, a, b in zip(E, I0, IT))
    ds = read_quiet(write(tmp_path, header + rows))
    assert ds.attrs["energy_column"] == "$(EnergyAchieved)"
    np.testing.assert_allclose(ds.energy, E)


@pytest.mark.parametrize("data_event_first", [True, False])
def test_cls_columns_of_the_event_in_the_table(tmp_path, data_event_first):
    """Two events define their columns; the table's first column names the event (1) whose columns apply."""
    data_event = "# Event: readMCS\n# ID: 1\n# column 1: Event-ID\n# column 2: $(EnergyAchieved)\n# column 3: I0\n# column 4: I1\n"
    other = "# Event: background\n# ID: 2\n# column 1: $(Background)[0]\n# column 2: Energy Base\n# column 3: gap\n"
    header = data_event + other if data_event_first else other + data_event
    rows = "".join(f"1, {e}, {a}, {b}\n" for e, a, b in zip(E, I0, IT))
    ds = read_quiet(write(tmp_path, header + rows))
    assert ds.attrs["columns"] == ["Event-ID", "$(EnergyAchieved)", "I0", "I1"]
    np.testing.assert_allclose(ds.energy, E)
    np.testing.assert_allclose(ds.mu.values[0], MU)


def test_non_ascii_file_and_label(tmp_path):
    path = write(tmp_path, "# énergie(eV)  I0  It\n" + table(), name="Calibração.060")
    ds = read_quiet(path, energy=0)
    np.testing.assert_allclose(ds.energy, E)


def test_kev_column_converted_with_warning(tmp_path):
    rows = "".join(f"{e / 1000:.6f} {a} {b}\n" for e, a, b in zip(E, I0, IT))
    with pytest.warns(UnitConversionWarning, match="keV"):
        ds = spectro.read(write(tmp_path, "# energy i0 it\n" + rows))
    np.testing.assert_allclose(ds.energy, E, atol=1e-3)
    assert ds.attrs["energy_units_in"] == "keV"


def test_descending_angle_gives_ascending_energy(tmp_path):
    d = 3.13551
    theta = energy_to_angle(E, d)[::-1].copy()
    rows = "".join(f"{t:.8f} {a} {b}\n" for t, a, b in zip(theta, I0[::-1], IT[::-1]))
    text = f"# Mono: Si(111) D= {d} A\n# Angle  I0  It\n" + rows
    with pytest.warns(UnitConversionWarning, match="angle"):
        ds = spectro.read(write(tmp_path, text))
    np.testing.assert_allclose(ds.energy, E, atol=1e-4)
    np.testing.assert_allclose(ds.mu[0], MU, rtol=1e-6)


def test_angle_without_d_spacing_is_column_error(tmp_path):
    rows = "".join(
        f"{t:.6f} {a} {b}\n" for t, a, b in zip(energy_to_angle(E, 3.1355), I0, IT)
    )
    with pytest.raises(ColumnError, match="d_spacing"):
        read_quiet(write(tmp_path, "# Angle  I0  It\n" + rows))
    ds = read_quiet(write(tmp_path, "# Angle  I0  It\n" + rows), d_spacing=3.1355)
    np.testing.assert_allclose(ds.energy, E, atol=1e-4)


# --- degenerate files ----------------------------------------------------------


def test_header_only_is_format_error(tmp_path):
    with pytest.raises(FormatError, match="no numeric table"):
        spectro.read(write(tmp_path, "# energy i0 it\n# nothing measured\n"))


@pytest.mark.parametrize("n_rows", [1, MIN_POINTS - 1])
def test_too_few_rows_is_data_error(tmp_path, n_rows):
    rows = "".join(f"{e} {a} {b}\n" for e, a, b in list(zip(E, I0, IT))[:n_rows])
    with pytest.raises(DataError, match=f"need at least {MIN_POINTS}"):
        spectro.read(write(tmp_path, "# energy i0 it\n" + rows))


def test_zero_intensity_point_dropped_with_warning(tmp_path):
    it = IT.copy()
    it[5] = 0.0
    rows = "".join(f"{e} {a} {b}\n" for e, a, b in zip(E, I0, it))
    with pytest.warns(FormatWarning, match="dropped 1 point"):
        ds = spectro.read(write(tmp_path, "# energy i0 it\n" + rows))
    assert ds.sizes["energy"] == E.size - 1
    assert E[5] not in ds.energy.values
    assert np.isfinite(ds.mu).all()


def test_energies_outside_xray_range_refused(tmp_path):
    rows = "".join(f"{e - 8000} {a} {b}\n" for e, a, b in zip(E, I0, IT))
    with pytest.raises(DataError, match="outside the 1-100 keV"):
        read_quiet(write(tmp_path, "# eV  i0  it\n" + rows))


def test_two_columns_without_channel_names(tmp_path):
    rows = "".join(f"{e} {m}\n" for e, m in zip(E, MU))
    with pytest.warns(FormatWarning, match="took the only other column"):
        ds = spectro.read(write(tmp_path, rows))
    np.testing.assert_allclose(ds.mu[0], MU)


def test_unknown_option_refused(tmp_path):
    with pytest.raises(OptionError, match="engery='x' is not allowed: unknown option of ReadOptions"):
        spectro.read(write(tmp_path, "# energy i0 it\n" + table()), engery="x")


def test_option_the_reader_does_not_use_refused(tmp_path):
    with pytest.raises(OptionError, match="groups='NiO' is not allowed: not used by the columns reader"):
        spectro.read(write(tmp_path, "# energy i0 it\n" + table()), groups="NiO")


def test_coordinates_from_options(tmp_path):
    ds = spectro.read(
        write(tmp_path, "# energy i0 it\n" + table()), pressure=12.5, sample="La3Ni2O7"
    )
    assert float(ds.pressure[0]) == 12.5
    assert ds.sample.values[0] == "La3Ni2O7"


# --- real files ------------------------------------------------------------------


def test_kev_and_ev_columns_of_one_file_agree(data_file):
    path = data_file("copyleft-test-inputs/formats/demeter_kev.dat")
    ev = read_quiet(path, energy="Energy")
    with pytest.warns(UnitConversionWarning):
        kev = spectro.read(path, energy="Enkev")
    np.testing.assert_allclose(kev.energy, ev.energy, atol=1e-4)
    np.testing.assert_allclose(kev.mu, ev.mu)


def test_cr_line_endings_and_kev(data_file):
    path = data_file("copyleft-test-inputs/formats/demeter_CR.dat")
    assert b"\r" in path.read_bytes() and b"\n" not in path.read_bytes()
    ds = read_quiet(path)
    assert ds.sizes["energy"] == 405
    assert 11000 < float(ds.energy[0]) < 12500  # Pt L3 / Au region in eV, not keV


def test_kek_pf_angle_file_matches_header_block_table(data_file):
    path = data_file("formats/larch_PF9A_2022.dat")
    with pytest.raises(ColumnError):
        read_quiet(path)
    with pytest.warns(UnitConversionWarning, match="3.13551"):
        ds = spectro.read(path, mode="fluorescence", i0="2", ifluor="3")
    # the header's scan blocks run from Init-Eng 6606.20 eV to Final-Eng 8211.20 eV
    assert float(ds.energy[0]) == pytest.approx(6606.20, abs=0.1)
    assert float(ds.energy[-1]) == pytest.approx(8211.20, abs=0.1)
    assert ds.sizes["energy"] == 1426


def test_cls_file_picks_achieved_energy(data_file):
    ds = read_quiet(data_file("copyleft-test-inputs/formats/demeter_ORP5.000"))
    assert "EnergyAchieved" in ds.attrs["energy_column"]
    assert 9000 < float(ds.energy[0]) < 11000


def test_cls_file_with_background_event_defined_last(data_file):
    """demeter_ZT20.000 defines its background event after readMCS; the data rows are readMCS (event 1)."""
    path = data_file("copyleft-test-inputs/formats/demeter_ZT20.000")
    ds = read_quiet(path)
    same_layout = read_quiet(data_file("copyleft-test-inputs/formats/demeter_ORP5.000"))
    assert ds.attrs["columns"] == same_layout.attrs["columns"]
    raw = np.loadtxt(path, delimiter=",", comments="#")
    assert np.all(raw[:, 0] == 1)
    energy, i0, i1 = raw[:, 3], raw[:, 5], raw[:, 6]  # EnergyAchieved, I0, I1 by the header's readMCS columns
    np.testing.assert_allclose(ds.energy.values, energy)
    np.testing.assert_allclose(ds.mu.values[0], np.log(i0 / i1), rtol=1e-12)


def test_ssrl_data_labels_and_clock_column(data_file):
    path = data_file("formats/larch_SSRLmicro_2008.dat")
    table = columns.parse_table(columns.read_text(path))
    assert table.labels[:3] == ["Real Time Clock", "Requested Energy", "I0"]
    assert table.data.shape == (296, 69)
    with pytest.raises(DataError, match="zero or of opposite sign"):
        read_quiet(path)  # I1 is zero: a fluorescence scan; the user must pick channels
    ds = read_quiet(path, mode="fluorescence", ifluor="SCA1.1")
    assert ds.attrs["energy_column"] == "Requested Energy"


def test_alias_labels_resolved(data_file):
    ds = read_quiet(data_file("formats/larch_APS13ID_2008.dat"))
    assert ds.attrs["columns"] == ["Energy", "Scaler Count Time", "I0", "I1"]
    assert ds.attrs["mu_expression"] == "ln(I0/I1)"


def test_fixed_width_truncated_labels(data_file):
    ds = read_quiet(data_file("formats/larch_APS9BM_2019.dat"))
    assert ds.attrs["columns"][2:5] == [
        "SIS scaler time prese",
        "SIS Scaler Integratio",
        "I0-32",
    ]
    assert ds.attrs["mu_ref_expression"] == "ln(It-32/Iref-32)"


def test_incomplete_labels_real_file(data_file):
    with pytest.warns(FormatWarning, match="5 column labels for 57 columns"):
        ds = spectro.read(data_file("formats/larch_incomplete_label.dat"))
    assert ds.attrs["columns"][5] == "col6"


def test_no_header_multi_column_needs_options(data_file):
    path = data_file("formats/larch_generic_columns_no_header.dat")
    with pytest.raises(ColumnError, match="col1"):
        spectro.read(path)
    ds = read_quiet(path, mu=3, murefer=6)
    same = read_quiet(data_file("formats/larch_ESRF_BM08_LISA_2021.dat"))
    np.testing.assert_allclose(ds.mu, same.mu)
    np.testing.assert_allclose(ds.mu_ref, same.mu_ref)


def test_refusals_are_spectro_errors(data_file):
    for rel in (
        "copyleft-test-inputs/formats/demeter_notdata.0",
        "copyleft-test-inputs/formats/demeter_notdata.1",
        "copyleft-test-inputs/formats/demeter_notdata.5",
    ):
        with pytest.raises(SpectroError):
            spectro.read(data_file(rel))


@given(
    values=st.lists(
        st.tuples(st.floats(0.5, 2.0e5, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=6,
        max_size=40,
    ),
    sep=st.sampled_from([" ", "\t", ",", " , ", "   "]),
    trailing=st.sampled_from(["", " ", "\t", ","]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    comment=st.sampled_from(["#", ";", "# #", ""]),
)
def test_parse_table_round_trip(values, sep, trailing, newline, comment):
    data = np.array(values)
    rows = newline.join(f"{float(a)!r}{sep}{float(b)!r}{trailing}" for a, b in data)
    text = f"{comment} energy{sep}signal{newline}{rows}{newline}"
    table = columns.parse_table(text.replace("\r\n", "\n").replace("\r", "\n"))
    assert table.labels == ["energy", "signal"]
    np.testing.assert_array_equal(table.data, data)
