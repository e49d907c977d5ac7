#!/usr/bin/python3
"""preprocess_reference.py: golden preprocessing data for tests/test_image.c, made with PIL.

Writes small deterministic test images to tests/data/images/ and, for each, what timm's eval
transform for inception_resnet_v2.tf_in1k makes of it before ToTensor/Normalize: PIL opens the
file and converts to RGB, Image.resize(..., Image.BICUBIC) brings the shorter side to 333
(longer side int(333 * long / short), as torchvision's Resize), and torchvision's CenterCrop
takes 299 x 299 at int(round((size - 299) / 2)). A few crops of the 10- and 144-crop protocols
(resize, square, resize of the square to 299, mirror) are written too. Goldens are stored as
8-bit RGB PNGs: normalisation is (v / 255 - 0.5) / 0.5, done by the test. golden.txt lists
`input golden kind scale x y size mirror`, kind "tf" (irv2_image_preprocess and the 1-crop box),
"crop" (irv2_image_crop with that box) or "decode" (the decoded pixels alone).

Needs Debian's python3-pil (see tools/dev-notes.md); run from the repository root:
    /usr/bin/python3 tools/preprocess_reference.py
"""
import os
import sys

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "images")
SIZE = 299
TF_SCALE = 333  # floor(299 / 0.8975)
SEED_SCALES = (342, 384, 427, 470)


def pattern(w, h, seed):
    """Gradients, hard edges, 1-pixel stripes and a wrapped ramp: smooth and sharp content that
    exercises the filter's negative lobes and the clamping, while compressing well."""
    px = []
    for y in range(h):
        for x in range(w):
            r = (x * 255) // max(w - 1, 1)
            g = ((x + 2 * y + seed * 17) * 3) & 255
            b = 230 if ((x // 23 + y // 17 + seed) % 2) else 20
            if (w // 3) <= x < (w // 3 + w // 8):
                b = 255 if (x % 2) else 0
            if (h // 2) <= y < (h // 2 + h // 10):
                r = 255 if ((y // 2) % 2) else 0
            px.append((r, g, b))
    img = Image.new("RGB", (w, h))
    img.putdata(px)
    return img


def resized_size(w, h, scale):
    if w <= h:
        return scale, int(scale * h / w)
    return int(scale * w / h), scale


def tf_box(w, h):
    rw, rh = resized_size(w, h, TF_SCALE)
    return TF_SCALE, int(round((rw - SIZE) / 2.0)), int(round((rh - SIZE) / 2.0)), SIZE, 0


def protocol_boxes(w, h, crops):
    """10: shorter side 333, corners (TL, TR, BL, BR) then centre; 144: the seed's protocol,
    scale by scale, squares start/centre/end along the longer side, in each the corners, the
    centre and the whole square; every crop followed by its mirror."""
    boxes = []

    def both(scale, x, y, size):
        boxes.extend([(scale, x, y, size, 0), (scale, x, y, size, 1)])

    if crops == 10:
        rw, rh = resized_size(w, h, TF_SCALE)
        for x, y in ((0, 0), (rw - SIZE, 0), (0, rh - SIZE), (rw - SIZE, rh - SIZE)):
            both(TF_SCALE, x, y, SIZE)
        both(TF_SCALE, int(round((rw - SIZE) / 2.0)), int(round((rh - SIZE) / 2.0)), SIZE)
        return boxes
    for s in SEED_SCALES:
        rw, rh = resized_size(w, h, s)
        along = max(rw, rh) - s
        for off in (0, int(round(along / 2.0)), along):
            sx, sy = (off, 0) if rw >= rh else (0, off)
            e = s - SIZE
            c = int(round(e / 2.0))
            for x, y in ((0, 0), (e, 0), (0, e), (e, e), (c, c)):
                both(s, sx + x, sy + y, SIZE)
            both(s, sx, sy, s)
    return boxes


def crop(img, scale, x, y, size, mirror):
    rw, rh = resized_size(img.width, img.height, scale)
    out = img.resize((rw, rh), Image.BICUBIC).crop((x, y, x + size, y + size))
    if size != SIZE:
        out = out.resize((SIZE, SIZE), Image.BICUBIC)
    if mirror:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = ["# input golden kind scale x y size mirror (see tools/preprocess_reference.py)"]

    def golden(inp, name, kind, box, img):
        img.save(os.path.join(OUT, name), optimize=True)
        lines.append("%s %s %s %d %d %d %d %d" % ((inp, name, kind) + tuple(box)))

    sizes = [(500, 375), (375, 500), (299, 299), (100, 50), (1000, 1000)]
    for i, (w, h) in enumerate(sizes):
        name = "pattern_%dx%d.png" % (w, h)
        pattern(w, h, i).save(os.path.join(OUT, name), optimize=True)
        img = Image.open(os.path.join(OUT, name)).convert("RGB")
        box = tf_box(w, h)
        golden(name, "pattern_%dx%d_tf.png" % (w, h), "tf", box, crop(img, *box))

    # Crops of the 10- and 144-crop protocols on the landscape and portrait images, and every
    # box of both protocols for both, in irv2_crop_boxes' order, to boxes.txt.
    land = Image.open(os.path.join(OUT, "pattern_500x375.png")).convert("RGB")
    port = Image.open(os.path.join(OUT, "pattern_375x500.png")).convert("RGB")
    picks = [(land, "pattern_500x375", 10, 3), (land, "pattern_500x375", 144, 22 * 2 + 11),
             (port, "pattern_375x500", 144, 12 * 2), (port, "pattern_375x500", 144, 131)]
    for k, (img, stem, n, index) in enumerate(picks):
        box = protocol_boxes(img.width, img.height, n)[index]
        golden(stem + ".png", "%s_crop%d.png" % (stem, k), "crop", box, crop(img, *box))
    with open(os.path.join(OUT, "boxes.txt"), "w") as f:
        f.write("# width height crops index scale x y size mirror\n")
        for w, h in ((500, 375), (375, 500)):
            for n in (10, 144):
                for i, b in enumerate(protocol_boxes(w, h, n)):
                    f.write("%d %d %d %d %d %d %d %d %d\n" % ((w, h, n, i) + b))

    # A JPEG (4:2:0) through decoding and the tf preprocessing, and a CMYK JPEG's decoding.
    jpg = "pattern_160x120.jpg"
    pattern(160, 120, 7).save(os.path.join(OUT, jpg), quality=90)
    img = Image.open(os.path.join(OUT, jpg)).convert("RGB")
    golden(jpg, "pattern_160x120_jpg_tf.png", "tf", tf_box(160, 120), crop(img, *tf_box(160, 120)))
    cmyk = "cmyk_64x48.jpg"
    pattern(64, 48, 3).convert("CMYK").save(os.path.join(OUT, cmyk), quality=95)
    img = Image.open(os.path.join(OUT, cmyk)).convert("RGB")
    golden(cmyk, "cmyk_64x48_rgb.png", "decode", (0, 0, 0, 0, 0), img)

    with open(os.path.join(OUT, "golden.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("wrote %d goldens, %d bytes in %s" % (len(lines) - 1, total, OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
