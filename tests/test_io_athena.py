"""Athena project reader: all three encodings, shifts, references, errors."""

from __future__ import annotations

import gzip
import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spectro
from spectro.errors import FormatError, FormatWarning
from spectro.io import sniff_format
from spectro.io.athena import read_project
from spectro.io.perl_dumper import parse_records, parse_value

NIO = "xanes/larch_NiO.prj"
PROJECTS = [
    NIO,
    "xanes/xasref_Nifoil.prj",
    "xanes/xasref_Nifoil_QAS.prj",
    "xanes/larch_Ni_FeNiS20_RT.prj",
    "copyleft-test-inputs/formats/demeter_athena_json.prj",
]


def _raw_text(path):
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()


def _n_groups(path) -> int:
    """Number of groups counted directly in the file text."""
    text = _raw_text(path)
    if text.lstrip().startswith("{"):
        return len(json.loads(text)["_____order"])
    return sum(1 for line in text.splitlines() if line.startswith("[record]"))


def _read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatWarning)
        return spectro.read(path, **options)


def _own_points(ds, label, var="mu"):
    row = ds[var].sel(scan=label).values
    ok = np.isfinite(row)
    return ds.energy.values[ok], row[ok]


def _half_jump_e0(energy, mu):
    """Energy (eV) where mu, normalized by a pre-edge line and a post-edge mean, crosses 0.5."""
    ok = np.isfinite(mu)
    energy, mu = energy[ok], mu[ok]
    e_max = energy[np.argmax(np.gradient(mu, energy))]
    pre = (energy > e_max - 150) & (energy < e_max - 30)
    flat = mu - np.polyval(np.polyfit(energy[pre], mu[pre], 1), energy)
    norm = flat / flat[(energy > e_max + 50) & (energy < e_max + 200)].mean()
    i = np.flatnonzero((norm[1:] >= 0.5) & (norm[:-1] < 0.5) & (energy[1:] > e_max - 30))[0]
    return energy[i] + (0.5 - norm[i]) * (energy[i + 1] - energy[i]) / (norm[i + 1] - norm[i])


@pytest.mark.parametrize("rel", PROJECTS)
def test_sniffed_as_athena(data_file, rel):
    assert sniff_format(data_file(rel)) == "athena"


@pytest.mark.parametrize("rel", PROJECTS)
def test_every_group_read_with_its_stored_arrays(data_file, rel):
    path = data_file(rel)
    ds = _read(path, reference_groups="scans")
    project = read_project(path)
    assert ds.sizes["scan"] == len(project.groups) == _n_groups(path)
    assert ds.scan.to_index().is_unique
    for label, group in zip(ds.scan.values, project.groups):
        assert ds.athena_group.sel(scan=label).item() == group.key
        energy, mu = _own_points(ds, label)
        order = np.argsort(group.x)
        np.testing.assert_allclose(energy, group.x[order] + group.eshift, rtol=0, atol=1e-9)
        np.testing.assert_allclose(mu, group.y[order], rtol=1e-12)


def test_encodings_are_recognised(data_file):
    assert read_project(data_file(NIO)).encoding == "perl+gzip"
    assert read_project(data_file("xanes/larch_Ni_FeNiS20_RT.prj")).encoding == "json+gzip"
    path = data_file("copyleft-test-inputs/formats/demeter_athena_json.prj")
    assert read_project(path).encoding == "json"


def test_json_arrays_stored_as_strings_become_numbers(data_file):
    path = data_file("xanes/larch_Ni_FeNiS20_RT.prj")
    doc = json.loads(gzip.decompress(path.read_bytes()))
    first = doc["_____order"][0]
    assert isinstance(doc[first]["x"][0], str)
    ds = _read(path)
    energy, mu = _own_points(ds, doc[first]["args"]["label"])
    assert energy[0] == float(doc[first]["x"][0])
    assert mu[-1] == float(doc[first]["y"][-1])


