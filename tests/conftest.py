"""Shared fixtures.

Real spectra are read from the folder named by ``SPECTRO_DATA_DIR`` (CI sets
it to ``../shared/data``). Without it, tests that need real data are skipped
locally; under ``CI=true`` they fail instead, so they can never skip silently.
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


@pytest.fixture(scope="session")
def data_file(data_dir):
    """Return the path of a real spectrum given relative to ``SPECTRO_DATA_DIR``."""

    def get(relative: str) -> Path:
        path = data_dir / relative
        if not path.is_file():
            pytest.fail(f"{relative} is missing from {data_dir}")
        return path

    return get


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
