"""The XES kernel gives no Kbeta numbers for spectra without an emission line, and refuses non-positive errors."""

from __future__ import annotations

import glob
import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import DataError
from spectro.xes import XesFlag, analyze_arrays


@pytest.mark.parametrize("line", [0.0, 0.01], ids=["pure noise", "line at 3 sigma"])
def test_no_line_above_the_noise_gives_no_kbeta_numbers(line):
    ds = spectro.simulate.xes(seed=0)
    e, y = ds.emission_energy.values, ds.intensity.values  # peak about 1000
    noisy = line * y + np.random.default_rng(0).normal(100.0, 3.0, y.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no numpy warning reaches the user
        r = analyze_arrays(e, noisy, element="Ni")
    # pure noise has no maximum where the line should be; a 10-count line on 3-count noise has one, but not
    # above the noise
    want = XesFlag.KB13_NOT_FOUND if line == 0 else XesFlag.NO_PEAK_ABOVE_NOISE
    assert int(r.flags[0]) == want
    for name in ("kb13_energy", "kb13_m1", "kb_prime_ratio", "kb25_energy", "iad"):
        assert np.isnan(getattr(r, name)[0]), name


def test_a_weak_line_above_the_noise_is_kept():
    ds = spectro.simulate.xes(seed=1, noise=0.02)
    r = analyze_arrays(ds.emission_energy.values, ds.intensity.values, element="Ni")
    assert not (r.flags & XesFlag.NO_PEAK_ABOVE_NOISE).any() and np.isfinite(r.kb13_energy).all()


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_non_positive_errors_are_refused(bad):
    ds = spectro.simulate.xes(seed=0)
    err = np.full(ds.intensity.shape, 0.01)
    err[0, 10] = bad
    with pytest.raises(DataError, match="intensity_err must be positive"):
        analyze_arrays(ds.emission_energy.values, ds.intensity.values, err, element="Ni")


@pytest.mark.realdata
def test_measured_mn_kbeta_lines_stand_above_the_noise(data_dir):
    files = sorted(glob.glob(str(data_dir / "xes" / "advxafs_*XES_*.dat")))
    assert files
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = spectro.xes.analyze(spectro.read(path))
        assert not (res.flags.values & int(XesFlag.NO_PEAK_ABOVE_NOISE)).any(), path
