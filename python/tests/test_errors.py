"""Every failure path: irv2.Error with irv2's status name and message for what the library
refuses, ValueError/TypeError for what Python refuses, and nothing left behind."""
import json
import pickle
import struct

import numpy as np
import pytest

import irv2


def expect_error(status, fragment, fn, *args, **kwargs):
    with pytest.raises(irv2.Error) as info:
        fn(*args, **kwargs)
    e = info.value
    assert isinstance(e, Exception)
    assert e.status == status, (e.status, e.message)
    assert isinstance(e.code, int) and e.code > 0
    assert fragment in e.message, e.message
    assert e.message in str(e) and status in str(e)
    return e


def safetensors(header, data_len):
    """A safetensors file: the 8-byte little-endian header length, the JSON header and
    data_len zero bytes of data."""
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + bytes(data_len)


STEM = {"dtype": "F32", "shape": [32, 3, 3, 3], "data_offsets": [0, 3456]}


def test_missing_weights_file(tmp_path):
    path = tmp_path / "missing.safetensors"
    expect_error("i/o error", str(path), irv2.Model, path)


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "truncated.safetensors"
    # A well-formed header promising a 3456-byte tensor, then 1000 bytes of data.
    path.write_bytes(safetensors({"stem.conv1.conv.weight": STEM}, 1000))
    expect_error("malformed file", str(path), irv2.Model, str(path))
    # The header itself cut short.
    full = safetensors({"stem.conv1.conv.weight": STEM}, 3456)
    path.write_bytes(full[:40])
    expect_error("malformed file", str(path), irv2.Model, str(path))
    # Empty, and not a checkpoint at all.
    path.write_bytes(b"")
    expect_error("malformed file", str(path), irv2.Model, str(path))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    expect_error("malformed file", str(path), irv2.Model, str(path))


def test_checkpoint_missing_tensor(tmp_path):
    path = tmp_path / "partial.safetensors"
    path.write_bytes(safetensors({"stem.conv1.conv.weight": STEM}, 3456))
    expect_error("missing tensor", str(path), irv2.Model, str(path), variant="seed")


def test_bad_synthetic_spec():
    expect_error("invalid argument", "synthetic:abc", irv2.Model, "synthetic:abc")


def test_unknown_device():
    expect_error("unknown device", "9:9", irv2.Model, "synthetic:1", device="9:9")
    expect_error("unknown device", "99", irv2.Model, "synthetic:1", device=99)
    expect_error("unknown device", "nonsense", irv2.Model, "synthetic:1", device="nonsense")


def test_python_argument_errors():
    with pytest.raises(ValueError):
        irv2.Model("synthetic:1", variant="resnet")
    with pytest.raises(ValueError):
        irv2.Model("synthetic:1", gemm="cublas")
    with pytest.raises(TypeError):
        irv2.Model("synthetic:1", device=1.5)
    with pytest.raises(TypeError):
        irv2.Model(None)


@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (3, 299, 299), (1, 1, 299, 299),
                                   (1, 299, 299, 3), (2, 3, 299), ()])
def test_wrong_input_shape(model, shape):
    with pytest.raises(ValueError, match="N x 3 x 299 x 299"):
        model(np.zeros(shape, np.float32))


def test_non_numeric_input(model):
    with pytest.raises(ValueError):
        model([["not", "numbers"]])


def test_closed_model(batch2):
    m = irv2.Model("synthetic:1")
    assert not m.closed
    m.close()
    assert m.closed
    m.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        m(batch2[:1])
    with pytest.raises(ValueError, match="closed"):
        m.classify(["x.png"])
    with pytest.raises(ValueError, match="closed"):
        with m:
            pass
    assert "closed" in repr(m)


def test_context_manager_closes(batch2):
    with irv2.Model("synthetic:1") as m:
        assert m(batch2[:1]).shape == (1, 1000)
    assert m.closed
    with pytest.raises(ValueError):
        m(batch2[:1])
    # An exception inside the block still closes it, and propagates.
    with pytest.raises(KeyError):
        with irv2.Model("synthetic:1") as m2:
            raise KeyError("x")
    assert m2.closed


def test_del_is_safe(tmp_path):
    # A model whose constructor failed part-way, one never closed, one closed twice.
    try:
        irv2.Model(tmp_path / "missing.safetensors")
    except irv2.Error:
        pass
    m = irv2.Model("synthetic:1")
    del m
    m = irv2.Model("synthetic:1")
    m.close()
    m.__del__()
    del m


def test_error_message_is_per_call(tmp_path):
    # The message is the failing call's, not an earlier one's.
    e1 = expect_error("i/o error", "first", irv2.Model, tmp_path / "first.safetensors")
    e2 = expect_error("unknown device", "7:7", irv2.Model, device="7:7")
    assert "first" not in e2.message and e1.message != e2.message


def test_error_pickles(tmp_path):
    e = expect_error("i/o error", "gone", irv2.Model, tmp_path / "gone.safetensors")
    e2 = pickle.loads(pickle.dumps(e))
    assert (type(e2), e2.code, e2.status, e2.message, str(e2)) == (
        irv2.Error, e.code, e.status, e.message, str(e))
