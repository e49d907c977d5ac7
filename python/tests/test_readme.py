"""The README's Python example, run exactly as written: the ```python block of its "### Python"
section, in a folder holding two test images as cat.jpg and dog.png."""
import re
import shutil
import subprocess
import sys


def readme_example(repo):
    text = (repo / "README.md").read_text()
    m = re.search(r"^### Python\n(.*?)(?=^#{1,3} )", text, re.S | re.M)
    assert m, "README.md has no '### Python' section"
    blocks = re.findall(r"^```python\n(.*?)^```", m.group(1), re.S | re.M)
    assert len(blocks) == 1, "the Python section should hold one python example"
    return blocks[0]


def test_readme_example_runs(repo, images, tmp_path):
    code = readme_example(repo)
    shutil.copy(images / "pattern_160x120.jpg", tmp_path / "cat.jpg")
    shutil.copy(images / "pattern_375x500.png", tmp_path / "dog.png")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    lines = out.splitlines()
    assert len(lines) == 5, out
    assert "(2, 1000)" in lines[1]
    assert lines[2].startswith("cat.jpg [(") and lines[3].startswith("dog.png [(")
    assert lines[4].startswith("i/o error - missing.safetensors: cannot open")


def test_readme_install_commands(repo):
    """The install commands the README gives name what this tree has."""
    text = (repo / "README.md").read_text()
    section = re.search(r"^### Python\n(.*?)(?=^#{1,3} )", text, re.S | re.M).group(1)
    assert "pip install ./python" in section and "-DBUILD_SHARED_LIBS=ON" in section
    assert (repo / "python" / "pyproject.toml").is_file()
