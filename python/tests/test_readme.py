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
    """The README's install commands are those tests/python/run.sh runs before the suite: a
    venv, then `pip install ./python` alone, which builds the library (scikit-build-core)."""
    text = (repo / "README.md").read_text()
    section = re.search(r"^### Python\n(.*?)(?=^#{1,3} )", text, re.S | re.M).group(1)
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert len(blocks) == 1, "the Python section should hold one sh block"
    commands = [line.split("#")[0].strip() for line in blocks[0].splitlines()]
    assert commands[0].startswith("python3 -m venv ") and commands[1:] == ["pip install ./python"]
    run_sh = (repo / "tests" / "python" / "run.sh").read_text()
    assert '"$1" -m venv "$2"' in run_sh and 'pip install "$src/python"' in run_sh
    pyproject = (repo / "python" / "pyproject.toml").read_text()
    assert 'build-backend = "scikit_build_core.build"' in pyproject
