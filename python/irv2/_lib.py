"""_lib.py: finds and loads libirv2 with ctypes, declares the C API of include/irv2.h and checks
that the structs copied here from irv2.h have the sizes the library was compiled with.

The library is looked up, in order, at the path in the IRV2_LIBRARY environment variable (an
error if it does not load); next to this file, where `pip install ./python` puts the library
it builds (the wheel's irv2/libirv2.so.MAJOR); by its soname libirv2.so.MAJOR through the
dynamic loader (LD_LIBRARY_PATH, the ldconfig cache, /lib, /usr/lib), with
ctypes.util.find_library("irv2"), and in the lib folders of /usr/local and of this Python's
prefix, where `cmake --install` puts it.

ctypes.CDLL (not PyDLL) releases the GIL for the duration of every foreign call, so a thread
blocked in irv2_model_run lets the other Python threads run, and threads that each hold their
own irv2.Model run their inferences at the same time (irv2.h: distinct contexts may be used
from distinct threads at once).
"""
import ctypes
import ctypes.util
import os
import sys
import threading

SONAME_MAJOR = 0
SONAME = "libirv2.so.%d" % SONAME_MAJOR

c_uint = ctypes.c_uint
c_int = ctypes.c_int
c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_float_p = ctypes.POINTER(ctypes.c_float)

INPUT_SIZE = 299          # IRV2_INPUT_SIZE
MAX_CROPS = 144           # IRV2_MAX_CROPS


class DeviceInfo(ctypes.Structure):
    """struct irv2_device_info."""
    _fields_ = [
        ("index", c_uint),
        ("platform", c_uint),
        ("device", c_uint),
        ("type", c_char_p),
        ("name", ctypes.c_char * 256),
        ("vendor", ctypes.c_char * 256),
        ("version", ctypes.c_char * 128),
        ("driver", ctypes.c_char * 128),
        ("platform_name", ctypes.c_char * 256),
        ("compute_units", c_uint),
        ("global_mem_bytes", ctypes.c_uint64),
        ("max_alloc_bytes", ctypes.c_uint64),
        ("fp16", c_int),
        ("compiler_available", c_int),
        ("spec", ctypes.c_char * 32),
        ("clblast_tuned", c_int),
    ]


class ContextOptions(ctypes.Structure):
    """struct irv2_context_options (filled by irv2_context_options_init; enums as int; no
    progress callback)."""
    _fields_ = [("size", ctypes.c_size_t), ("device", c_char_p), ("kernels", c_int),
                ("cache_dir", c_char_p), ("binaries", c_char_p), ("clblast_tuning", c_char_p),
                ("max_alloc_bytes", ctypes.c_uint64), ("progress", c_void_p),
                ("progress_user", c_void_p), ("cl_context", c_void_p), ("cl_queue", c_void_p)]


class ModelOptions(ctypes.Structure):
    """struct irv2_model_options (filled by irv2_model_options_init; enums as int)."""
    _fields_ = [("size", ctypes.c_size_t), ("gemm", c_int), ("variant", c_int), ("tune", c_int),
                ("exclude", c_uint)]


class Image(ctypes.Structure):
    """struct irv2_image."""
    _fields_ = [("width", c_uint), ("height", c_uint),
                ("pixels", ctypes.POINTER(ctypes.c_uint8))]


class CropBox(ctypes.Structure):
    """struct irv2_crop_box."""
    _fields_ = [("scale", c_uint), ("x", c_uint), ("y", c_uint), ("size", c_uint),
                ("mirror", c_uint)]


# The structs above by their names in irv2.h, one line each: load() checks every one against
# irv2_struct_size(), and tests/test_structs.py each field's offset against a C compiler's.
STRUCTS = {
    "irv2_device_info": DeviceInfo,
    "irv2_context_options": ContextOptions,
    "irv2_model_options": ModelOptions,
    "irv2_image": Image,
    "irv2_crop_box": CropBox,
}

