"""Options as values: validated once, one error class spelled per door, attrs, digest, flags."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import spectro
from spectro.errors import OptionError, SpectroError
from spectro.options import AnalysisOptions, ReadOptions, ValenceOptions, XanesOptions, XesOptions

CLASSES = (ReadOptions, XanesOptions, XesOptions, ValenceOptions)


@pytest.mark.parametrize(
    ("cls", "changes", "message"),
    [
        (XanesOptions, {"preedge": "spline"}, "preedge='spline' is not allowed: one of 'fit', 'centroid'"),
        (XanesOptions, {"nnorm": 4}, "nnorm=4 is not allowed: one of 0, 1, 2, 3 (or none)"),
        (XanesOptions, {"level": 1.2}, "level=1.2 is not allowed: a number in (0, 1)"),
        (XanesOptions, {"pre1": float("nan")}, "pre1=nan is not allowed: a finite number"),
        (XanesOptions, {"fit_range": (8340.0, 8320.0)}, "fit_range=(8340.0, 8320.0) is not allowed: two ascending"),
        (XanesOptions, {"peak_range": (8310.0, 8336.0)}, "peak_range=(8310.0, 8336.0) is not allowed: inside fit_range"),
        (XanesOptions, {"norm1": -40.0}, "norm1=-40.0 is not allowed: above pre2 (-30.0)"),
        (ReadOptions, {"mode": "absorbance"}, "mode='absorbance' is not allowed: one of 'transmission'"),
        (ReadOptions, {"d_spacing": -3.1}, "d_spacing=-3.1 is not allowed: a positive number or none"),
        (XesOptions, {"norm": "peak"}, "norm='peak' is not allowed: one of 'max', 'area', 'none'"),
        (XesOptions, {"fit_window": (2.0, 10.0)}, "fit_window=(2.0, 10.0) is not allowed: around the peak"),
        (XesOptions, {"kb_prime": (-20.0, -10.0), "kb_prime_offset": -8.0},
         "kb_prime_offset=-8.0 is not allowed: inside kb_prime (-20.0, -10.0)"),
        (ValenceOptions, {"anchors": "NiO=2"}, "at least two anchors of different valence"),
        (ValenceOptions, {"anchors": "NiO"}, "anchors='NiO' is not allowed: NAME=VALENCE pairs"),
    ],
)
def test_a_bad_value_names_option_value_and_what_is_allowed(cls, changes, message):
    with pytest.raises(OptionError) as caught:
        cls(**changes)
    assert message in str(caught.value)
    assert isinstance(caught.value, SpectroError) and isinstance(caught.value, ValueError)


def test_the_error_is_spelled_as_each_door_spells_the_option():
    err = OptionError("e0_anchor", "x", "a finite number or none")
    assert str(err) == "e0_anchor='x' is not allowed: a finite number or none"
    assert str(err.through("cli")) == "--e0-anchor x is not allowed: a finite number or none"
    assert str(err.through("manifest").with_context(file="m.csv", scan=3)).startswith(
        "m.csv: scan '3': column 'e0_anchor' = 'x' is not allowed"
    )


def test_unknown_options_are_refused_with_the_known_ones():
    with pytest.raises(OptionError, match="pre_1=-60 is not allowed: unknown option of XanesOptions; known: "
                                          "reference_channel, e0_anchor, pre1"):
        spectro.xanes.analyze(spectro.simulate.xanes(seed=0), pre_1=-60)


def test_options_are_frozen_and_replace_validates():
    opts = XanesOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.pre1 = -60.0
    assert opts.replace(pre1=-60).pre1 == -60.0 and opts.pre1 == -150.0
    with pytest.raises(OptionError, match="npeaks=3"):
        opts.replace(npeaks=3)


def test_values_are_made_canonical():
    opts = XanesOptions(pre1=-60, nnorm="2", fit_range=[8320, 8338.5], reference_channel="no")
    assert (opts.pre1, opts.nnorm, opts.fit_range, opts.reference_channel) == (-60.0, 2, (8320.0, 8338.5), False)
    assert ReadOptions(scans="1, 3").scans == ("1", "3") and ReadOptions(scans=[2]).scans == ("2",)


@pytest.mark.parametrize("cls", CLASSES)
def test_digest_is_stable_and_changes_with_any_option(cls):
    default = cls()
    assert default.digest() == cls().digest() and len(default.digest()) == 64
    digests = {default.digest()}
    for field in dataclasses.fields(cls):
        changed = _another_value(cls, field.name)
        if changed is not None:
            digests.add(changed.digest())
    assert len(digests) > len(dataclasses.fields(cls)) // 2


def _another_value(cls, name):
    """The options with ``name`` set to some other valid value, or None when none is found quickly."""
    for value in (True, False, 1, 0, 2, -45.0, 8350.0, 0.5, "x", "Mn", (8325.0, 8338.0), (-10.0, 4.0), "erf",
                  "gaussian", "centroid", "scans", "linear", "area", "keV", "fluorescence", "NiO=2,LaNiO3=3.5"):
        try:
            other = cls().replace(**{name: value})
        except OptionError:
            continue
        if getattr(other, name) != getattr(cls(), name):
            return other
    return None


@pytest.mark.parametrize("cls", CLASSES)
def test_attrs_survive_netcdf(cls, tmp_path):
    attrs = cls().to_attrs()
    path = tmp_path / "a.nc"
    xr.Dataset({"x": ("i", np.zeros(1))}, attrs=attrs).to_netcdf(path, engine="h5netcdf")
    back = xr.open_dataset(path, engine="h5netcdf").attrs
    assert set(back) == set(attrs)
    assert back[f"{cls.prefix}_options_sha256"] == cls().digest()


@pytest.mark.parametrize("cls", CLASSES)
def test_command_line_flags_give_the_same_options_as_keywords(cls):
    parser = argparse.ArgumentParser()
    cls.add_arguments(parser)
    assert cls.from_args(parser.parse_args([])) == cls()
    name = next(f.name for f in dataclasses.fields(cls) if _another_value(cls, f.name) is not None)
    other = _another_value(cls, name)
    value = getattr(other, name)
    if isinstance(value, bool):
        argv = [f"--{'' if value else 'no-'}{name.replace('_', '-')}"]
    elif isinstance(value, tuple):
        argv = [f"--{name.replace('_', '-')}", *(f"{v[0]}={v[1]}" if isinstance(v, tuple) else str(v) for v in value)]
    else:
        argv = [f"--{name.replace('_', '-')}", str(value)]
    assert cls.from_args(parser.parse_args(argv)) == other


def test_a_bad_flag_is_an_option_error_spelled_as_the_flag():
    parser = argparse.ArgumentParser()
    XanesOptions.add_arguments(parser)
    with pytest.raises(OptionError, match=r"^--fit-range 8340 8320 is not allowed"):
        XanesOptions.from_args(parser.parse_args(["--fit-range", "8340", "8320"]))


def test_analysis_options_check_their_parts():
    assert AnalysisOptions().digest() == AnalysisOptions().digest()
    assert AnalysisOptions(valence=None).digest() != AnalysisOptions().digest()
    with pytest.raises(OptionError, match="a XanesOptions"):
        AnalysisOptions(xanes={"pre1": -60})


@given(pre1=st.floats(-400.0, -31.0), nnorm=st.sampled_from([None, 0, 1, 2, 3]),
       preedge=st.sampled_from(["fit", "centroid"]))
def test_equal_options_have_equal_digests_however_they_are_made(pre1, nnorm, preedge):
    a = XanesOptions(pre1=pre1, nnorm=nnorm, preedge=preedge)
    b = XanesOptions().replace(preedge=preedge).replace(nnorm=nnorm, pre1=str(pre1))
    assert a == b and a.digest() == b.digest() and a.to_attrs() == b.to_attrs()


def _functions_taking(cls):
    """Public functions of the package that take ``cls`` options."""
    import spectro.batch

    return {
        ReadOptions: [spectro.read, spectro.io.parse],
        XanesOptions: [spectro.xanes.analyze, spectro.xanes.normalize, spectro.xanes.preedge,
                       spectro.xanes.analyze_arrays, spectro.batch.analyze_cube],
    }.get(cls, [])


@pytest.mark.parametrize("cls", [ReadOptions, XanesOptions])
def test_each_option_is_defined_once(cls):
    """Functions take the options object and changes to it; none restates an option in its signature."""
    import inspect

    names = set(cls.names())
    for function in _functions_taking(cls):
        parameters = inspect.signature(function).parameters
        assert not names & set(parameters), (function.__qualname__, sorted(names & set(parameters)))
        kinds = [p.kind for p in parameters.values()]
        assert inspect.Parameter.VAR_KEYWORD in kinds and "options" in parameters, function.__qualname__


def test_module_constants_are_the_option_defaults():
    from spectro.xanes import DEFAULT_WINDOWS, E0_LEVEL, FEATURE_C_ENERGY
    from spectro.xanes._preedge import FIT_RANGE, PEAK_RANGE

    d = XanesOptions()
    assert DEFAULT_WINDOWS == {"pre1": d.pre1, "pre2": d.pre2, "norm1": d.norm1, "norm2": d.norm2}
    assert (E0_LEVEL, FEATURE_C_ENERGY, FIT_RANGE, PEAK_RANGE) == (d.level, d.feature_energy, d.fit_range,
                                                                  d.peak_range)
