#!/usr/bin/python3
"""Writes a synthetic checkpoint (host/net/synthetic.c's rule) as a safetensors file.

--variant seed (the default) takes the keys of tools/irv2_reference.py, --variant tf those of
tools/irv2_reference_tf.py (timm's inception_resnet_v2 state_dict). Every checkpoint tensor
(state_dict order, without num_batches_tracked) is synthetic_tensor(key, seed, shape), stored
as F32, F16 or BF16 (float32 rounded to nearest even). --classes sets the classifier's rows;
with --variant tf --classes 1001 the file has a TF-slim style head (`classif.weight`
[1001, 1536], `classif.bias` [1001], which the engine reads as background + 1000 classes).
The values still follow the rule, which fills a tensor in C order from its name alone, so rows
0..999 are exactly those of the 1000-class head (not shifted by one as in a real TF-slim
checkpoint): outputs 0..999 equal the 1000-class logits (tests/data/tf_golden.npy) up to the
dtype's rounding, and output 1000 is one more class. --num-batches-tracked adds the I64 scalar
`<prefix>.num_batches_tracked` keys of a PyTorch BatchNorm state_dict, which a loader must ignore.

The file is written without the `safetensors` package: u64 little-endian header length, a JSON
header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}} padded with
spaces to a multiple of 8 bytes, then the raw little-endian data (offsets relative to the end of
the header). --verify reads the file back and compares every tensor.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic  # noqa: E402

DTYPES = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}


def seed_checkpoint_items(classes=1000):
    """(key, shape) of the seed variant's checkpoint tensors, state_dict order."""
    import irv2_reference as ref  # needs torch only for the key list
    return ref.checkpoint_items(ref.InceptionResNetV2Seed(classes))


def tf_checkpoint_items(classes=1000):
    """(key, shape) of the tf variant's checkpoint tensors (timm's names), state_dict order."""
    import irv2_reference_tf as ref  # needs torch only for the key list
    return ref.checkpoint_items(ref.InceptionResNetV2TF(classes))


VARIANTS = {"seed": seed_checkpoint_items, "tf": tf_checkpoint_items}


def to_bf16_bits(a):
    """float32 array -> uint16 bfloat16 bit patterns, round to nearest even (finite inputs)."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return b.astype("<u2")


def encode(a, dtype):
    """float32 array -> little-endian bytes in dtype."""
    if dtype == "F32":
        return np.ascontiguousarray(a, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(a, dtype=np.float32).astype("<f2").tobytes()
    if dtype == "BF16":
        return to_bf16_bits(a).tobytes()
    raise ValueError(dtype)


def decode(buf, dtype, shape):
    """little-endian bytes in dtype -> float32 (or int64 for I64) array."""
    if dtype == "F32":
        a = np.frombuffer(buf, dtype="<f4")
    elif dtype == "F16":
        a = np.frombuffer(buf, dtype="<f2").astype(np.float32)
    elif dtype == "BF16":
        a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype == "I64":
        a = np.frombuffer(buf, dtype="<i8")
    else:
        raise ValueError(dtype)
    return a.reshape(shape)


def plan(items, dtype, num_batches_tracked):
    """[(key, dtype, shape)] in file order; num_batches_tracked keys follow each BN's running_var."""
    out = []
    for key, shape in items:
        out.append((key, dtype, tuple(shape)))
        if num_batches_tracked and key.endswith(".running_var"):
            out.append((key[:-len("running_var")] + "num_batches_tracked", "I64", ()))
    return out


def nbytes(dtype, shape):
    n = 1
    for s in shape:
        n *= s
    return n * DTYPES[dtype]


def header_bytes(entries, metadata):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    off = 0
    for key, dt, shape in entries:
        size = nbytes(dt, shape)
        header[key] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + size]}
        off += size
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return h, off


def nbt_value(key, seed):
    """A deterministic nonzero count for a num_batches_tracked key (any value must be ignored)."""
    return 1000 + (synthetic.fnv1a64(key) ^ seed) % 100000


