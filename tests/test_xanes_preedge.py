"""Pre-edge centroid, area and height: lmfit models and the model-free centroid."""

import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import FitError
from spectro.xanes import (
    normalize_arrays,
    preedge,
    preedge_centroid_arrays,
    preedge_fit_arrays,
)


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
    # the model-free line, fitted on both sides of the peak window, climbs the edge above 8336.5 eV: the
    # residual is negative, so the model-free centroid means nothing and says so
    free_area = spectro.xanes.preedge_centroid_arrays(ds.energy.values, res.norm.values).area
    assert np.all(free_area < 0) and np.isnan(res.preedge_centroid_free.values).all()
    assert np.all(res.flags.values & spectro.xanes.XanesFlag.PREEDGE_AREA_NOT_POSITIVE)


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
    """The fit runs without lmfit's derived fwhm/height; the height error is propagated as lmfit would."""
    import importlib

    from lmfit import lineshapes

    module = importlib.import_module("spectro.xanes._preedge")  # the module, not the function it exports

    rng = np.random.default_rng(1)
    x = np.arange(0.0, 12.0, 0.1)
    y = 0.02 + lineshapes.pvoigt(x, 0.1, 5.0, 0.8, 0.5) + rng.normal(0.0, 0.002, x.size)
    for peak in ("pseudovoigt", "gaussian"):
        model = module._build_model("linear", peak, 1)
        start = {"b_slope": 0.0, "b_intercept": 0.02, "p0_amplitude": 0.1, "p0_center": 5.0, "p0_sigma": 0.8}
        with_derived = model.fit(y, model.make_params(**start), x=x, method="least_squares")
        assert with_derived.params["p0_height"].stderr > 0
        params = model.make_params(**start)
        for name in module._derived(model):
            del params[name]
        without = model.fit(y, params, x=x, method="least_squares")
        assert without.params["p0_center"].value == with_derived.params["p0_center"].value
        assert module._height_err(without, model) == pytest.approx(with_derived.params["p0_height"].stderr, rel=1e-6)


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
