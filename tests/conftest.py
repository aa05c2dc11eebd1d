"""Shared fixtures.

Real spectra are read from the folder named by ``SPECTRO_DATA_DIR`` (CI sets
it to ``../shared/data``). Without it, a test that asks for one file
(``data_file``) takes the catalogued reference of that name from the user
cache where ``spectro refs fetch`` put it; tests whose files are not there,
and those that need the whole folder (``data_dir``), are skipped locally,
and the run ends with one line saying how many and why. Under ``CI=true``
they fail instead, so they can never skip silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "spectro", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.load_profile("spectro")


def _data_dir() -> Path | None:
    value = os.environ.get("SPECTRO_DATA_DIR")
    return Path(value).resolve() if value else None


DATA_DIR = _data_dir()


def _need_data() -> Path:
    if DATA_DIR is not None and DATA_DIR.is_dir():
        return DATA_DIR
    message = "real spectra need SPECTRO_DATA_DIR pointing at shared/data"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real spectra (``SPECTRO_DATA_DIR``)."""
    return _need_data()


def _cached(relative: str) -> Path | None:
    """The catalogued reference named like ``relative`` in the user cache (``spectro refs fetch``), else None."""
    from spectro.references import catalogue, locate

    name = Path(relative).name
    for ref in catalogue():
        if ref.file == name:
            return locate(ref)
    return None


@pytest.fixture(scope="session")
def data_file():
    """Return the path of a real spectrum given relative to ``SPECTRO_DATA_DIR`` (or fetched into the cache)."""

    def get(relative: str) -> Path:
        if DATA_DIR is None or not DATA_DIR.is_dir():
            cached = _cached(relative)
            return cached if cached is not None else _need_data()
        path = DATA_DIR / relative
        if not path.is_file():
            pytest.fail(f"{relative} is missing from {DATA_DIR}")
        return path

    return get


#: What the skip reasons of tests without their real spectra say.
_NO_DATA_WORDS = "SPECTRO_DATA_DIR"


def pytest_unconfigure(config):
    """End the run with one line, after pytest's own summary: how many real-data tests were skipped, and why."""
    terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
    if terminalreporter is None or hasattr(config, "workerinput"):
        return
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _NO_DATA_WORDS in _reason(r)]
    if skipped:
        where = os.environ.get("SPECTRO_DATA_DIR") or "not set"
        terminalreporter.write_line(
            f"{len(skipped)} real-data tests skipped: their spectra were not found (SPECTRO_DATA_DIR {where}); "
            "set SPECTRO_DATA_DIR to a folder of real spectra, or run `spectro refs fetch` for the catalogued ones",
            yellow=True,
        )


def _reason(report) -> str:
    longrepr = getattr(report, "longrepr", None)
    return str(longrepr[-1]) if isinstance(longrepr, tuple) else str(longrepr)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, new for every test."""
    return np.random.default_rng(20241212)


@pytest.fixture(scope="session")
def larch():
    """The xraylarch package, for cross-checks; required under CI=true."""
    try:
        import larch as _larch
        import larch.io
        import larch.xafs
    except ImportError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"xraylarch is needed for cross-checks under CI: {err}")
        pytest.skip("xraylarch is not installed")
    return _larch


@pytest.fixture(scope="session")
def assert_same_table():
    """A check that two batch tables have the same columns, in order, attrs, dtypes and values to the bit."""

    def check(got, want):
        for mine, theirs in ((got.results, want.results), (got.spectra, want.spectra)):
            assert list(mine) == list(theirs)
            for name, column in mine.items():
                other = theirs[name]
                assert (column.attrs, column.coord) == (other.attrs, other.coord), name
                assert column.values.dtype == other.values.dtype, name
                np.testing.assert_array_equal(column.values, other.values, err_msg=name)
        assert got.row_size.tolist() == want.row_size.tolist()

    return check


@pytest.fixture(scope="session")
def assert_batch_gives():
    """A check that ``spectro batch`` results.nc holds, for each file, what ``analyze`` gave (bits and attrs)."""
    import xarray as xr

    def plain(attrs):
        return {k: (np.asarray(v).tolist() if isinstance(v, (list, np.ndarray)) else v) for k, v in attrs.items()}

    def check(results_nc, eager, files):
        res = xr.open_dataset(results_nc, engine="h5netcdf").load()
        for path, want in zip(files, eager):
            rows = res.file.values == path
            assert rows.sum() == want.sizes["scan"]
            for var in (v for v in want.data_vars if want[v].dims == ("scan",)):
                np.testing.assert_array_equal(res[var].values[rows], want[var].values, err_msg=f"{path} {var}")
                assert plain(res[var].attrs) == plain(want[var].attrs), var

    return check


@pytest.fixture(scope="session")
def i20_file():
    """A writer of Diamond I20 XES files: ``write(path, header_from, ds)`` puts the first scan of the simulated
    ``ds`` under the header of the measured file ``header_from`` (a real I20 scan) and returns ``path``."""

    def write(path, header_from, ds):
        lines = header_from.read_text().splitlines()
        first_row = next(i for i, line in enumerate(lines) if not line.startswith("#"))
        rows = [f"6800.0\t{e:.4f}\t70.0\t1000000.0\t{y * 1e4:.3f}\t{y * 1e-2:.6f}\t2.0\t"
                for e, y in zip(ds.emission_energy.values, ds.intensity.values[0])]
        path.write_text("\n".join(lines[:first_row] + rows + lines[-2:]) + "\n")
        return path

    return write

