"""Model.classify against `irv2 classify --json`: the same records for the same images (JPEG,
PNG, CMYK, portrait, landscape, tiny), labels from a file or a list, unreadable images raised
or recorded; and irv2.load_image / irv2.preprocess."""
import json
import shutil
import subprocess

import numpy as np
import pytest

import irv2

GOOD = ["pattern_160x120.jpg", "pattern_375x500.png", "cmyk_64x48.jpg", "pattern_100x50.png",
        "pattern_500x375.png"]


@pytest.fixture(scope="module")
def photos(images, tmp_path_factory):
    """The good test images, a corrupt one and a missing one, in a temporary folder."""
    d = tmp_path_factory.mktemp("photos")
    for name in GOOD:
        shutil.copy(images / name, d / name)
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    good = [str(d / n) for n in GOOD]
    return good, str(d / "corrupt.jpg"), str(d / "missing.png")


@pytest.fixture(scope="module")
def labels_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "labels.txt"
    # CRLF line ends, a quote and a backslash: read as the CLI reads them, escaped in its JSON.
    path.write_bytes("".join('class "%d" \\ é\r\n' % i for i in range(1000)).encode())
    return str(path)


def cli_records(cli, device, args):
    r = subprocess.run([cli, "classify", "--weights", "synthetic:1", "--json", "--device",
                        device] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode in (0, 1), r.stderr
    return [json.loads(line) for line in r.stdout.decode().splitlines()], r


def test_classify_equals_cli(model, cli, photos):
    good, corrupt, missing = photos
    paths = [good[0], corrupt, good[1], good[2], missing, good[3], good[4]]
    expected, r = cli_records(cli, model.device.spec, ["--top", "5"] + paths)
    assert r.returncode == 1 and len(expected) == 7
    got = model.classify(paths, top=5, errors="record")
    assert [g["image"] for g in got] == paths
    assert "corrupt.jpg" in got[1]["error"] and "missing.png" in got[4]["error"]
    assert got == expected  # the CLI records the failed images too, in order
    for rec in (e for e in expected if "error" not in e):
        assert len(rec["top"]) == 5 and rec["top"][0]["label"] is None
        probs = [t["prob"] for t in rec["top"]]
        assert probs == sorted(probs, reverse=True)


def test_classify_labels_and_batches_equal_cli(model, cli, photos, labels_file):
    good = photos[0]
    expected, r = cli_records(cli, model.device.spec,
                              ["--top", "3", "--batch", "2", "--labels", labels_file] + good)
    assert r.returncode == 0
    got = model.classify(good, top=3, labels=labels_file, batch=2)
    assert got == expected
    assert got[0]["top"][0]["label"] == 'class "%d" \\ é' % got[0]["top"][0]["class"]
    # Labels as a list; a single path.
    names = ['class "%d" \\ é' % i for i in range(1000)]
    assert model.classify(good, top=3, labels=names, batch=2) == expected
    assert model.classify(good[0], top=3, labels=names) == expected[:1]


def test_classify_errors(model, photos, tmp_path):
    good, corrupt, missing = photos
    with pytest.raises(irv2.Error) as info:
        model.classify([good[0], corrupt])
    assert info.value.status == "malformed file" and corrupt in info.value.message
    with pytest.raises(irv2.Error) as info:
        model.classify([missing])
    assert info.value.status == "i/o error" and missing in info.value.message
    short = tmp_path / "short.txt"
    short.write_text("a\nb\n")
    with pytest.raises(ValueError, match="2 class names"):
        model.classify(good, labels=str(short))
    for bad in (dict(top=0), dict(batch=0), dict(errors="ignore")):
        with pytest.raises(ValueError):
            model.classify(good, **bad)
    assert model.classify([]) == []
    # top larger than the class count is cut to it.
    assert len(model.classify(good[:1], top=5000)[0]["top"]) == 1000


def test_preprocess_is_classify_input(model, photos):
    good = photos[0]
    x = np.stack([irv2.preprocess(p) for p in good[:2]])
    assert x.shape == (2, 3, 299, 299) and x.dtype == np.float32
    assert -1 <= x.min() and x.max() <= 1
    probs = model(x, softmax=True)
    records = model.classify(good[:2], top=1)
    for row, rec in zip(probs, records):
        assert rec["top"][0]["class"] == int(np.argmax(row))
        assert rec["top"][0]["prob"] == float("%.6g" % row.max())


def test_load_image(images):
    img = irv2.load_image(images / "pattern_160x120.jpg")
    assert img.shape == (120, 160, 3) and img.dtype == np.uint8
    img = irv2.load_image(str(images / "pattern_375x500.png"))
    assert img.shape == (500, 375, 3)
    with pytest.raises(irv2.Error):
        irv2.load_image(images / "no-such-image.png")
