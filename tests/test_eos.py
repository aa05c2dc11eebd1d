"""Equations of state, the NiO Ni-O distance and bond tables."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import brentq

from spectro.errors import (
    ColumnError,
    DataError,
    ExtrapolationWarning,
    MissingFileError,
    ValidationError,
)
from spectro.pressure import (
    EOS,
    NIO,
    NIO_EOS,
    BondTable,
    EOSBond,
    fit_eos,
    read_bond_table,
)
from spectro.pressure.eos import bulk_modulus, pressure, volume

A0 = 4.177
#: The BM3 NiO of paper-facts.md section 3.3 (a0 = 4.177 Å), for its tabulated distances.
BM3_NIO = EOS(v0=A0**3, k0=205.0, k0p=4.0, form="bm3")


def bm3_scalar(v, v0, k0, k0p):
    """Third-order Birch-Murnaghan written out independently (Eulerian strain f)."""
    f = ((v0 / v) ** (2 / 3) - 1) / 2
    return 3 * k0 * f * (1 + 2 * f) ** 2.5 * (1 + 1.5 * (k0p - 4) * f)


def vinet_scalar(v, v0, k0, k0p):
    eta = (v / v0) ** (1 / 3)
    return 3 * k0 * (1 - eta) / eta**2 * np.exp(1.5 * (k0p - 1) * (1 - eta))


@pytest.mark.parametrize("p", [0.0, 2.5, 10.0, 15.6, 23.7, 40.0, 100.0])
@pytest.mark.parametrize("k0,k0p", [(205.0, 4.0), (190.0, 4.0), (200.0, 5.0)])
def test_nio_distance_matches_brentq_on_scalar_bm3(p, k0, k0p):
    eos = BM3_NIO.with_params(k0=k0, k0p=k0p)
    v0 = A0**3
    v = brentq(lambda x: bm3_scalar(x, v0, k0, k0p) - p, 0.5 * v0, 1.01 * v0, xtol=1e-14)
    d_ref = v ** (1 / 3) / 2
    assert abs(float(EOSBond(eos).distance(p)) - d_ref) < 1e-9


# paper-facts.md section 3.3: NiO Ni-O (Å) from BM3, a0 = 4.177 Å, B0' = 4.
TABLE = {
    190.0: {0: 2.0885, 10: 2.0555, 15.6: 2.0395, 19.5: 2.0292, 23.7: 2.0189, 30: 2.0044, 40: 1.9837},
    205.0: {0: 2.0885, 10: 2.0577, 15.6: 2.0426, 19.5: 2.0329, 23.7: 2.0231, 30: 2.0093, 40: 1.9895},
}


@pytest.mark.parametrize("k0", [190.0, 205.0])
def test_nio_distance_matches_tabulated_values(k0):
    p = np.array(list(TABLE[k0]))
    expected = np.array(list(TABLE[k0].values()))
    d = EOSBond(BM3_NIO.with_params(k0=k0)).distance(p)
    np.testing.assert_allclose(d, expected, atol=1e-4)


def test_nio_defaults_are_holland_powell_ds62_with_uncertainty():
    # 1.097 J/bar = 10.97 cm3/mol -> 18.216 Å3 per formula unit, a0 = 4.1768 Å
    assert NIO_EOS.v0 / 4 == pytest.approx(18.216, abs=5e-4)
    assert float(NIO.distance(0.0)) * 2 == pytest.approx(4.1768, abs=1e-4)
    assert (NIO_EOS.form, NIO_EOS.k0, NIO_EOS.k0p, NIO_EOS.k0pp) == ("tait", 200.0, 3.94, None)
    assert "Holland & Powell" in NIO_EOS.reference and "verif" not in NIO_EOS.reference
    # the 2-sigma band of K0 covers 180-220 GPa, of K0' 3-5 (within rounding)
    assert NIO_EOS.k0 - 2 * NIO_EOS.k0_err <= 180.0 and NIO_EOS.k0 + 2 * NIO_EOS.k0_err >= 220.0
    assert NIO_EOS.k0p - 2 * NIO_EOS.k0p_err <= 3.0 and NIO_EOS.k0p + 2 * NIO_EOS.k0p_err >= 4.9


def tait_scalar_volume(p, v0, k0, k0p, k0pp):
    """Holland & Powell (2011) eq. 3, written out from their constants a, b, c."""
    a = (1 + k0p) / (1 + k0p + k0 * k0pp)
    b = k0p / k0 - k0pp / (1 + k0p)
    c = (1 + k0p + k0 * k0pp) / (k0p**2 + k0p - k0 * k0pp)
    return v0 * (1 - a * (1 - (1 + b * p) ** (-c)))


@pytest.mark.parametrize("p", [0.0, 5.0, 23.7, 60.0])
def test_modified_tait_matches_its_definition_and_derivatives(p):
    # The ds62 tabulated K0'' = -2e-11 Pa^-1 = -0.02 / GPa, against the convention -K0'/K0 = -0.0197.
    for k0pp in (None, -0.02):
        kpp = -3.94 / 200.0 if k0pp is None else k0pp
        eos = EOS(v0=72.864, k0=200.0, k0p=3.94, form="tait", k0pp=k0pp)
        v = eos.volume(p)
        assert float(v) == pytest.approx(tait_scalar_volume(p, 72.864, 200.0, 3.94, kpp), rel=1e-13)
        assert float(eos.pressure(v)) == pytest.approx(p, abs=1e-9)
        h = 1e-3  # K = -V dP/dV by central differences
        k_num = -float(v) * (float(eos.pressure(v + h)) - float(eos.pressure(v - h))) / (2 * h)
        assert float(eos.bulk_modulus(v)) == pytest.approx(k_num, rel=1e-7)
    # at P = 0: K = K0, dK/dP = K0'
    eos = EOS(v0=72.864, k0=200.0, k0p=3.94, form="tait")
    dp = 1e-3
    k = [float(eos.bulk_modulus(eos.volume(x))) for x in (-dp, 0.0, dp)]
    assert k[1] == pytest.approx(200.0, rel=1e-12)
    assert (k[2] - k[0]) / (2 * dp) == pytest.approx(3.94, rel=1e-5)


def test_eos_draws_follow_errors_and_covariance():
    rng = np.random.default_rng(3)
    kw = NIO_EOS.draw(rng, 40000)
    assert kw["k0"].shape == (40000, 1)
    assert np.std(kw["k0"]) == pytest.approx(10.0, rel=0.02)
    assert np.std(kw["k0p"]) == pytest.approx(0.5, rel=0.02)
    cov = ((0.0, 0.0, 0.0), (0.0, 16.0, -1.6), (0.0, -1.6, 0.25))
    kw = EOS(v0=72.0, k0=200.0, k0p=4.0, covariance=cov).draw(rng, 40000)
    c = np.corrcoef(kw["k0"][:, 0], kw["k0p"][:, 0])[0, 1]
    assert c == pytest.approx(-0.8, abs=0.02)
    assert np.all(kw["v0"] == 72.0)


@pytest.mark.parametrize("p", [1.0, 20.0, 60.0])
def test_vinet_volume_matches_brentq(p):
    v0, k0, k0p = 72.88, 205.0, 4.3
    v = brentq(lambda x: vinet_scalar(x, v0, k0, k0p) - p, 0.4 * v0, 1.01 * v0, xtol=1e-13)
    assert float(volume(p, v0=v0, k0=k0, k0p=k0p, form="vinet")) == pytest.approx(v, rel=1e-12)


@pytest.mark.parametrize("form", ["bm3", "vinet"])
def test_bulk_modulus_is_minus_v_dp_dv(form):
    kw = {"v0": 72.88, "k0": 190.0, "k0p": 4.6, "form": form}
    v = np.linspace(55.0, 74.0, 9)
    h = 1e-5
    numeric = -v * (pressure(v + h, **kw) - pressure(v - h, **kw)) / (2 * h)
    np.testing.assert_allclose(bulk_modulus(v, **kw), numeric, rtol=1e-7)


def test_forms_agree_to_second_order_at_small_compression():
    # Same v0, k0, k0p: BM3 and Vinet differ only at third order in strain.
    p = np.array([0.01, 0.1, 1.0])
    vb = volume(p, v0=1.0, k0=200.0, k0p=4.5)
    vv = volume(p, v0=1.0, k0=200.0, k0p=4.5, form="vinet")
    strain = 1 - vb
    assert np.all(np.abs(vb - vv) < 5 * strain**3 + 1e-15)


@given(
    p=st.floats(-5.0, 150.0),
    k0=st.floats(50.0, 400.0),
    k0p=st.floats(3.0, 7.0),
    form=st.sampled_from(["bm3", "vinet"]),
)
def test_volume_inverts_pressure(p, k0, k0p, form):
    p = min(p, k0)  # BM3 with k0p < 4 has a pressure maximum near 2 k0
    v = volume(p, v0=50.0, k0=k0, k0p=k0p, form=form)
    assert float(pressure(v, v0=50.0, k0=k0, k0p=k0p, form=form)) == pytest.approx(p, abs=1e-8)
    if abs(p) > 1e-6:
        assert (v < 50.0) == (p > 0)


def test_pressure_beyond_bm3_maximum_raises():
    # BM3 with k0 = 50 GPa, k0p = 3 peaks near 109 GPa: no volume gives 120 GPa.
    with pytest.raises(DataError, match="did not converge"):
        volume(120.0, v0=50.0, k0=50.0, k0p=3.0)


def test_volume_is_vectorized_and_keeps_nan():
    p = np.array([[0.0, np.nan], [10.0, 30.0]])
    v = NIO_EOS.volume(p)
    assert v.shape == (2, 2)
    assert np.isnan(v[0, 1])
    assert np.all(np.diff(v[1]) < 0)


def test_bad_form_and_parameters():
    with pytest.raises(ValidationError):
        pressure(1.0, v0=1.0, k0=1.0, k0p=4.0, form="murnaghan")
    with pytest.raises(ValidationError):
        EOS(v0=-1.0, k0=100.0, k0p=4.0)


@pytest.mark.parametrize("form", ["bm3", "vinet"])
def test_fit_recovers_parameters_from_noisy_pv_data(form, rng):
    true = EOS(v0=72.88, k0=205.0, k0p=4.5, form=form)
    p_true = np.linspace(0.5, 45.0, 18)
    v_err, p_err = 0.02, 0.15
    v = true.volume(p_true) + rng.normal(0, v_err, p_true.size)
    p = p_true + rng.normal(0, p_err, p_true.size)
    fit = fit_eos(p, v, p_err=p_err, v_err=v_err, form=form, scale_covar=False)
    for name in ("v0", "k0", "k0p"):
        est, err = getattr(fit.eos, name), getattr(fit.eos, f"{name}_err")
        assert err > 0
        assert abs(est - getattr(true, name)) < 3 * err, name
    assert 0.2 < fit.reduced_chi2 < 2.5


def test_fit_uncertainties_match_scatter_over_many_datasets(rng):
    """Pulls (estimate - truth) / error of k0 have unit spread."""
    true = EOS(v0=72.88, k0=205.0, k0p=4.0)
    p_true = np.linspace(1.0, 40.0, 12)
    v_true = true.volume(p_true)
    pulls = []
    for _ in range(60):
        p = p_true + rng.normal(0, 0.2, p_true.size)
        fit = fit_eos(p, v_true, p_err=0.2, scale_covar=False)
        pulls.append((fit.eos.k0 - 205.0) / fit.eos.k0_err)
    assert 0.7 < np.std(pulls) < 1.35
    assert abs(np.mean(pulls)) < 0.5


def test_fit_with_fixed_k0p_is_second_order(rng):
    true = EOS(v0=72.88, k0=190.0, k0p=4.0)
    p = np.linspace(0.0, 30.0, 10)
    fit = fit_eos(p, true.volume(p), p_err=0.05, fix=("k0p",), k0p=4.0)
    assert fit.eos.k0p == 4.0 and fit.eos.k0p_err == 0.0
    assert fit.eos.k0 == pytest.approx(190.0, rel=1e-6)
    assert fit.covariance[2].tolist() == [0.0, 0.0, 0.0]


def test_fit_input_errors():
    with pytest.raises(DataError):
        fit_eos([1.0, 2.0], [70.0, 69.0])
    with pytest.raises(ValidationError):
        fit_eos(np.arange(5.0), np.arange(5.0) + 60, fix=("b0",))
    p = np.arange(6.0)
    v = NIO_EOS.volume(p)
    before = v.copy()
    fit_eos(p, v, p_err=0.1)
    np.testing.assert_array_equal(v, before)


# ---------------------------------------------------------------- bond tables


def test_bond_table_interpolates_and_refuses_to_extrapolate():
    t = BondTable(np.array([0.0, 10.0, 20.0]), np.array([1.92, 1.90, 1.87]), "in_plane")
    np.testing.assert_allclose(t.distance([0.0, 5.0, 15.0, 20.0]), [1.92, 1.91, 1.885, 1.87])
    np.testing.assert_allclose(t.slope([5.0, 15.0]), [-0.002, -0.003])
    with pytest.raises(DataError, match=r"with the option extrapolate \(--extrapolate on the command line\)"):
        t.distance(25.0)
    te = BondTable(t.pressure, t.value, "in_plane", extrapolate=True)
    with pytest.warns(ExtrapolationWarning):
        assert float(te.distance(25.0)) == pytest.approx(1.855)


def test_bond_table_rejects_unsorted_pressures():
    with pytest.raises(DataError):
        BondTable(np.array([0.0, 0.0]), np.array([1.9, 1.8]), "x")


def test_read_bond_table_distances(tmp_path):
    f = tmp_path / "bonds.csv"
    f.write_text(
        "# model table\npressure,in_plane,inner_apical,outer_apical,a\n"
        "10,1.90,1.95,2.20,3.80\n0,1.92,1.97,2.30,3.84\n"
    )
    mean = read_bond_table(f, distance="mean")
    assert float(mean.distance(0.0)) == pytest.approx((4 * 1.92 + 1.97 + 2.30) / 6)
    assert list(mean.pressure) == [0.0, 10.0]
    assert float(read_bond_table(f, distance="a/2").distance(10.0)) == pytest.approx(1.90)
    assert float(read_bond_table(f, distance="inner_apical").distance(5.0)) == pytest.approx(1.96)
    with pytest.raises(ColumnError):
        read_bond_table(f, distance="apical")
    with pytest.raises(ValidationError):
        read_bond_table(f, distance="longest")
    with pytest.raises(MissingFileError):
        read_bond_table(tmp_path / "none.csv", distance="mean")
    bad = tmp_path / "bad.csv"
    bad.write_text("p,in_plane\n0,1.9\n1,1.8\n")
    with pytest.raises(ColumnError, match="pressure"):
        read_bond_table(bad, distance="in_plane")


def test_distance_has_no_default():
    with pytest.raises(TypeError):
        read_bond_table("whatever.csv")  # type: ignore[call-arg]


def test_eos_bond_slope_matches_finite_difference():
    p = np.array([0.0, 10.0, 30.0])
    h = 1e-4
    numeric = (NIO.distance(p + h) - NIO.distance(p - h)) / (2 * h)
    np.testing.assert_allclose(NIO.slope(p), numeric, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NIO.distance(np.linspace(0, 50, 6))


def test_bond_table_draws_row_and_scale_errors(tmp_path):
    rng = np.random.default_rng(5)
    t = BondTable(np.array([0.0, 14.0, 40.0]), np.array([1.92, 1.892, 1.82]), "in_plane",
                  value_err=np.array([0.0, 0.001, 0.002]), scale_err=0.03)
    p = np.array([0.0, 7.0, 14.0, 30.0])
    d = t.distance_draws(p, rng=rng, size=40000)
    assert d.shape == (40000, 4)
    np.testing.assert_allclose(d.mean(axis=0), t.distance(p), atol=5e-5)
    # contraction at 14 GPa: row error 0.001 and 3 % of 0.028 Å in quadrature
    assert np.std(d[:, 2] - d[:, 0]) == pytest.approx(np.hypot(0.001, 0.03 * 0.028), rel=0.03)
    # one row of pressures per draw
    d2 = t.distance_draws(np.tile(p, (3, 1)) * np.array([[1.0], [1.01], [0.99]]), rng=rng, size=3)
    assert d2.shape == (3, 4)
    f = tmp_path / "bonds.csv"
    f.write_text("pressure,in_plane,in_plane_err\n0,1.92,0.001\n10,1.90,0.002\n")
    read = read_bond_table(f, distance="in_plane", scale_err=0.05)
    np.testing.assert_allclose(read.value_err, [0.001, 0.002])
    assert read.scale_err == 0.05
    assert read_bond_table(f, distance="in_plane").scale_err == 0.0