def test_nio_shifts_applied_to_stored_energies(data_file):
    path = data_file(NIO)
    ds = _read(path, reference_groups="scans")
    shifts = ds.scan_energy_shift
    assert shifts.attrs["units"] == "eV"
    individual = shifts.where(~ds.athena_is_merge, drop=True)
    assert float(individual.min()) == pytest.approx(1.252)
    assert float(individual.max()) == pytest.approx(6.629)
    raw = {g.key: g for g in read_project(path).groups}
    for label in ds.scan.values:
        group = raw[ds.athena_group.sel(scan=label).item()]
        energy, _ = _own_points(ds, label)
        assert shifts.sel(scan=label).item() == float(group.args["bkg_eshift"])
        np.testing.assert_allclose(
            energy, group.x + float(group.args["bkg_eshift"]), rtol=0, atol=1e-9
        )


def test_nio_sample_scans_line_up_after_shift(data_file):
    ds = _read(data_file(NIO), reference_groups="scans")
    samples = ds.sel(scan=~ds.is_reference & ~ds.athena_is_merge)
    assert samples.sizes["scan"] == 11
    shift = samples.scan_energy_shift.values
    after = np.array([_half_jump_e0(samples.energy.values, row) for row in samples.mu.values])
    before = np.array(
        [_half_jump_e0(samples.energy.values - s, row) for s, row in zip(shift, samples.mu.values)]
    )
    # the stored x drift by several eV between scans; the shifts remove it
    assert np.ptp(before) > 4.0
    assert np.ptp(after) < 0.5
    assert np.std(after, ddof=1) < np.std(before, ddof=1) / 10


def test_nio_reference_foils_line_up_after_shift(data_file):
    ds = _read(data_file(NIO), reference_groups="scans")
    refs = ds.sel(scan=ds.is_reference & ~ds.athena_is_merge)
    after = np.array([_half_jump_e0(refs.energy.values, row) for row in refs.mu.values])
    assert np.ptp(after) < 0.5


def test_nio_reference_channels_paired(data_file):
    path = data_file(NIO)
    paired = _read(path)
    scans = _read(path, reference_groups="scans")
    assert paired.sizes["scan"] == 12
    assert "mu_ref" in paired and not paired.is_reference.any()
    reference_labels = scans.scan.values[scans.is_reference.values]
    assert len(reference_labels) == 12
    assert all(label.startswith("Ref ") for label in reference_labels)
    for label in paired.scan.values:
        ref_label = paired.athena_pair.sel(scan=label).item()
        assert ref_label == "Ref " + label
        assert scans.athena_pair.sel(scan=ref_label).item() == label
        np.testing.assert_array_equal(
            paired.mu_ref.sel(scan=label).values, scans.mu.sel(scan=ref_label).values
        )
    single = paired.sel(scan=~paired.athena_is_merge)
    assert set(single.athena_mu_expression.values) == {"ln(abs((i0)/(it)))"}
    assert set(single.athena_mu_ref_expression.values) == {"ln(abs((it)/(ir)))"}


def test_duplicate_and_padded_labels_made_unique(data_file):
    ds = _read(data_file(NIO), reference_groups="scans")
    labels = list(ds.scan.values)
    assert labels.count("NiO.000") == 1 and "NiO.000 (2)" in labels
    assert "Ref NiO.000 (2)" in labels
    assert all(label == label.strip() for label in labels)
    assert ds.athena_label.sel(scan="Ref NiO.000 (2)").item() == "  Ref NiO.000"
    assert ds.athena_label.sel(scan="NiO.000 (2)").item() == "NiO.000"


def test_merged_group_of_other_length_on_union_grid(data_file):
    ds = _read(data_file(NIO))
    counts = np.isfinite(ds.mu.values).sum(axis=1)
    merged = ds.athena_is_merge.values
    assert set(counts[merged]) == {520}
    assert set(counts[~merged]) == {522}
    assert np.isfinite(ds.mu_stddev.sel(scan="NiO").values).sum() == 520
    assert np.isnan(ds.mu_stddev.sel(scan="NiO.001").values).all()
    assert np.isfinite(ds.i0.sel(scan="NiO.001").values).sum() == 522


