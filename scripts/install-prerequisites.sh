#!/usr/bin/env bash
# Installs what the project needs besides the .NET SDK: the real Fashion-MNIST dataset and, with --tests, the
# PostgreSQL server that the journal tests start on loopback (Debian packages).
# Idempotent; asks apt only when something is missing.
set -euo pipefail
packages=()
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || packages+=(dataset-fashion-mnist)
if [[ ${1:-} == --tests ]]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
fi
((${#packages[@]})) || exit 0
sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "installing ${packages[*]} (apt)..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
