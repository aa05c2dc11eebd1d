"""Pre-edge centroid, area and height: lmfit models and the model-free centroid."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spectro
from spectro.errors import FitError
from spectro.xanes import (
    normalize_arrays,
    preedge,
    preedge_centroid_arrays,
    preedge_fit_arrays,
)


_PREEDGE_FLAGS = sum((f for f in spectro.xanes.XanesFlag if f.name.startswith("PREEDGE")), 0)


def _norm(ds):
    return normalize_arrays(ds.energy.values, ds.mu.values).norm


def test_fit_centroid_within_005_ev_of_truth():
    ds = spectro.simulate.xanes(
        valence=np.linspace(2.0, 3.0, 6),
        preedge_shift=np.linspace(-1.0, 1.0, 6),
        n_scans=6,
        seed=1,
    )
    r = preedge_fit_arrays(ds.energy.values, _norm(ds))
    np.testing.assert_allclose(r.centroid, ds.true_preedge_centroid.values, atol=0.05)
    assert np.all(r.centroid_err > 0)


def test_two_gaussians_centroid_area_and_errors():
    e = np.arange(8320.0, 8340.0, 0.2)
    a1, c1, a2, c2, s = 0.06, 8332.0, 0.03, 8334.2, 0.6
    gauss = lambda a, c: (
        a / (s * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((e - c) / s) ** 2)
    )
    clean = 0.01 + 0.003 * (e - 8320) + gauss(a1, c1) + gauss(a2, c2)
    truth = (a1 * c1 + a2 * c2) / (a1 + a2)
    rng = np.random.default_rng(4)
    noisy = clean + 0.0005 * rng.standard_normal((60, e.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = preedge_fit_arrays(
            e,
            noisy,
            fit_range=(8324.0, 8340.0),
            peak_range=(8330.0, 8336.5),
            baseline="linear",
            peak="gaussian",
            npeaks=2,
        )
    assert np.nanmedian(r.centroid) == pytest.approx(truth, abs=0.03)
    assert np.nanmedian(r.area) == pytest.approx(a1 + a2, rel=0.05)
    # the propagated centroid error matches the (robust) scatter over the draws
    dev = np.abs(r.centroid - np.nanmedian(r.centroid))
    assert 1.4826 * np.nanmedian(dev) == pytest.approx(
        np.nanmedian(r.centroid_err), rel=0.35
    )
    assert np.mean(dev < 5 * np.nanmedian(r.centroid_err)) > 0.9


def test_model_free_centroid_of_a_gaussian_on_a_line():
    e = np.arange(8320.0, 8345.0, 0.1)
    centres = np.array([8332.5, 8333.0, 8333.6])
    norm = (
        0.02
        + 0.002 * (e - 8320)
        + 0.05 * np.exp(-0.5 * ((e - centres[:, None]) / 0.7) ** 2)
    )
    r = preedge_centroid_arrays(
        e, norm, fit_range=(8325.0, 8341.0), peak_range=(8329.5, 8337.0)
    )
    np.testing.assert_allclose(r.centroid, centres, atol=0.01)
    np.testing.assert_allclose(r.area, 0.05 * 0.7 * np.sqrt(2 * np.pi), rtol=0.01)
    np.testing.assert_allclose(r.height, 0.05, rtol=0.01)


def test_model_free_error_matches_scatter():
    e = np.arange(8320.0, 8345.0, 0.25)
    clean = 0.02 + 0.002 * (e - 8320) + 0.05 * np.exp(-0.5 * ((e - 8333.0) / 0.8) ** 2)
    rng = np.random.default_rng(5)
    noisy = clean + 0.002 * rng.standard_normal((500, e.size))
    r = preedge_centroid_arrays(
        e, noisy, fit_range=(8325.0, 8341.0), peak_range=(8330.0, 8336.0)
    )
    assert np.std(r.centroid) == pytest.approx(np.median(r.centroid_err), rel=0.3)


def test_tail_baselines_need_the_edge_energy():
    e = np.arange(8320.0, 8345.0, 0.25)
    with pytest.raises(FitError, match="edge energy"):
        preedge_centroid_arrays(e, np.zeros_like(e), baseline="arctan")


@pytest.mark.parametrize("baseline", ["arctan", "erf", "lorentzian"])
def test_every_tail_baseline_finds_the_simulated_peak(baseline):
    ds = spectro.simulate.xanes(seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = preedge_fit_arrays(ds.energy.values, _norm(ds), baseline=baseline)
    assert abs(r.centroid[0] - ds.true_preedge_centroid.values[0]) < 0.1


def test_dataset_wrapper():
    ds = spectro.simulate.xanes(n_scans=2, preedge_shift=[0.0, 0.5], seed=3)
    out = preedge(spectro.xanes.normalize(ds))
    assert out.preedge_centroid.attrs["units"] == "eV"
    assert float(out.preedge_centroid[1] - out.preedge_centroid[0]) == pytest.approx(
        0.5, abs=0.05
    )


def test_real_nio_preedge_is_near_8333(data_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spectro.read(data_file("xanes/larch_NiO.prj"))
        res = spectro.xanes.analyze(ds, reference_channel=False)
    # the NiO 1s->3d pre-edge lies about 8333 eV (Ni K edge 8333 eV; e.g. Farges et al.)
    assert np.all(np.abs(res.preedge_centroid.values - 8333.3) < 0.5)
    # a straight line fitted on both sides of the peak window climbs the edge above 8336.5 eV: its residual
    # is negative, a centroid of it would mean nothing
    free_area = spectro.xanes.preedge_centroid_arrays(ds.energy.values, res.norm.values).area
    assert np.all(free_area < 0)
    # the analysis' baseline follows the edge tail: every model-free centroid is there, within 0.3 eV of the
    # fitted one, and no scan carries a pre-edge flag
    assert np.all(np.abs(res.preedge_centroid_free.values - res.preedge_centroid.values) < 0.3)
    assert not np.any(res.flags.values & _PREEDGE_FLAGS)


def test_real_lanio3_preedge_fit_converges_above_nio(data_file):
    """The Ni3+ pre-edge lies above the Ni2+ one, and both default fits converge with error bars."""
    centroids = {}
    for name in ("xanes/ceric_NiO_111.xdi", "xanes/ceric_LaNiO3_Ni_80K_111.xdi"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", spectro.errors.FitWarning)
            warnings.simplefilter("ignore", spectro.errors.FormatWarning)
            res = spectro.xanes.analyze(spectro.read(data_file(name)))
        assert 0 < float(res.preedge_centroid_err[0]) < 0.1
        centroids[name] = float(res.preedge_centroid[0])
    shift = centroids["xanes/ceric_LaNiO3_Ni_80K_111.xdi"] - centroids["xanes/ceric_NiO_111.xdi"]
    assert 0.5 < shift < 2.5


def test_height_error_is_the_linear_propagation_lmfit_gives_derived_parameters():
    """The height error is propagated from the covariance as lmfit does for its derived ``height``."""
    from lmfit import lineshapes

    module = _module()
    rng = np.random.default_rng(1)
    x = np.arange(0.0, 12.0, 0.1)
    y = 0.02 + lineshapes.pvoigt(x, 0.1, 5.0, 0.8, 0.5) + rng.normal(0.0, 0.002, x.size)
    for peak in ("pseudovoigt", "gaussian"):
        model = module._build_model("linear", peak, 1)
        start = {"b_slope": 0.0, "b_intercept": 0.02, "p0_amplitude": 0.1, "p0_center": 5.0, "p0_sigma": 0.8}
        with_derived = model.fit(y, model.make_params(**start), x=x, method="least_squares")
        assert with_derived.params["p0_height"].stderr > 0
        mine = preedge_fit_arrays(x, y, fit_range=(0.0, 12.0), peak_range=(2.0, 8.0), baseline="linear", peak=peak)
        assert mine.centroid == pytest.approx(with_derived.params["p0_center"].value, abs=1e-4)
        assert mine.height_err == pytest.approx(with_derived.params["p0_height"].stderr, rel=1e-3)


def test_fit_with_analytic_jacobian_is_the_composite_model_fit():
    """_fit_one evaluates the components and their derivatives directly; lmfit's Model.fit agrees."""
    import importlib

    module = importlib.import_module("spectro.xanes._preedge")
    sim = spectro.simulate.xanes(valence=2.4, noise=0.003, seed=4)
    norm = spectro.xanes.normalize(sim).norm.values[0]
    e = sim.energy.values
    inside = (e >= module.FIT_RANGE[0]) & (e <= module.FIT_RANGE[1])
    for baseline, peak in (("arctan", "pseudovoigt"), ("lorentzian", "gaussian"), ("linear", "pseudovoigt")):
        model = module._build_model(baseline, peak, 1)
        fast, origin = module._fit_one(model, e[inside], norm[inside], baseline, 1, module.PEAK_RANGE, 8333.0)
        x = e[inside] - origin
        start = module._start(model, x, norm[inside], baseline, 1, (module.PEAK_RANGE[0] - origin,
                               module.PEAK_RANGE[1] - origin), 8333.0 - origin)
        slow = model.fit(norm[inside], start, x=x, nan_policy="omit", max_nfev=2000, method="least_squares")
        assert fast.success and slow.success and fast.nfev < slow.nfev / 3
        # the same minimum, to a small fraction of the centre's own error (the two optimizers stop
        # at slightly different points of a flat minimum; the analytic Jacobian's is never worse)
        stderr = fast.params["p0_center"].stderr
        assert fast.params["p0_center"].value == pytest.approx(slow.params["p0_center"].value, abs=0.02 * stderr)
        assert stderr == pytest.approx(slow.params["p0_center"].stderr, rel=1e-2)
        assert fast.chisqr <= slow.chisqr * (1 + 1e-9) and fast.chisqr == pytest.approx(slow.chisqr, rel=1e-5)
        values = module._evaluator(model)(fast.params.valuesdict(), e[inside] - origin)
        np.testing.assert_array_equal(sum(values.values()), model.eval(fast.params, x=e[inside] - origin))