def test_optional_array_of_wrong_length_dropped_with_warning(data_file):
    path = data_file("copyleft-test-inputs/formats/demeter_athena_json.prj")
    with pytest.warns(FormatWarning) as record:
        ds = spectro.read(path)
    messages = [str(w.message) for w in record]
    assert sum("'i0' array has 327 points but x has 325" in m for m in messages) == 3
    assert sum("'stddev' array has 327 points but x has 325" in m for m in messages) == 1
    assert np.isnan(ds.i0.sel(scan="0.12").values).all()
    assert np.isfinite(ds.i0.sel(scan="4.73").values).sum() == 327


def test_foil_standard_flagged_as_reference(data_file):
    for rel in ("xanes/xasref_Nifoil.prj", "xanes/xasref_Nifoil_QAS.prj"):
        ds = _read(data_file(rel))
        assert ds.is_reference.values.tolist() == [True]
    ds = _read(data_file("copyleft-test-inputs/formats/demeter_athena_json.prj"))
    assert ds.scan.values[ds.is_reference.values].tolist() == ["Au foil"]


def test_match_keeps_reference_with_its_sample(data_file):
    ds = _read(data_file(NIO), groups="nio.00[12]", reference_groups="scans")
    assert sorted(ds.scan.values) == ["NiO.001", "NiO.002", "Ref NiO.001", "Ref NiO.002"]


def test_agrees_with_xraylarch(data_file, larch):
    from larch.io import read_athena

    for rel in PROJECTS:
        path = data_file(rel)
        ours = _read(path, reference_groups="scans")
        theirs = read_athena(str(path), do_preedge=False, use_hashkey=True)
        # xraylarch keys groups by label, so a repeated label overwrites the first
        assert len(theirs.groups) == len(set(ours.athena_label.values))
        for key, group in theirs.groups.items():
            label = ours.scan.values[ours.athena_group.values == key].item()
            bkg = group.athena_params.bkg
            energy, mu = _own_points(ours, label)
            np.testing.assert_allclose(energy, group.energy + bkg.eshift, rtol=0, atol=1e-9)
            np.testing.assert_allclose(mu, group.mu, rtol=1e-12)
            for ours_name, theirs_name in [
                ("athena_e0", "e0"), ("athena_pre1", "pre1"), ("athena_pre2", "pre2"),
                ("athena_nor1", "nor1"), ("athena_nor2", "nor2"),
                ("athena_nnorm", "nnorm"), ("athena_step", "step"),
            ]:
                assert ours[ours_name].sel(scan=label).item() == pytest.approx(
                    float(getattr(bkg, theirs_name))
                )


