"""irv2: Python bindings (ctypes) for libirv2, the OpenCL inference engine for
Inception-ResNet-v2.

    import numpy as np, irv2
    with irv2.Model("synthetic:1") as model:        # or a .safetensors checkpoint
        logits = model(np.zeros((1, 3, 299, 299), np.float32))
        records = model.classify(["cat.jpg"], top=5)

The shared library (libirv2.so.0, which `pip install ./python` builds into this package) is
found as described in irv2/_lib.py (IRV2_LIBRARY overrides). Failures of the library raise
irv2.Error, whose .status is irv2's status name (irv2_status_string) and .message its one-line
message (irv2_last_error). Invalid Python arguments (an input of the wrong shape, an unknown
variant name, a closed model) raise ValueError or TypeError.

The GIL is released during every call into the library (ctypes.CDLL), so threads that each
use their own Model run concurrently; one Model serialises its own calls with a lock.
"""
import dataclasses
import os
import threading

import numpy as np

from . import _lib

__version__ = "0.1.0"
__all__ = ["Error", "Device", "Model", "version", "devices", "device_list", "load_image",
           "preprocess"]



class Error(Exception):
    """A failure reported by libirv2.

    status: irv2's name for the status ("i/o error", "malformed file", "unknown device", ...);
    code: the irv2_status value; message: irv2_last_error(), the one-line message naming the
    file, tensor or device; build_log: the OpenCL build log for "kernel build failed" ("" else).
    """

    def __init__(self, code, status, message, build_log=""):
        super().__init__("%s (%s)" % (message, status) if message else status)
        self.code = code
        self.status = status
        self.message = message
        self.build_log = build_log

    def __reduce__(self):  # picklable (multiprocessing) despite the extra constructor arguments
        return (type(self), (self.code, self.status, self.message, self.build_log))


def _error(lib, code, ctx=None):
    # irv2_last_error() is thread-local and ctypes calls run on the calling thread, so this
    # reads the message of the call that just failed.
    log = _lib.text(lib.irv2_context_build_log(ctx)) if ctx else ""
    return Error(code, _lib.text(lib.irv2_status_string(code)), _lib.text(lib.irv2_last_error()),
                 log)


def _check(lib, code, ctx=None):
    if code != 0:
        raise _error(lib, code, ctx)


def version():
    """The library's version, "MAJOR.MINOR.PATCH" (irv2_version())."""
    return _lib.text(_lib.load().irv2_version())


@dataclasses.dataclass(frozen=True)
class Device:
    """One OpenCL device (struct irv2_device_info). `spec` selects it: Model(device=d.spec)."""
    index: int
    platform: int
    device: int
    type: str
    name: str
    vendor: str
    version: str
    driver: str
    platform_name: str
    compute_units: int
    global_mem_bytes: int
    max_alloc_bytes: int
    fp16: bool
    compiler_available: bool
    spec: str
    clblast_tuned: bool

    @classmethod
    def _from_c(cls, info):
        t = _lib.text
        return cls(int(info.index), int(info.platform), int(info.device), t(info.type),
                   t(info.name), t(info.vendor), t(info.version), t(info.driver),
                   t(info.platform_name), int(info.compute_units), int(info.global_mem_bytes),
                   int(info.max_alloc_bytes), bool(info.fp16), bool(info.compiler_available),
                   t(info.spec), bool(info.clblast_tuned))

    def asdict(self):
        return dataclasses.asdict(self)


def devices():
    """Every OpenCL device over all platforms, as a list of Device; Error ("no OpenCL
    platform") when there is none."""
    lib = _lib.load()
    count = _lib.c_uint()
    _check(lib, lib.irv2_device_count(_lib.ctypes.byref(count)))
    out = []
    for i in range(count.value):
        info = _lib.DeviceInfo()
        _check(lib, lib.irv2_device_info_get(i, _lib.ctypes.byref(info)))
        out.append(Device._from_c(info))
    return out


_INVALID_ARGUMENT = 1  # IRV2_ERR_INVALID_ARGUMENT
_DEVICE_SPEC_SIZE = 32  # IRV2_DEVICE_SPEC_SIZE


