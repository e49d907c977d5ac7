"""Where the package finds the library: next to itself first (where `pip install ./python`
puts the library it builds), before any other libirv2 the dynamic loader or the prefixes have;
IRV2_LIBRARY before that. With IRV2_TEST_WHEEL=1 (tests/python/run.sh, after `pip install
./python` in a venv), the package under test must be that install, with its own library."""
import os
import shutil
import subprocess
import sys

import pytest

import irv2
from irv2 import _lib

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, **env):
    """Runs code in a fresh python3 without IRV2_LIBRARY and LD_LIBRARY_PATH (plus env)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("IRV2_LIBRARY", "LD_LIBRARY_PATH")}
    clean.update(env)
    return subprocess.run([sys.executable, "-c", code], env=clean, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def bundle(tmp_path):
    """A copy of the package with the library under test inside it, as the wheel holds it."""
    site = tmp_path / "site"
    shutil.copytree(os.path.join(PACKAGE, "irv2"), site / "irv2",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    shutil.copy(os.path.realpath(_lib.load()._name), site / "irv2" / _lib.SONAME)
    return site


def test_bundled_library_first(tmp_path):
    site = bundle(tmp_path)
    r = run_python("import irv2, irv2._lib as l; print(l.load()._name); print(irv2.version())",
                   PYTHONPATH=str(site))
    assert r.returncode == 0, r.stderr.decode()
    path, version = r.stdout.decode().split("\n")[:2]
    assert path == str(site / "irv2" / _lib.SONAME)
    assert version == irv2.version() == irv2.__version__


def test_environment_overrides_the_bundled_library(tmp_path):
    site = bundle(tmp_path)
    missing = str(tmp_path / "nowhere" / _lib.SONAME)
    r = run_python("import irv2; irv2.version()", PYTHONPATH=str(site), IRV2_LIBRARY=missing)
    assert r.returncode != 0
    assert "IRV2_LIBRARY=%s cannot be loaded" % missing in r.stderr.decode()


def test_bundled_library_that_does_not_load(tmp_path):
    """A broken bundled file is passed over for the system's library, and named if none loads."""
    site = tmp_path / "site"
    shutil.copytree(os.path.join(PACKAGE, "irv2"), site / "irv2",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    (site / "irv2" / _lib.SONAME).write_bytes(b"not an ELF file")
    r = run_python("import irv2._lib as l; print(l.load()._name)", PYTHONPATH=str(site))
    if r.returncode == 0:  # an installed libirv2 was found after it
        assert r.stdout.decode().strip() != str(site / "irv2" / _lib.SONAME)
    else:
        err = r.stderr.decode()
        assert "cannot find the shared library" in err and str(site / "irv2") in err, err


@pytest.mark.skipif(not os.environ.get("IRV2_TEST_WHEEL"), reason="IRV2_TEST_WHEEL is not set")
def test_installed_wheel(repo):
    """The package imported is the one pip installed (not python/irv2), with its library."""
    from importlib import metadata
    package = os.path.dirname(os.path.abspath(irv2.__file__))
    assert package != str(repo / "python" / "irv2")
    dist = metadata.distribution("irv2")
    assert dist.version == irv2.__version__
    assert package == os.path.abspath(str(dist.locate_file("irv2")))
    assert "irv2/" + _lib.SONAME in [str(f) for f in dist.files]
    assert _lib.load()._name == _lib.bundled_path() == os.path.join(package, _lib.SONAME)