def test_truncated_gzip_is_format_error(data_file, tmp_path):
    data = data_file(NIO).read_bytes()
    broken = tmp_path / "truncated.prj"
    broken.write_bytes(data[: len(data) // 2])
    assert sniff_format(broken) == "athena"
    with pytest.raises(FormatError, match="truncated.prj: .*cannot be decompressed"):
        spectro.read(broken)


def test_truncated_perl_text_is_format_error(data_file, tmp_path):
    text = _raw_text(data_file(NIO))
    broken = tmp_path / "cut.prj"
    broken.write_bytes(gzip.compress(text[: len(text) // 3].encode()))
    with pytest.raises(FormatError, match=r"cut.prj: Athena project text, line \d+"):
        spectro.read(broken)


def test_corrupted_json_is_format_error(data_file, tmp_path):
    text = data_file("copyleft-test-inputs/formats/demeter_athena_json.prj").read_text()
    broken = tmp_path / "broken.prj"
    broken.write_text(text[: len(text) // 2])
    with pytest.raises(FormatError, match="broken.prj: Athena JSON project is not valid JSON"):
        spectro.read(broken)
    bad_number = tmp_path / "bad_number.prj"
    doc = json.loads(text)
    doc["wtnk"]["x"][3] = "8200.x"
    bad_number.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="bad_number.prj: group 'wtnk': array 'x' is not numeric"):
        spectro.read(bad_number)
    no_y = tmp_path / "no_y.prj"
    del doc["ozun"]["y"]
    no_y.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="group 'ozun': no 'y' array"):
        spectro.read(no_y)


def test_perl_code_is_never_evaluated(tmp_path):
    text = (
        "# Athena project file -- Demeter version 0.9.21\n"
        "$old_group = 'abcde';\n"
        "@x = map { unlink 'x' } (1, 2);\n"
        "[record]\n"
    )
    path = tmp_path / "evil.prj"
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(FormatError, match="evil.prj: Athena project text, line 3: unexpected 'map'"):
        spectro.read(path)


def test_perl_strings_follow_perl_quoting():
    assert parse_value(r"'a\\b\'c\n'") == "a\\b'c\\n"
    assert parse_value(r'"tab\there \x{e9}"') == "tab\there \u00e9"
    assert parse_value("bless( {'k' => [1,-2.5e3,undef]}, 'Xray::XDI' )") == {"k": [1, -2500.0, None]}
    text = "$a = 'x;y';\n# a comment with 'quote\n@b = ('[record]');\n[record]\n@journal = ();\n1;\n"
    records = parse_records(text)
    assert records.records == [{"a": "x;y", "b": ["[record]"]}]
    assert records.trailing == {"journal": []}


_perl_scalars = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)


def _perl_literal(value) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_perl_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


@given(st.lists(st.one_of(_perl_scalars, st.lists(_perl_scalars, max_size=4)), max_size=8))
def test_perl_lists_round_trip(values):
    text = "@args = (" + ",".join(_perl_literal(v) for v in values) + ");\n[record]\n"
    assert parse_records(text).records == [{"args": values}]


def test_damaged_gzip_anywhere_is_format_error(data_file, tmp_path):
    data = data_file("xanes/xasref_Nifoil.prj").read_bytes()
    path = tmp_path / "damaged.prj"
    for start in range(0, len(data), 97):
        damaged = bytearray(data)
        damaged[start : start + 50] = b"\x55" * 50
        path.write_bytes(bytes(damaged))
        with pytest.raises(FormatError, match="damaged.prj"):
            spectro.read(path, format="athena")


def _tiny_project(tmp_path, groups):
    """Write a gzip Perl project; groups: (key, label, x, extra args)."""
    text = "# Athena project file -- Demeter version 0.9.26\n"
    for key, label, x, args in groups:
        values = ",".join(f"'{v}'" for v in x)
        extra = "".join(f",'{k}','{v}'" for k, v in args.items())
        text += (
            f"$old_group = '{key}';\n@args = ('label','{label}'{extra});\n"
            f"@x = ({values});\n@y = ({values});\n[record]\n"
        )
    path = tmp_path / "tiny.prj"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_reference_on_other_grid_kept_as_scan(tmp_path):
    x = np.arange(8300.0, 8400.0, 5.0)
    path = _tiny_project(
        tmp_path,
        [
            ("aaaaa", "S1", x, {"referencegroup": "bbbbb", "bkg_eshift": 1.0}),
            ("bbbbb", "  Ref S1", x + 0.5, {"referencegroup": "aaaaa", "bkg_eshift": 1.0}),
        ],
    )
    with pytest.warns(FormatWarning, match="reference group 'Ref S1' has other energies"):
        ds = spectro.read(path)
    assert ds.scan.values.tolist() == ["S1", "Ref S1"]
    assert ds.is_reference.values.tolist() == [False, True]
    assert "mu_ref" not in ds


def test_groups_that_are_not_mu_skipped(tmp_path):
    x = np.arange(8300.0, 8400.0, 5.0)
    path = _tiny_project(
        tmp_path,
        [("aaaaa", "chi data", np.arange(20.0), {"is_chi": 1}), ("bbbbb", "mu data", x, {})],
    )
    with pytest.warns(FormatWarning, match="'chi data' holds 'chi' data, not mu"):
        ds = spectro.read(path)
    assert ds.scan.values.tolist() == ["mu data"]
    assert ds.athena_datatype.values.tolist() == ["xmu"]
