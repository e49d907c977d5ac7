#!/bin/sh
# The private Python environment that holds bench/compare's peer engines: ONNX Runtime and
# OpenVINO (with numpy), installed from PyPI into a virtual environment of its own, so that
# nothing of the system's Python changes.
#
#   sh tools/peers-venv.sh create   # make it (or complete it) and print the versions
#   sh tools/peers-venv.sh check    # exit 0 when it exists and imports both, else 1
#   sh tools/peers-venv.sh path     # print its folder
#
# The folder is $IRV2_PEERS_VENV, else ${XDG_CACHE_HOME:-$HOME/.cache}/irv2/peers-venv. The
# base interpreter is $IRV2_PEERS_PYTHON, else /usr/bin/python3, else python3 from PATH; the
# packages are $IRV2_PEERS_PACKAGES, else "onnxruntime openvino numpy" (latest releases; pin
# them there, e.g. "onnxruntime==1.23.2 openvino==2025.3.0 numpy", for a fixed set). The
# environment has no access to the system's site-packages: the engines bring their own numpy.
# bench/compare --peers runs "create" when the environment is missing.
set -eu

venv=${IRV2_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/irv2/peers-venv}
packages=${IRV2_PEERS_PACKAGES:-onnxruntime openvino numpy}
if [ -n "${IRV2_PEERS_PYTHON:-}" ]; then
    base=$IRV2_PEERS_PYTHON
elif [ -x /usr/bin/python3 ]; then
    base=/usr/bin/python3
else
    base=python3
fi

# prints "onnxruntime X, openvino Y, numpy Z" with the environment's python, or fails
versions() {
    "$venv/bin/python" -c '
import numpy, onnxruntime, openvino
print("onnxruntime %s, openvino %s, numpy %s" % (onnxruntime.__version__, openvino.__version__, numpy.__version__))
' 2>/dev/null
}

case "${1:-}" in
path)
    echo "$venv"
    ;;
check)
    [ -x "$venv/bin/python" ] && versions >/dev/null
    ;;
create)
    if [ -x "$venv/bin/python" ] && v=$(versions); then
        echo "peers-venv: $venv already holds $v"
        exit 0
    fi
    echo "peers-venv: creating $venv with $base -m venv, then pip install $packages (about 150 MB from PyPI)"
    mkdir -p "$(dirname "$venv")"
    if ! "$base" -m venv "$venv"; then
        echo "peers-venv: '$base -m venv' failed (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
    # word splitting of $packages is intended: it is a list of requirement specifiers
    # shellcheck disable=SC2086
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q $packages; then
        echo "peers-venv: pip install $packages failed (is PyPI reachable?); $venv is left as it is" >&2
        exit 1
    fi
    if ! v=$(versions); then
        echo "peers-venv: $venv does not import onnxruntime, openvino and numpy after installing" >&2
        exit 1
    fi
    echo "peers-venv: $venv holds $v"
    ;;
*)
    echo "usage: sh tools/peers-venv.sh create|check|path" >&2
    exit 2
    ;;
esac
