"""The ctypes copies of irv2.h's structs (irv2/_lib.py STRUCTS) against the library and the
header: every size equal to irv2_struct_size(), every field offset equal to what a C compiler
gives for irv2.h, every struct of irv2.h known to irv2_struct_size(), and a copy of the wrong
size refused with a message that names it."""
import ctypes
import os
import re
import shutil
import subprocess

import pytest

from irv2 import _lib


def test_sizes_match_the_library():
    lib = _lib.load()
    assert _lib.STRUCTS, "no struct to check"
    for name, cls in _lib.STRUCTS.items():
        assert lib.irv2_struct_size(name.encode()) == ctypes.sizeof(cls), name


def test_every_struct_of_the_header_is_known(repo):
    lib = _lib.load()
    names = re.findall(r"^typedef struct (irv2_\w+) \{", (repo / "include" / "irv2.h").read_text(),
                       re.M)
    assert "irv2_device_info" in names and "irv2_crop_box" in names, names
    for name in names:
        assert lib.irv2_struct_size(name.encode()) > 0, "irv2_struct_size does not know " + name


def test_unknown_names():
    lib = _lib.load()
    for name in (b"", b"irv2_no_such_struct", b"irv2_device_inf", b"irv2_context"):
        assert lib.irv2_struct_size(name) == 0, name
    assert lib.irv2_struct_size(None) == 0


def test_wrong_size_is_refused():
    lib = _lib.load()
    _lib.check_structs(lib)  # the real copies pass

    class Short(ctypes.Structure):
        _fields_ = [("scale", ctypes.c_uint), ("x", ctypes.c_uint)]

    with pytest.raises(OSError) as info:
        _lib.check_structs(lib, {"irv2_crop_box": Short, "irv2_image": _lib.Image})
    message = str(info.value)
    assert "irv2_crop_box is 20 bytes there, Short 8 here" in message, message
    assert "irv2_image" not in message, message
    with pytest.raises(OSError, match="irv2_no_such_struct is 0 bytes there"):
        _lib.check_structs(lib, {"irv2_no_such_struct": _lib.Image})


def _compiler():
    cc = os.environ.get("CC") or "cc"
    return cc if shutil.which(cc) else None


def test_field_offsets_match_the_header(repo, tmp_path):
    """Each field's offset, and each struct's size, as the C compiler lays out irv2.h."""
    cc = _compiler()
    if not cc:
        pytest.skip("no C compiler (CC or cc)")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "irv2.h"', "int main(void)",
             "{"]
    expected = []
    for name, cls in _lib.STRUCTS.items():
        lines.append('    printf("%s %%zu\\n", sizeof(%s));' % (name, name))
        expected.append("%s %d" % (name, ctypes.sizeof(cls)))
        for field in cls._fields_:
            lines.append('    printf("%s.%s %%zu\\n", offsetof(%s, %s));'
                         % (name, field[0], name, field[0]))
            expected.append("%s.%s %d" % (name, field[0], getattr(cls, field[0]).offset))
    lines += ["    return 0;", "}", ""]
    (tmp_path / "offsets.c").write_text("\n".join(lines))
    (tmp_path / "cl.c").write_text("#include <CL/cl.h>\nint main(void) { return 0; }\n")
    if subprocess.run([cc, "-c", "-o", str(tmp_path / "cl.o"), str(tmp_path / "cl.c")],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        pytest.skip("no OpenCL headers (CL/cl.h) for %s" % cc)
    exe = tmp_path / "offsets"
    r = subprocess.run([cc, "-std=c11", "-I", str(repo / "include"), "-o", str(exe),
                        str(tmp_path / "offsets.c")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    assert r.returncode == 0, "a field of _lib.py is not in irv2.h:\n" + r.stdout.decode()
    out = subprocess.run([str(exe)], stdout=subprocess.PIPE, check=True, timeout=60)
    assert out.stdout.decode().split("\n")[:-1] == expected
