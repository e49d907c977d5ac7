"""Model's settings as keyword arguments: parsed by the library, laid over the environment's,
and independent of it with env=False."""
import numpy as np
import pytest

import irv2


def test_keywords_decide_without_env(monkeypatch, tmp_path, model):
    # variables the library would refuse: read with env=True, ignored with env=False
    monkeypatch.setenv("IRV2_KERNELS", "gpu")
    with pytest.raises(ValueError, match="IRV2_KERNELS=gpu: expected auto, wg, vec or compact"):
        irv2.Model("synthetic:1", device=model.device)
    monkeypatch.setenv("IRV2_TUNE", "fastest")
    with pytest.raises(ValueError, match="IRV2_TUNE=fastest: expected off, fast or full"):
        irv2.Model("synthetic:1", device=model.device, kernels="vec")
    cache = tmp_path / "cache"
    with irv2.Model("synthetic:1", device=model.device, gemm="native", tune="off",
                    kernels="vec", exact=True, cache_dir=str(cache), env=False) as m:
        x = np.full((1, 3, 299, 299), 0.25, np.float32)
        expected = model(x)
        np.testing.assert_allclose(m(x), expected, rtol=0, atol=1e-5 * np.abs(expected).max())
    # the cache folder given got the compiled programs of the first run
    assert list(cache.glob("program-*.bin"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(tune="fastest"), "tuning mode 'fastest': expected off, fast or full"),
    (dict(kernels="gpu"), "kernel families 'gpu': expected auto, wg, vec or compact"),
    (dict(gemm="cublas"), "GEMM backend 'cublas': expected auto, clblast or native"),
    (dict(variant="resnet"), "variant 'resnet': expected auto, seed or tf"),
])
def test_bad_setting_names_it(kwargs, message):
    with pytest.raises(ValueError, match=message):
        irv2.Model("synthetic:1", env=False, **kwargs)


def test_setting_types():
    with pytest.raises(TypeError):
        irv2.Model("synthetic:1", tune=0)
