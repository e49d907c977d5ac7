"""Fixtures of the irv2 Python tests. Environment: IRV2_LIBRARY (the shared library under test,
else it is looked up as irv2/_lib.py says), IRV2_CLI (the `irv2` program built with it, for the
comparisons; else `irv2` on PATH, else those tests are skipped). tests/python/run.sh sets both."""
import os
import pathlib
import shutil

import numpy as np
import pytest

import irv2

REPO = pathlib.Path(__file__).resolve().parents[2]
IMAGES = REPO / "tests" / "data" / "images"


@pytest.fixture(scope="session")
def repo():
    if not (REPO / "CMakeLists.txt").is_file():
        pytest.skip("not in an irv2 source tree")
    return REPO


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("IRV2_CLI") or shutil.which("irv2")
    if not path:
        pytest.skip("no irv2 CLI (set IRV2_CLI)")
    return path


@pytest.fixture(scope="session")
def images():
    if not IMAGES.is_dir():
        pytest.skip("no tests/data/images")
    return IMAGES


@pytest.fixture(scope="session")
def model():
    """One synthetic:1 model shared by the tests that only run it."""
    m = irv2.Model("synthetic:1")
    yield m
    m.close()


@pytest.fixture(scope="session")
def batch2():
    """A deterministic 2 x 3 x 299 x 299 input."""
    return np.random.default_rng(7).standard_normal((2, 3, 299, 299)).astype(np.float32)
