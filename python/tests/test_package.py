"""`pip install` of the package: it builds from pyproject.toml with setuptools alone (pure
Python) and the installed copy imports and finds the library. The package is copied first, so
that the build's build/ and *.egg-info stay out of the source tree. Needs pip and setuptools
(Debian: python3-pip); skipped without them."""
import os
import shutil
import subprocess
import sys

import pytest

import irv2

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_pip_install(tmp_path):
    for module in ("pip", "setuptools", "wheel"):
        if subprocess.run([sys.executable, "-c", "import " + module]).returncode:
            pytest.skip("no %s for %s" % (module, sys.executable))
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info", ".pytest_cache"))
    target = tmp_path / "site"
    # No network: the build backend is the setuptools already installed.
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--target", str(target), str(src)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert r.returncode == 0, r.stdout.decode()
    assert (target / "irv2" / "__init__.py").is_file()
    assert (target / "irv2" / "_lib.py").is_file()
    assert not list(target.glob("irv2/*.so")), "the package should be pure Python"
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([sys.executable, "-c",
                        "import irv2; print(irv2.__file__); print(irv2.__version__); "
                        "print(irv2.version())"],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    path, version, lib_version = r.stdout.decode().split("\n")[:3]
    assert path.startswith(str(target))
    assert version == irv2.__version__ and lib_version == irv2.version()
    assert list(target.glob("irv2-%s.dist-info" % irv2.__version__))
