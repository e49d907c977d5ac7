#!/usr/bin/env python3
"""make_corpus.py: writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/), small
valid and near-valid files from the standard library only. The committed seeds came from this
script; rerun it (python3 fuzz/make_corpus.py) after changing it."""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors ------------------------------------------------------------------------------

def safetensors(entries, data, pad=True, metadata=True):
    header = {}
    if metadata:
        header["__metadata__"] = {"format": "pt"}
    header.update(entries)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


f32 = struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 7)
f16 = struct.pack("<4H", 0x3C00, 0xC000, 0x7C00, 0x0001)
bf16 = struct.pack("<H", 0x3F80)
i64 = struct.pack("<q", 5)
put("safetensors", "valid_mixed.safetensors", safetensors({
    "a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
    "b.half": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]},
    "c.scalar": {"dtype": "BF16", "shape": [], "data_offsets": [32, 34]},
    "d.num_batches_tracked": {"dtype": "I64", "shape": [1], "data_offsets": [34, 42]},
    "e.empty": {"dtype": "F32", "shape": [0, 5], "data_offsets": [42, 42]},
}, f32 + f16 + bf16 + i64))
put("safetensors", "valid_one.safetensors",
    safetensors({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, f32[:12],
                metadata=False))
put("safetensors", "valid_empty.safetensors", safetensors({}, b"", metadata=False))
put("safetensors", "unknown_dtype.safetensors",
    safetensors({"q": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}}, b"\0"))
put("safetensors", "overlap.safetensors", safetensors({
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
}, f32[:12]))
put("safetensors", "past_end.safetensors",
    safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32[:8]))
put("safetensors", "size_mismatch.safetensors",
    safetensors({"a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 8]}}, f32[:8]))
put("safetensors", "header_too_long.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
put("safetensors", "not_json.safetensors", struct.pack("<Q", 6) + b"{\"a\":[")

# ---- npy ----------------------------------------------------------------------------------------

def npy(descr, shape, data, version=1, fortran=False, shape_text=None):
    if shape_text is None:
        shape_text = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    fixed = 10 if version == 1 else 12
    total = (fixed + len(d) + 1 + 63) // 64 * 64
    header = d + " " * (total - fixed - len(d) - 1) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin-1") + data


put("npy", "f4_2x3.npy", npy("<f4", (2, 3), f32))
put("npy", "f4_1d_v2.npy", npy("<f4", (3,), f32[:12], version=2))
put("npy", "f4_scalar_v3.npy", npy("<f4", (), f32[:4], version=3))
put("npy", "f4_empty.npy", npy("<f4", (0, 4), b""))
put("npy", "f4_py2_longs.npy", npy("<f4", None, f32, shape_text="(2L, 3L)"))
put("npy", "f8.npy", npy("<f8", (3,), struct.pack("<3d", 1, 2, 3)))
put("npy", "fortran.npy", npy("<f4", (2, 3), f32, fortran=True))
put("npy", "truncated.npy", npy("<f4", (2, 3), f32[:10]))
put("npy", "bad_header.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',")

# ---- labels (one name per line) and eval list files (`path label` per line) ------------------

put("labels", "names.txt", b"tench\ngoldfish\ngreat white shark\n")
put("labels", "names_crlf.txt", b"background\r\ntench\r\n\r\n")
put("labels", "list.txt", b"images/a.jpg 0\nimages/b c.png 999\n")
put("labels", "list_bad.txt", b"a.jpg\nb.jpg x\nc.jpg -1\nd.jpg 99999999999999999999\n")

# ---- images --------------------------------------------------------------------------------------

def png(width, height, color_type, bit_depth, raw_rows, extra_chunks=(), interlace=0):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, body in extra_chunks:
        out += chunk(kind, body)
    return out + chunk(b"IDAT", zlib.compress(raw_rows)) + chunk(b"IEND", b"")


put("image", "rgb_2x2.png", png(2, 2, 2, 8, b"\0\xff\0\0\0\xff\0" + b"\0\0\0\xff\xff\xff\xff"))
put("image", "gray_3x1.png", png(3, 1, 0, 8, b"\0\x00\x80\xff"))
put("image", "rgba16_1x1.png", png(1, 1, 6, 16, b"\0" + b"\x12\x34" * 4))
put("image", "palette_2x1.png", png(2, 1, 3, 8, b"\0\x00\x01",
                                    [(b"PLTE", b"\xff\0\0\0\xff\0"), (b"tRNS", b"\x80")]))
put("image", "gray1bit_9x2.png", png(9, 2, 0, 1, b"\0\xaa\x80\0\x55\x00"))
put("image", "not_an_image.bin", b"GIF89a\x01\x00\x01\x00")
# Adam7 2x2: pass 1 holds (0,0), pass 6 (1,0), pass 7 the second row.
put("image", "interlaced_2x2.png",
    png(2, 2, 2, 8, b"\0\x10\x20\x30" + b"\0\x40\x50\x60" + b"\0\x70\x80\x90\xa0\xb0\xc0",
        interlace=1))

# JPEG seeds need Pillow (Debian's python3-pil: run this script with /usr/bin/python3).
try:
    import io
    from PIL import Image
except ImportError:
    Image = None
if Image is not None:
    def jpeg(img, **kw):
        buf = io.BytesIO()
        img.save(buf, "JPEG", **kw)
        return buf.getvalue()
    grad = Image.new("RGB", (9, 7))
    grad.putdata([(x * 28, y * 36, (x + y) * 16) for y in range(7) for x in range(9)])
    put("image", "baseline_9x7.jpg", jpeg(grad, quality=50))
    put("image", "baseline_444_9x7.jpg", jpeg(grad, quality=90, subsampling=0))
    put("image", "progressive_16x8.jpg", jpeg(grad.resize((16, 8)), quality=60, progressive=True))
    put("image", "gray_8x8.jpg", jpeg(grad.resize((8, 8)).convert("L"), quality=70))
    put("image", "cmyk_8x8.jpg", jpeg(grad.resize((8, 8)).convert("CMYK"), quality=70))