def write(path, items, seed, dtype, num_batches_tracked=False, metadata=None):
    entries = plan(items, dtype, num_batches_tracked)
    hdr, total = header_bytes(entries, metadata)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for key, dt, shape in entries:
            if dt == "I64":
                f.write(struct.pack("<q", nbt_value(key, seed)))
            else:
                f.write(encode(synthetic.synthetic_tensor(key, seed, shape), dt))
    os.replace(tmp, path)
    return len(entries), 8 + len(hdr) + total


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n).decode("utf-8")), 8 + n


def verify(path, items, seed, dtype, num_batches_tracked):
    """Read the file back and compare every tensor with the synthetic values it should hold."""
    header, base = read_header(path)
    meta = header.pop("__metadata__", None)
    entries = plan(items, dtype, num_batches_tracked)
    if sorted(header) != sorted(k for k, _, _ in entries):
        raise SystemExit("verify: key set differs")
    data = np.memmap(path, dtype=np.uint8, mode="r")
    end = 0
    max_err = 0.0
    for key, dt, shape in entries:
        h = header[key]
        if h["dtype"] != dt or tuple(h["shape"]) != shape:
            raise SystemExit("verify: %s has %s %s" % (key, h["dtype"], h["shape"]))
        b, e = h["data_offsets"]
        if e - b != nbytes(dt, shape):
            raise SystemExit("verify: %s has %d bytes" % (key, e - b))
        end = max(end, e)
        got = decode(data[base + b:base + e].tobytes(), dt, shape)
        if dt == "I64":
            if int(got) != nbt_value(key, seed):
                raise SystemExit("verify: %s value %d" % (key, int(got)))
            continue
        want = synthetic.synthetic_tensor(key, seed, shape)
        if dt == "F32":
            if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
                raise SystemExit("verify: %s differs" % key)
        else:
            if not np.array_equal(got, decode(encode(want, dt), dt, shape)):
                raise SystemExit("verify: %s differs" % key)
            max_err = max(max_err, float(np.abs(got - want).max() / np.abs(want).max()))
    if base + end != os.path.getsize(path):
        raise SystemExit("verify: file size %d, data ends at %d" % (os.path.getsize(path), base + end))
    return len(entries), meta, max_err


def main(argv=None):
    p = argparse.ArgumentParser(description="Write a synthetic checkpoint (seed or tf variant) as safetensors.")
    p.add_argument("out", help="output .safetensors path")
    p.add_argument("--variant", choices=sorted(VARIANTS), default="seed",
                   help="network layout and key names: seed (default) or tf (timm's inception_resnet_v2)")
    p.add_argument("--seed", type=int, default=1, help="synthetic weight seed (default 1)")
    p.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32", help="tensor dtype (default F32)")
    p.add_argument("--classes", type=int, default=1000,
                   help="classifier outputs (default 1000; 1001 with --variant tf: TF-slim's background + 1000)")
    p.add_argument("--num-batches-tracked", action="store_true",
                   help="add I64 scalar <bn>.num_batches_tracked keys (unused keys a loader must ignore)")
    p.add_argument("--no-metadata", action="store_true", help="omit the __metadata__ entry")
    p.add_argument("--verify", action="store_true", help="read the file back and check every tensor")
    a = p.parse_args(argv)

    items = VARIANTS[a.variant](a.classes)
    meta = None if a.no_metadata else {
        "format": "pt", "variant": a.variant, "synthetic_seed": str(a.seed), "classes": str(a.classes)}
    n, size = write(a.out, items, a.seed, a.dtype, a.num_batches_tracked, meta)
    print("wrote %s: variant %s, %d tensors, dtype %s, seed %d, classes %d, num_batches_tracked %s, %d bytes"
          % (a.out, a.variant, n, a.dtype, a.seed, a.classes, "yes" if a.num_batches_tracked else "no", size))
    if a.verify:
        n, _, max_err = verify(a.out, items, a.seed, a.dtype, a.num_batches_tracked)
        extra = "" if a.dtype == "F32" else "; max |rounding error| / max|tensor| vs float32 %.3g" % max_err
        print("verified %d tensors%s" % (n, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