@pytest.mark.parametrize("baseline", ["arctan", "erf", "lorentzian", "linear"])
@pytest.mark.parametrize("peak", ["pseudovoigt", "gaussian"])
def test_analytic_gradient_matches_central_differences(baseline, peak):
    import importlib

    module = importlib.import_module("spectro.xanes._preedge")
    model = module._build_model(baseline, peak, 2)
    x = np.linspace(0.0, 15.0, 301)
    values = {"b_c": 0.02, "b_slope": 0.003, "b_intercept": 0.01, "s_amplitude": 0.9, "s_center": 16.0,
              "s_sigma": 2.5, "p0_amplitude": 0.06, "p0_center": 7.0, "p0_sigma": 0.8, "p0_fraction": 0.3,
              "p1_amplitude": 0.03, "p1_center": 9.0, "p1_sigma": 1.1, "p1_fraction": 0.6}
    evaluate, gradient = module._evaluator(model), module._gradient(model)
    names = [n for n in module._start(model, x, x, baseline, 2, (5.0, 11.0), 8.0) if n in values]
    grads = gradient({n: values[n] for n in names}, x)
    assert sorted(grads) == sorted(names)
    for name in names:
        h = 1e-6 * max(abs(values[name]), 1.0)
        up = sum(evaluate({**values, name: values[name] + h}, x).values())
        down = sum(evaluate({**values, name: values[name] - h}, x).values())
        np.testing.assert_allclose(grads[name], (up - down) / (2 * h), rtol=1e-6, atol=1e-8, err_msg=name)