def device_list(devices=None):
    """The device specs a device list names, as the CLI's --device reads it
    (irv2_device_list): "0,2", "1:0", "gpu" (every GPU), "all", ...; None or "" the default
    device, [""]. Each spec opens one device: Model(device=spec). ValueError for a malformed
    list (an empty item, a trailing comma, an unknown word); Error when a type names no device
    here or there is no OpenCL platform."""
    if devices is not None and not isinstance(devices, str):
        raise TypeError("irv2: devices must be a str or None, not %r" % (devices,))
    lib = _lib.load()
    text = None if devices is None else devices.encode()
    count = _lib.ctypes.c_size_t()
    _check_list(lib, lib.irv2_device_list(text, None, 0, _lib.ctypes.byref(count)))
    specs = (_lib.ctypes.c_char * _DEVICE_SPEC_SIZE * count.value)()
    _check_list(lib, lib.irv2_device_list(text, specs, count.value, _lib.ctypes.byref(count)))
    return [_lib.text(specs[i].value) for i in range(count.value)]


def _check_list(lib, code):
    if code == _INVALID_ARGUMENT:
        raise ValueError("irv2: " + _lib.text(lib.irv2_last_error()))
    _check(lib, code)


def _load_image(lib, path):
    """Decodes path into an irv2_image (the caller frees it with irv2_image_free)."""
    img = _lib.Image()
    code = lib.irv2_image_load(os.fsencode(path), _lib.ctypes.byref(img))
    if code != 0:
        raise _error(lib, code)
    return img


def load_image(path):
    """Decodes a JPEG or PNG file into an H x W x 3 uint8 RGB array (as PIL's
    Image.open(path).convert("RGB") does)."""
    lib = _lib.load()
    img = _load_image(lib, path)
    try:
        n = img.width * img.height * 3
        buf = _lib.ctypes.string_at(img.pixels, n)
        return np.frombuffer(buf, dtype=np.uint8).reshape(img.height, img.width, 3).copy()
    finally:
        lib.irv2_image_free(_lib.ctypes.byref(img))


def _crop(lib, img, out):
    """The single centre crop of `irv2 classify` (timm's preprocessing: shorter side 333,
    centre 299, (v/255 - 0.5)/0.5) into out, a C-contiguous 3 x 299 x 299 float32 array."""
    boxes = (_lib.CropBox * _lib.MAX_CROPS)()
    count = _lib.c_uint()
    _check(lib, lib.irv2_crop_boxes(img.width, img.height, 1, boxes, _lib.ctypes.byref(count)))
    _check(lib, lib.irv2_image_crop(_lib.ctypes.byref(img), boxes, _ptr(out)))


def preprocess(path):
    """A JPEG or PNG file as the network's input: a 3 x 299 x 299 float32 array, preprocessed
    as `irv2 classify` does. np.stack() several to make a batch for Model.__call__."""
    lib = _lib.load()
    out = np.empty((3, _lib.INPUT_SIZE, _lib.INPUT_SIZE), dtype=np.float32)
    img = _load_image(lib, path)
    try:
        _crop(lib, img, out)
    finally:
        lib.irv2_image_free(_lib.ctypes.byref(img))
    return out


def _ptr(a):
    return a.ctypes.data_as(_lib.c_float_p)


