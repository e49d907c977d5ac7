"""irv2.Model against the irv2 CLI: the same logits for the same input, every input form
numpy can convert, softmax, devices and the version."""
import json
import re
import subprocess

import numpy as np

import irv2


def test_version_matches_cmake_and_package(repo):
    cmake = (repo / "CMakeLists.txt").read_text()
    project = re.search(r"project\(irv2 VERSION (\S+)", cmake).group(1)
    assert irv2.version() == project
    assert irv2.__version__ == project


def test_devices():
    devs = irv2.devices()
    assert devs
    for i, d in enumerate(devs):
        assert isinstance(d, irv2.Device)
        assert d.index == i
        assert re.fullmatch(r"\d+:\d+", d.spec)
        assert d.type in ("CPU", "GPU", "ACCELERATOR", "OTHER")
        assert d.name and d.compute_units > 0 and d.global_mem_bytes > 0
        assert d.asdict()["spec"] == d.spec


def test_logits_equal_cli(model, batch2, cli, tmp_path):
    x_path, y_path = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x_path, batch2)
    subprocess.run([cli, "run", "--weights", "synthetic:1", "--input", str(x_path),
                    "--output", str(y_path), "--device", model.device.spec], check=True)
    expected = np.load(y_path)
    got = model(batch2)
    assert got.dtype == np.float32 and got.shape == (2, model.num_classes) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    # The same library, device and batch: the same bits.
    assert np.array_equal(got, expected)


def test_softmax_equal_cli(model, batch2, cli, tmp_path):
    x_path, y_path = tmp_path / "x.npy", tmp_path / "p.npy"
    np.save(x_path, batch2[:1])
    subprocess.run([cli, "run", "--weights", "synthetic:1", "--input", str(x_path),
                    "--output", str(y_path), "--softmax", "--device", model.device.spec],
                   check=True)
    got = model(batch2[:1], softmax=True)
    assert np.array_equal(got, np.load(y_path))
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=1e-5)


def test_input_conversions(model, batch2):
    expected = model(batch2)
    # float64, Fortran order, a strided view, nested lists: converted to C-contiguous float32.
    assert np.array_equal(model(batch2.astype(np.float64)), expected)
    assert np.array_equal(model(np.asfortranarray(batch2)), expected)
    doubled = np.repeat(batch2, 2, axis=0)[::2]
    assert not doubled.flags.c_contiguous
    assert np.array_equal(model(doubled), expected)
    assert np.array_equal(model(batch2[:1].tolist()), expected[:1])
    # Batch elements are independent of the batch they are run in.
    np.testing.assert_allclose(model(batch2[1:]), expected[1:], rtol=0,
                               atol=1e-5 * np.abs(expected).max())
    assert model.run(batch2[:0]).shape == (0, model.num_classes)


def test_attributes(model):
    assert model.num_classes == 1000 and model.class_offset == 0
    assert model.variant == "seed"
    assert model.flops_per_image > 1e10
    assert model.weights == "synthetic:1"
    assert isinstance(model.device, irv2.Device)
    assert "synthetic:1" in repr(model)


def test_device_forms(model, batch2):
    expected = model(batch2[:1])
    d = model.device
    for spec in (d, d.index, d.spec):
        with irv2.Model("synthetic:1", device=spec, gemm="native") as m:
            assert m.device.spec == d.spec
            np.testing.assert_allclose(m(batch2[:1]), expected, rtol=0,
                                       atol=1e-5 * np.abs(expected).max())


def test_synthetic_seeds(model, batch2):
    # "synthetic" is seed 1; another seed gives other weights.
    with irv2.Model("synthetic") as default, irv2.Model("synthetic:2") as other:
        assert np.array_equal(default(batch2[:1]), model(batch2[:1]))
        y2 = other(batch2[:1])
    assert np.isfinite(y2).all() and not np.array_equal(y2, model(batch2[:1]))


def test_json_serialisable_devices():
    json.dumps([d.asdict() for d in irv2.devices()])