# --- the vectorized fit against lmfit, and the checks, on every real spectrum -------------------------------


def _module():
    import importlib

    return importlib.import_module("spectro.xanes._preedge")


@pytest.fixture(scope="module")
def real_rows(data_dir):
    """Every real Ni K spectrum of the data folder, normalized, on its calibrated energies, NaN-padded rows."""
    energies, norms = [], []
    for path in sorted((data_dir / "xanes").iterdir()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = spectro.read(path)
            res = spectro.xanes.analyze(ds, preedge="centroid")
        shift = np.nan_to_num(res.calibration_shift.values)
        for i in range(ds.sizes["scan"]):
            energies.append(ds.energy.values + shift[i])
            norms.append(res.norm.values[i])
    width = max(len(e) for e in energies)
    x, y = np.full((2, len(energies), width), np.nan)
    for i, (e, n) in enumerate(zip(energies, norms)):
        x[i, : len(e)], y[i, : len(n)] = e, n
    assert len(energies) > 30
    return x, y


def _both(x, y, **model):
    """The vectorized fit and lmfit's, with the parameters and covariances of each (fitted rows)."""
    module = _module()
    from spectro.xanes import _lsq

    comps = module._components(model.get("baseline", "arctan"), model.get("peak", "pseudovoigt"),
                               model.get("npeaks", 1))
    rows = module._fit_rows(x, y, module.FIT_RANGE, module.PEAK_RANGE, comps)
    mine = _lsq.least_squares(module._row_model(comps, rows.x), rows.y, rows.mask, *rows.start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, p_ref, cov_ref = module._preedge_fit_lmfit(x, y, **model)
    return preedge_fit_arrays(x, y, **model), mine, ref, p_ref, cov_ref, rows


def test_vectorized_fit_gives_lmfits_parameters_covariances_and_failures_on_every_real_spectrum(real_rows):
    """The default model: the same minimum as lmfit's trust-region fit, the same errors, the same flags."""
    fit, mine, ref, p_ref, cov_ref, rows = _both(*real_rows)
    for name in ("ok", "converged", "singular", "on_bound"):
        np.testing.assert_array_equal(getattr(fit, name), getattr(ref, name), err_msg=name)
    assert fit.ok.sum() > 30 and fit.on_bound.sum() >= 1  # the Ni foil of one source has no peak in the window
    good = (fit.ok & ~fit.on_bound)[rows.fitted]
    sd = np.sqrt(np.diagonal(cov_ref, axis1=1, axis2=2))[good]
    assert np.all(np.abs(mine.p[good] - p_ref[good]) <= 0.05 * sd)
    np.testing.assert_allclose(mine.cov[good], cov_ref[good], rtol=0.02, atol=1e-3 * sd.max() ** 2)
    both = fit.ok & ~fit.on_bound
    for name in ("centroid", "area", "height"):
        value, err = getattr(fit, name)[both], getattr(ref, f"{name}_err")[both]
        assert np.all(np.abs(value - getattr(ref, name)[both]) <= 0.05 * err), name
        np.testing.assert_allclose(getattr(fit, f"{name}_err")[both], err, rtol=0.02, err_msg=name)


@pytest.mark.parametrize("model", [dict(baseline="erf", peak="gaussian"), dict(npeaks=2),
                                   dict(baseline="erf", peak="gaussian", npeaks=2)])
def test_other_models_agree_with_lmfit_where_lmfit_finds_a_peak(real_rows, model):
    """Spectra with several minima (two peaks where the data hold one) may end in different ones.

    Where lmfit's fit is unflagged, the vectorized one ends in the same
    minimum, or a lower one, or is flagged itself, or its centroid lies
    within lmfit's centroid error. (Where lmfit's puts a peak on a bound,
    e.g. two peaks on the weak Ni2O3 pre-edge, the vectorized fit may stop
    in another minimum of higher chi-square: both are then honest about
    what they found, lmfit's flagged.)
    """
    fit, mine, ref, p_ref, cov_ref, rows = _both(*real_rows, **model)
    f = rows.fitted
    flagged, ref_flagged = (~fit.ok | fit.on_bound)[f], (~ref.ok | ref.on_bound)[f]
    same = np.abs(mine.chisqr - ref.redchi[f] * mine.nfree) <= 1e-5 * mine.chisqr
    lower = mine.chisqr <= ref.redchi[f] * mine.nfree
    close = np.abs(fit.centroid - ref.centroid)[f] <= ref.centroid_err[f]
    assert np.all(same | lower | flagged | close | ref_flagged)
    assert same.sum() > 25
    # at the same minimum the same centroid, area and errors (two peaks may come out in either order)
    agree = np.zeros(fit.ok.shape, bool)
    agree[f] = same & ~flagged & ~ref_flagged
    for name in ("centroid", "area"):
        err = getattr(ref, f"{name}_err")[agree]
        assert np.all(np.abs(getattr(fit, name)[agree] - getattr(ref, name)[agree]) <= 0.05 * err), name
        np.testing.assert_allclose(getattr(fit, f"{name}_err")[agree], err, rtol=0.05, err_msg=name)


def test_no_unflagged_preedge_centroid_outside_its_window_or_with_an_error_above_10_ev(data_dir):
    flag = spectro.xanes.XanesFlag
    lo, hi = spectro.options.XanesOptions().peak_range
    pre = sum((f for f in flag if f.name.startswith("PREEDGE")), flag(0))
    checked = 0
    for path in sorted((data_dir / "xanes").iterdir()):
        for method in ("fit", "centroid"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = spectro.xanes.analyze(spectro.read(path), preedge=method, spectra=False)
            flags = res.flags.values
            for name in ("preedge_centroid", "preedge_centroid_free"):
                c, err = res[name].values, res[f"{name}_err"].values
                with np.errstate(invalid="ignore"):
                    assert not np.any((c < lo) | (c > hi)), f"{path.name} {name}: a centroid outside its window"
                    assert not np.any((err > 10.0) & ~(flags & pre).astype(bool)), f"{path.name} {name}"
                # a centroid on the window's edge is a fit bound, not a measurement
                assert not np.any((np.abs(c - lo) < 0.01) | (np.abs(c - hi) < 0.01)), f"{path.name} {name}"
                checked += np.isfinite(c).sum()
            bad = (flags & (flag.PREEDGE_OUTSIDE_WINDOW | flag.PREEDGE_ON_BOUND)).astype(bool)
            if method == "fit":
                fit_bad = (flags & flag.PREEDGE_ON_BOUND).astype(bool)
                assert np.isnan(res.preedge_centroid.values[fit_bad]).all()
            assert np.isnan(res.preedge_centroid_free.values[(flags & flag.PREEDGE_AREA_NOT_POSITIVE) > 0]).all()
            assert not np.any(bad & np.isfinite(res.preedge_centroid.values) & np.isfinite(
                res.preedge_centroid_free.values))
    assert checked > 30


def test_flagged_preedge_scans_are_named_in_the_warnings(data_file):
    path = data_file("xanes/xasref_Nifoil.prj")  # a foil: its edge rises inside the pre-edge window
    with pytest.warns(spectro.errors.SpectroWarning, match="xasref_Nifoil.prj.*no pre-edge peak apart from the edge"):
        res = spectro.xanes.analyze(spectro.read(path), reference_channel=False)
    assert res.flags.values[0] & spectro.xanes.XanesFlag.PREEDGE_ON_EDGE
    assert np.isnan(res.preedge_centroid.values[0])


@settings(max_examples=25)
@given(shift=st.one_of(st.floats(-4.0, 4.0), st.sampled_from([1e-3, -1e-3, 0.0625])))
def test_both_centroids_move_exactly_with_an_energy_shift(shift):
    """Shifting the energies and the calibrated windows together moves both centroids by the shift exactly."""
    ds = spectro.simulate.xanes(valence=2.4, noise=0.002, seed=7)
    opts = spectro.options.XanesOptions()
    moved = opts.replace(fit_range=tuple(v + shift for v in opts.fit_range),
                         peak_range=tuple(v + shift for v in opts.peak_range))
    e, mu = ds.energy.values, ds.mu.values
    a = spectro.xanes.analyze_arrays(e, mu, None, opts)
    b = spectro.xanes.analyze_arrays(e + shift, mu, None, moved)
    assert a.flags[0] == b.flags[0] == 0
    assert b.preedge_centroid_free[0] - a.preedge_centroid_free[0] == pytest.approx(shift, abs=1e-6)
    assert b.preedge_centroid[0] - a.preedge_centroid[0] == pytest.approx(shift, abs=1e-4)
    assert b.preedge_centroid_err[0] == pytest.approx(a.preedge_centroid_err[0], rel=1e-3)


@settings(max_examples=25)
@given(shift=st.one_of(st.floats(-4.0, 4.0), st.sampled_from([1e-3, -1e-3])))
def test_model_free_centroid_of_real_spectra_moves_exactly_with_an_energy_shift(real_grid, shift):
    """Real grids: the window no longer snaps to grid points, so a 1 meV shift moves the centroid 1 meV."""
    e, norm = real_grid
    fit_range, peak_range = (8320.0, 8338.5), (8330.0, 8336.5)
    a = preedge_centroid_arrays(e, norm, fit_range=fit_range, peak_range=peak_range)
    b = preedge_centroid_arrays(e + shift, norm, fit_range=tuple(v + shift for v in fit_range),
                                peak_range=tuple(v + shift for v in peak_range))
    np.testing.assert_allclose(b.centroid - a.centroid, shift, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.area, a.area, rtol=1e-6)


@pytest.fixture(scope="module")
def real_grid(data_file):
    """The normalized real LaNiO3 spectrum on its measured grid."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spectro.read(data_file("xanes/ceric_LaNiO3_Ni_80K_111.xdi"))
        res = spectro.xanes.analyze(ds, preedge="centroid", reference_channel=False)
    return ds.energy.values, res.norm.values


# --- the model-free baseline that follows the edge tail ("tail") ----------------------------------------------

#: The real Ni oxides and sulfide of the data folder (file name parts): a pre-edge peak or shoulder below the edge.
OXIDES = ("NiO", "NickelOxide", "LaNiO3", "LanthanumNickelate", "Ni2O3", "NickelBorate")
#: The spectra whose edge rises inside the pre-edge window (metal, foils, sulfides): no pre-edge peak apart from it.
ON_EDGE = ("foil", "Foil", "metal", "NiS_", "FeNiS")
#: Those with a clear, isolated pre-edge peak.
CLEAR_PEAK = ("NiO", "NickelOxide", "LaNiO3", "LanthanumNickelate", "NickelBorate")


@pytest.fixture(scope="module")
def real_analyses(data_dir):
    """Every real spectrum of the data folder: (file name, default analysis with spectra, calibrated energies)."""
    out = []
    for path in sorted((data_dir / "xanes").iterdir()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = spectro.read(path)
            res = spectro.xanes.analyze(ds)
        shift = np.nan_to_num(res.calibration_shift.values)[:, None]
        out.append((path.name, res, ds.energy.values + shift))
    return out


def _free(res, energy):
    """The model-free estimate of the analysis, with its systematic, from the analysis' own normalized spectra."""
    return preedge_centroid_arrays(energy, res.norm.values, baseline="tail", sigma=None)


def test_tail_centroid_is_finite_in_its_window_and_agrees_with_the_fit_on_every_real_oxide(real_analyses):
    lo, hi = spectro.options.XanesOptions().peak_range
    checked_scans = clear = 0
    for name, res, energy in real_analyses:
        if not any(part in name for part in OXIDES):
            continue
        free = _free(res, energy)
        c, err = res.preedge_centroid_free.values, res.preedge_centroid_free_err.values
        np.testing.assert_array_equal(c, free.centroid, err_msg=name)  # the analysis' model-free centroid is this
        assert np.all((c > lo) & (c < hi)), name
        assert np.all(free.area > 0) and np.all(np.isfinite(free.centroid_sys)), name
        fit, fit_err = res.preedge_centroid.values, res.preedge_centroid_err.values
        combined = np.sqrt(fit_err**2 + err**2 + free.centroid_sys**2)
        assert np.all(np.abs(fit - c) <= 3 * combined), name
        assert not np.any(res.flags.values & _PREEDGE_FLAGS), name
        if any(part in name for part in CLEAR_PEAK):
            # a clear peak: the two estimates within 0.3 eV, and the systematic below 1 eV
            assert np.all(np.abs(fit - c) < 0.3) and np.all(free.centroid_sys < 1.0), name
            clear += c.size
        checked_scans += c.size
    assert checked_scans >= 20 and clear >= 17


def test_real_spectra_carry_pre_edge_flags_only_without_a_ni_pre_edge_peak(real_analyses):
    """Flagged: the Mn K spectra (no Ni K edge: no pre-edge fit), and the metal, foils and sulfides, whose edge
    rises inside the pre-edge window (``PREEDGE_ON_EDGE``: their pre-edge numbers are NaN)."""
    on_edge = int(spectro.xanes.XanesFlag.PREEDGE_ON_EDGE)
    lo, hi = spectro.options.XanesOptions().peak_range
    for name, res, _ in real_analyses:
        flags = res.flags.values
        c = res.preedge_centroid_free.values
        if name.startswith("advxafs"):  # Mn K: no point in the Ni K windows
            continue
        if any(part in name for part in ON_EDGE):
            assert np.all(flags & on_edge) and np.all(np.isnan(c)), name
            assert not np.any(flags & (_PREEDGE_FLAGS & ~on_edge)), name  # one reason
        else:
            assert not np.any(flags & _PREEDGE_FLAGS), name
            assert np.all((c > lo) & (c < hi)), name


def test_tail_baseline_results_of_a_row_do_not_depend_on_the_other_rows(real_rows):
    """Real spectra on NaN-padded grids of their own: alone or all together, bit for bit."""
    x, y = real_rows
    every = preedge_centroid_arrays(x, y, baseline="tail", sigma=0.001)
    for i in range(0, x.shape[0], 5):
        alone = preedge_centroid_arrays(x[i:i + 1], y[i:i + 1], baseline="tail", sigma=0.001)
        for name in ("centroid", "centroid_err", "centroid_sys", "area", "area_err", "height", "tail_width"):
            np.testing.assert_array_equal(getattr(alone, name)[0], getattr(every, name)[i], err_msg=name)
    # one shared grid: the same numbers for a spectrum alone and among others
    e = np.arange(8315.0, 8345.0, 0.3)
    rng = np.random.default_rng(2)
    spectra = (0.02 * np.exp((e - 8338.5) / rng.uniform(1.0, 5.0, (20, 1)))
               + 0.04 * np.exp(-0.5 * ((e - rng.uniform(8332, 8335, (20, 1))) / 0.7) ** 2)
               + 0.002 * rng.standard_normal((20, e.size)))
    together = preedge_centroid_arrays(e, spectra, baseline="tail")
    for i in (0, 7, 19):
        alone = preedge_centroid_arrays(e, spectra[i], baseline="tail")
        for name in ("centroid", "centroid_err", "centroid_sys", "area"):
            np.testing.assert_array_equal(getattr(alone, name), getattr(together, name)[i], err_msg=name)


def test_tail_baseline_recovers_a_peak_on_an_exponential_edge_foot():
    """A Gaussian on a line plus an exponential foot of each grid width: the centroid and area come back."""
    module = _module()
    e = np.arange(8318.0, 8342.0, 0.2)
    for width in module.TAIL_WIDTHS:
        norm = (0.004 + 0.0005 * (e - 8318) + 0.05 * np.exp((e - 8338.5) / width)
                + 0.03 * np.exp(-0.5 * ((e - 8333.1) / 0.6) ** 2))
        r = preedge_centroid_arrays(e, norm, baseline="tail", sigma=1e-5)
        assert float(r.tail_width) == width
        assert float(r.centroid) == pytest.approx(8333.1, abs=0.01)
        assert float(r.area) == pytest.approx(0.03 * 0.6 * np.sqrt(2 * np.pi), rel=0.01)


def test_tail_centroid_error_matches_the_scatter_of_simulated_draws():
    """Fixed truth, 300 noise draws: the propagated error (noise of the baseline points included) is the scatter."""
    ds = spectro.simulate.xanes(valence=np.full(300, 2.5), n_scans=300, noise=0.002, seed=5)
    res = spectro.xanes.analyze_arrays(ds.energy.values, ds.mu.values, None, preedge="centroid")
    r = preedge_centroid_arrays(ds.energy.values, res.norm, baseline="tail")
    assert np.std(r.centroid) == pytest.approx(np.median(r.centroid_err), rel=0.25)
    # the truth (the peak centre) lies within the total error of most draws
    total = np.hypot(r.centroid_err, r.centroid_sys)
    inside = np.abs(r.centroid - ds.true_preedge_centroid.values) < 2 * total
    assert inside.mean() > 0.85


def test_clean_simulated_spectra_do_not_warn_that_the_centroids_disagree():
    flag = spectro.xanes.XanesFlag
    ds = spectro.simulate.xanes(valence=np.linspace(2.0, 3.0, 60), n_scans=60, noise=0.002, seed=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", spectro.errors.SpectroWarning)
        res = spectro.xanes.analyze(ds, spectra=False)
    assert not np.any(res.flags.values & _PREEDGE_FLAGS)
    truth = ds.true_preedge_centroid.values
    for name in ("preedge_centroid", "preedge_centroid_free"):
        assert np.all(np.abs(res[name].values - truth) < 0.3), name
    assert flag.PREEDGE_CENTROIDS_DISAGREE.name == "PREEDGE_CENTROIDS_DISAGREE"


def test_a_second_peak_the_fit_leaves_out_is_a_disagreement():
    """One fitted peak on the main pre-edge line, the model-free centroid of both lines: flagged, values kept."""
    ds = spectro.simulate.xanes(valence=np.full(4, 2.0), n_scans=4, noise=0.001, seed=12, preedge_shift=-1.5)
    e = ds.energy.values
    plain = spectro.xanes.analyze_arrays(e, ds.mu.values, None)
    assert not np.any(plain.flags & _PREEDGE_FLAGS)
    two = plain.norm + 0.03 * np.exp(-0.5 * ((e - 8335.3) / 0.5) ** 2)
    r = spectro.xanes.analyze_arrays(e, two, None, normalized=True)
    assert np.all(r.flags & spectro.xanes.XanesFlag.PREEDGE_CENTROIDS_DISAGREE)
    assert np.all(r.preedge_centroid_free - r.preedge_centroid > 0.5)  # the second line pulls the centroid up
    assert np.all(np.isfinite(r.preedge_centroid) & np.isfinite(r.preedge_centroid_free))


def test_checked_compares_within_the_model_free_systematic():
    module = _module()
    e = np.arange(8318.0, 8342.0, 0.2)
    norm = 0.004 + 0.05 * np.exp((e - 8338.5) / 2.0) + 0.03 * np.exp(-0.5 * ((e - 8333.1) / 0.6) ** 2)
    free = preedge_centroid_arrays(e, norm[None], baseline="tail", sigma=1e-4)
    fit = preedge_fit_arrays(e, norm[None])
    base = module.checked(fit, free, module.PEAK_RANGE)
    assert not base.disagree[0] and base.centroid_free_sys[0] == free.centroid_sys[0]
    # moved beyond 3 combined errors (statistical and systematic): disagree; within them: not
    import dataclasses

    combined = np.sqrt(fit.centroid_err**2 + free.centroid_err**2 + free.centroid_sys**2)
    for factor, expected in ((2.5, False), (3.5, True)):
        moved = dataclasses.replace(free, centroid=fit.centroid + factor * combined)
        assert module.checked(fit, moved, module.PEAK_RANGE).disagree[0] == expected


@pytest.mark.parametrize("n", [1, 5, 8, 27, 75, 128, 129, 300])
def test_column_sums_are_numpys_row_sums_bit_for_bit(n):
    """The one-sided passes sum over the points as whole rows of spectra; each spectrum's sum is np.sum's."""
    from spectro.xanes._preedge import _column_sum

    rng = np.random.default_rng(n)
    rows = rng.standard_normal((50, n)) * 10.0 ** rng.integers(-6, 6, (50, n))
    np.testing.assert_array_equal(_column_sum(np.ascontiguousarray(rows.T)), np.sum(rows, -1))
