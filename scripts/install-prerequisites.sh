#!/usr/bin/env bash
# Installs what the project needs besides the .NET SDK: the real Fashion-MNIST dataset and, with --tests, the
# PostgreSQL server that the journal tests start on loopback; what the Python client (clients/python) needs to be
# pip-installed into a venv and tested: grpcio, protobuf, pandas, venv, and protoc with the grpc_python_plugin, which
# checks its committed stubs (python3-grpc-tools 1.14 bundles protoc 3.5, which predates proto3 `optional`); Prometheus with promtool, which the metrics tests run on loopback, and PyTorch (python3-torch
# 1.13, CPU), which rebuilds exported students in the export tests, and chromium, which loads the report headless.
# All Debian packages.
# Idempotent; asks apt only when something is missing.
set -euo pipefail
packages=()
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || packages+=(dataset-fashion-mnist)
if [[ ${1:-} == --tests ]]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
  /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || packages+=(python3-grpcio python3-protobuf)
  /usr/bin/python3 -c 'import pandas, ensurepip' 2>/dev/null || packages+=(python3-pandas python3-venv python3-setuptools)
  [[ -x /usr/bin/protoc && -x /usr/bin/grpc_python_plugin ]] || packages+=(protobuf-compiler protobuf-compiler-grpc)
  [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]] || packages+=(prometheus)
  /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || packages+=(python3-torch python3-numpy)
  [[ -x /usr/bin/chromium ]] || packages+=(chromium)
fi
((${#packages[@]})) || exit 0
sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "installing ${packages[*]} (apt)..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