# name: (restype, argtypes)
_PROTOTYPES = {
    "irv2_struct_size": (ctypes.c_size_t, [c_char_p]),
    "irv2_version": (c_char_p, []),
    "irv2_status_string": (c_char_p, [c_int]),
    "irv2_last_error": (c_char_p, []),
    "irv2_device_count": (c_int, [ctypes.POINTER(c_uint)]),
    "irv2_device_info_get": (c_int, [c_uint, ctypes.POINTER(DeviceInfo)]),
    "irv2_device_list": (c_int, [c_char_p, ctypes.c_void_p, ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_size_t)]),
    "irv2_context_options_init": (None, [ctypes.POINTER(ContextOptions)]),
    "irv2_context_options_from_env": (c_int, [ctypes.POINTER(ContextOptions)]),
    "irv2_model_options_init": (None, [ctypes.POINTER(ModelOptions)]),
    "irv2_model_options_from_env": (c_int, [ctypes.POINTER(ModelOptions)]),
    "irv2_kernels_parse": (c_int, [c_char_p, ctypes.POINTER(c_int)]),
    "irv2_tune_mode_parse": (c_int, [c_char_p, ctypes.POINTER(c_int)]),
    "irv2_gemm_parse": (c_int, [c_char_p, ctypes.POINTER(c_int)]),
    "irv2_variant_parse": (c_int, [c_char_p, ctypes.POINTER(c_int)]),
    "irv2_variant_name": (c_char_p, [c_int]),
    "irv2_context_open": (c_int, [ctypes.POINTER(ContextOptions), ctypes.POINTER(c_void_p)]),
    "irv2_context_create": (c_int, [c_char_p, ctypes.POINTER(c_void_p)]),
    "irv2_context_free": (None, [c_void_p]),
    "irv2_context_device": (ctypes.POINTER(DeviceInfo), [c_void_p]),
    "irv2_context_cl_error": (c_int, [c_void_p]),
    "irv2_context_build_log": (c_char_p, [c_void_p]),
    "irv2_model_load": (c_int, [c_void_p, c_char_p, ctypes.POINTER(ModelOptions),
                                ctypes.POINTER(c_void_p)]),
    "irv2_model_free": (None, [c_void_p]),
    "irv2_model_num_classes": (c_uint, [c_void_p]),
    "irv2_model_variant": (c_int, [c_void_p]),
    "irv2_model_class_offset": (c_uint, [c_void_p]),
    "irv2_model_flops_per_image": (ctypes.c_double, [c_void_p]),
    "irv2_model_run": (c_int, [c_void_p, c_float_p, c_uint, c_float_p, c_int]),
    "irv2_model_device_bytes": (ctypes.c_uint64, [c_void_p]),
    "irv2_image_load": (c_int, [c_char_p, ctypes.POINTER(Image)]),
    "irv2_image_free": (None, [ctypes.POINTER(Image)]),
    "irv2_crop_boxes": (c_int, [c_uint, c_uint, c_uint, ctypes.POINTER(CropBox),
                                ctypes.POINTER(c_uint)]),
    "irv2_image_crop": (c_int, [ctypes.POINTER(Image), ctypes.POINTER(CropBox), c_float_p]),
}

_lock = threading.Lock()
_lib = None


def bundled_path():
    """Where `pip install ./python` puts the library: next to this file."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)


def _candidates():
    bundled = bundled_path()
    if os.path.exists(bundled):
        yield bundled
    yield SONAME
    found = ctypes.util.find_library("irv2")
    if found:
        yield found
    prefixes = []
    for p in ("/usr/local", sys.prefix, sys.base_prefix):
        if p not in prefixes:
            prefixes.append(p)
    multiarch = getattr(sys.implementation, "_multiarch", None)
    for prefix in prefixes:
        dirs = ["lib", "lib64"] + (["lib/" + multiarch] if multiarch else [])
        for d in dirs:
            path = os.path.join(prefix, d, SONAME)
            if os.path.exists(path):
                yield path


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def check_structs(lib, structs=None):
    """Raises OSError naming each struct of `structs` (default STRUCTS: C name -> ctypes class)
    whose size differs from the library's (irv2_struct_size; 0 when the library does not know
    the name): the library was built from another irv2.h than this module copies."""
    wrong = []
    for name, cls in (STRUCTS if structs is None else structs).items():
        size = lib.irv2_struct_size(name.encode())
        if size != ctypes.sizeof(cls):
            wrong.append("%s is %d bytes there, %s %d here"
                         % (name, size, cls.__name__, ctypes.sizeof(cls)))
    if wrong:
        raise OSError("irv2: %s does not match this irv2 module (%s): %s"
                      % (lib._name, os.path.dirname(os.path.abspath(__file__)), "; ".join(wrong)))


def _open():
    """The library as a ctypes.CDLL, from the first place that has one (see above)."""
    env = os.environ.get("IRV2_LIBRARY")
    if env:
        try:
            return ctypes.CDLL(env)
        except OSError as e:
            raise OSError("irv2: IRV2_LIBRARY=%s cannot be loaded: %s" % (env, e)) from None
    tried = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            # A path that exists but does not load says why (a runtime library missing, ...).
            tried.append("%s (%s)" % (name, e) if os.path.isabs(name) else name)
    raise OSError(
        "irv2: cannot find the shared library %s (tried %s). `pip install ./python` builds it "
        "into the package; else build it with `cmake -B build -DBUILD_SHARED_LIBS=ON` and "
        "`cmake --install build` (and ldconfig), or set IRV2_LIBRARY=/path/to/%s"
        % (SONAME, ", ".join(tried), SONAME))


def load():
    """The loaded library (a ctypes.CDLL), loaded on first use. OSError if it is not found, or
    if it is not the library this module was written for."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        lib = _open()
        try:
            _declare(lib)
        except AttributeError as e:
            raise OSError("irv2: %s is not a compatible libirv2: %s" % (lib._name, e)) from None
        check_structs(lib)
        _lib = lib
        return _lib


def text(b):
    """A C string from the library as str."""
    return b.decode("utf-8", "replace") if b else ""
