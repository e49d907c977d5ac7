"""irv2.device_list: the library's device-list grammar (irv2_device_list), the one the CLI's
--device reads, checked against irv2.devices()."""
import pytest

import irv2


def test_indices_and_platform_device_as_written():
    assert irv2.device_list("0,2,1:0,0") == ["0", "2", "1:0", "0"]


def test_default_is_one_empty_spec():
    assert irv2.device_list() == [""]
    assert irv2.device_list("") == [""]


def test_types_and_all_expand_to_indices():
    devices = irv2.devices()
    assert irv2.device_list("all") == [str(d.index) for d in devices]
    cpus = [str(d.index) for d in devices if d.type == "CPU"]
    if cpus:  # a device may report several types: every CPU-only one is there at least
        assert set(cpus) <= set(irv2.device_list("cpu"))
    if not any(d.type == "GPU" for d in devices):
        with pytest.raises(irv2.Error, match="device list 'gpu': no GPU device"):
            irv2.device_list("gpu")


@pytest.mark.parametrize("text, message", [
    ("0,", "ends with a comma"),
    ("0,,1", "item 2 is empty"),
    ("nosuch", "unknown device 'nosuch'"),
    ("0-3", "unknown device '0-3'"),
])
def test_malformed_is_value_error(text, message):
    with pytest.raises(ValueError, match="device list '%s': %s" % (text, message)):
        irv2.device_list(text)


def test_type():
    with pytest.raises(TypeError):
        irv2.device_list(0)