def _read_labels(labels):
    """Class names from a file (one per line, as `irv2 classify --labels` reads it) or a
    sequence of str."""
    if isinstance(labels, (str, bytes, os.PathLike)):
        with open(labels, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        if data.endswith(b"\n") or not data:
            lines.pop()
        return [(line[:-1] if line.endswith(b"\r") else line).decode("utf-8", "replace")
                for line in lines]
    names = list(labels)
    for n in names:
        if not isinstance(n, str):
            raise TypeError("irv2: labels must be a file path or a sequence of str")
    return names


def _top_k(probs, k):
    """The k most probable classes, most probable first, lower index first on ties, NaN
    last (as `irv2 classify` orders them)."""
    return np.argsort(-probs, kind="stable")[:k]


def _parse(lib, fn, what, value):
    """A setting's text parsed by the library (irv2_*_parse), as an int."""
    if not isinstance(value, str):
        raise TypeError("irv2: %s must be a str, not %r" % (what, value))
    out = _lib.c_int()
    if getattr(lib, fn)(value.encode(), _lib.ctypes.byref(out)) != 0:
        raise ValueError("irv2: " + _lib.text(lib.irv2_last_error()))
    return out.value


def _settings(lib, *, variant, gemm, tune, kernels, exact, cache_dir, binaries, clblast_tuning,
              env):
    """The model's and the context's options structs: the library's defaults, the environment
    (with env), then the arguments that are not None; and the bytes they point to."""
    options, copts, keep = _lib.ModelOptions(), _lib.ContextOptions(), []
    lib.irv2_model_options_init(_lib.ctypes.byref(options))
    lib.irv2_context_options_init(_lib.ctypes.byref(copts))
    if env:
        for fn, o in (("irv2_model_options_from_env", options),
                      ("irv2_context_options_from_env", copts)):
            if getattr(lib, fn)(_lib.ctypes.byref(o)) != 0:
                raise ValueError("irv2: " + _lib.text(lib.irv2_last_error()))
    options.variant = _parse(lib, "irv2_variant_parse", "variant", variant)
    options.gemm = _parse(lib, "irv2_gemm_parse", "gemm", gemm)
    if tune is not None:
        options.tune = _parse(lib, "irv2_tune_mode_parse", "tune", tune)
    if exact is not None:
        options.exclude = 1 if exact else 0  # IRV2_EXCLUDE_WINOGRAD
    if kernels is not None:
        copts.kernels = _parse(lib, "irv2_kernels_parse", "kernels", kernels)
    for name, value in (("cache_dir", cache_dir), ("binaries", binaries),
                        ("clblast_tuning", clblast_tuning)):
        if value is not None:
            keep.append(os.fsencode(value))
            setattr(copts, name, keep[-1])
    return options, copts, keep


class Model:
    """A network loaded on one device.

    weights: "synthetic" or "synthetic:SEED" (deterministic weights built in memory) or the
    path of a safetensors checkpoint. device: None (the first GPU, else the first device),
    "cpu", "gpu", "accelerator", an index from irv2.devices(), "P:D", or a Device. variant:
    "auto", "seed" or "tf". gemm: "auto", "clblast" or "native". The other settings
    (docs/settings.md), keyword only: tune "off", "fast" or "full"; kernels "auto", "wg",
    "vec" or "compact"; exact (True: no Winograd forms); cache_dir (a folder, or "" for no
    cache); binaries (a folder written by `irv2 compile`); clblast_tuning (a folder of
    CLBlast tuner results). A setting left None takes its IRV2_* environment variable (as the
    CLI does), else the library's default; env=False ignores the environment. Close it with
    close() or a with-block; it is also freed when garbage-collected.
    """

    def __init__(self, weights="synthetic", device=None, variant="auto", gemm="auto", *,
                 tune=None, kernels=None, exact=None, cache_dir=None, binaries=None,
                 clblast_tuning=None, env=True):
        self._ctx = None
        self._model = None
        self._run_lock = threading.Lock()
        lib = _lib.load()
        # Kept on the instance so that __del__ needs no module globals (which may be gone at
        # interpreter exit).
        self._lib = lib
        options, copts, keep = _settings(lib, variant=variant, gemm=gemm, tune=tune,
                                         kernels=kernels, exact=exact, cache_dir=cache_dir,
                                         binaries=binaries, clblast_tuning=clblast_tuning,
                                         env=env)
        if isinstance(device, Device):
            device = device.spec
        elif isinstance(device, int) and not isinstance(device, bool):
            device = str(device)
        if device is not None and not isinstance(device, str):
            raise TypeError("irv2: device must be None, a str, an int or an irv2.Device")
        if not isinstance(weights, (str, bytes, os.PathLike)):
            raise TypeError("irv2: weights must be 'synthetic[:SEED]' or a checkpoint path")
        ctx = _lib.c_void_p()
        if device is not None:
            keep.append(device.encode())
            copts.device = keep[-1]
        _check(lib, lib.irv2_context_open(_lib.ctypes.byref(copts), _lib.ctypes.byref(ctx)))
        self._ctx = ctx
        model = _lib.c_void_p()
        code = lib.irv2_model_load(ctx, os.fsencode(weights), _lib.ctypes.byref(options),
                                   _lib.ctypes.byref(model))
        if code != 0:
            err = _error(lib, code, ctx)
            self.close()
            raise err
        self._model = model
        self.weights = os.fsdecode(weights)
        self.num_classes = int(lib.irv2_model_num_classes(model))
        self.class_offset = int(lib.irv2_model_class_offset(model))
        self.variant = _lib.text(lib.irv2_variant_name(lib.irv2_model_variant(model)))
        self.flops_per_image = float(lib.irv2_model_flops_per_image(model))
        self.device = Device._from_c(lib.irv2_context_device(ctx).contents)

    # ---- lifetime --------------------------------------------------------------------------

    def close(self):
        """Frees the model and its context (device memory included). Idempotent."""
        with self._run_lock:
            model, ctx = self._model, self._ctx
            self._model = self._ctx = None
            if model is not None:
                self._lib.irv2_model_free(model)
            if ctx is not None:
                self._lib.irv2_context_free(ctx)

    @property
    def closed(self):
        return self._model is None

    def __enter__(self):
        self._live()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            if getattr(self, "_run_lock", None) is not None:
                self.close()
        except Exception:  # never raise from a finaliser
            pass

    def __repr__(self):
        if self.closed:
            return "<irv2.Model closed>"
        return "<irv2.Model %s variant=%s classes=%d device=%s (%s)>" % (
            self.weights, self.variant, self.num_classes, self.device.spec, self.device.name)

    def _live(self):
        if self._model is None:
            raise ValueError("irv2: operation on a closed Model")
        return self._model

    # ---- inference -------------------------------------------------------------------------

    def __call__(self, x, softmax=False):
        """Runs a batch: x is N x 3 x 299 x 299 (NCHW, normalised), a float32 array or
        anything np.asarray() turns into one. Returns N x num_classes float32 logits (or
        probabilities with softmax=True), output k being class k - class_offset."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        s = _lib.INPUT_SIZE
        if x.ndim != 4 or x.shape[1:] != (3, s, s):
            raise ValueError("irv2: the input must be N x 3 x %d x %d (NCHW), not %s"
                             % (s, s, " x ".join(map(str, x.shape)) or "a scalar"))
        n = x.shape[0]
        if n >= 1 << 32:
            raise ValueError("irv2: batch of %d images is too large" % n)
        with self._run_lock:
            model = self._live()
            out = np.empty((n, self.num_classes), dtype=np.float32)
            if n:
                _check(self._lib, self._lib.irv2_model_run(model, _ptr(x), n, _ptr(out),
                                                           1 if softmax else 0), self._ctx)
        return out

    run = __call__

    def classify(self, paths, top=5, labels=None, batch=8, errors="raise"):
        """Classifies JPEG/PNG files as `irv2 classify --json` does, and returns its records:
        one dict per image, in order, {"image": path, "top": [{"class": c, "label": name or
        None, "prob": p}, ...]} with the `top` most probable classes (in ImageNet's 1000-class
        numbering for 1001-class checkpoints; p rounded to 6 significant digits, None if not
        finite). labels: None, a file with one class name per line, or a sequence of names.
        batch: images per device run. errors: "raise" (irv2.Error at the first image that
        cannot be read) or "record" (that image's record is {"image": path, "error":
        message} and the others are still classified)."""
        if isinstance(paths, (str, bytes, os.PathLike)):
            paths = [paths]
        paths = [os.fsdecode(p) for p in paths]
        if errors not in ("raise", "record"):
            raise ValueError("irv2: errors must be 'raise' or 'record'")
        if not isinstance(top, int) or top < 1:
            raise ValueError("irv2: top must be a positive int")
        if not isinstance(batch, int) or not 1 <= batch <= 256:
            raise ValueError("irv2: batch must be an int from 1 to 256")
        self._live()
        classes = self.num_classes - self.class_offset
        names = _read_labels(labels) if labels is not None else None
        if names is not None and len(names) < classes:
            raise ValueError("irv2: %d class names for a model with %d classes"
                             % (len(names), classes))
        k = min(top, classes)
        lib = self._lib
        s = _lib.INPUT_SIZE
        records = [None] * len(paths)
        inputs = np.empty((batch, 3, s, s), dtype=np.float32)
        slots = []

        def flush():
            probs = self(inputs[:len(slots)], softmax=True)[:, self.class_offset:]
            for row, i in zip(probs, slots):
                top_records = []
                for c in _top_k(row, k):
                    p = float(row[c])
                    top_records.append({
                        "class": int(c),
                        "label": names[c] if names is not None else None,
                        "prob": float("%.6g" % p) if np.isfinite(p) else None})
                records[i] = {"image": paths[i], "top": top_records}
            slots.clear()

        for i, path in enumerate(paths):
            try:
                img = _load_image(lib, path)
                try:
                    _crop(lib, img, inputs[len(slots)])
                finally:
                    lib.irv2_image_free(_lib.ctypes.byref(img))
            except Error as e:
                if errors == "raise":
                    raise
                records[i] = {"image": path, "error": e.message or str(e)}
                continue
            slots.append(i)
            if len(slots) == batch:
                flush()
        if slots:
            flush()
        return records
