#!/usr/bin/env bash
# The KD benchmark zoo's step, this tool against Debian's PyTorch 1.13 on the same CPU threads, and packs of K
# resnet8 students (docs/benchmarks.md, zoo). Usage: scripts/bench-zoo.sh [threads, default: all cores] [seconds per cell, default 10]
# Debian's PyTorch links the reference BLAS unless OpenBLAS is installed (apt-get install libopenblas0-pthread);
# its convolutions run on oneDNN either way. The BLAS in use is printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
seconds=${2:-10}
echo "libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo none); $threads thread(s), $(nproc) core(s)"
echo "## this tool (TorchSharp)"
OMP_NUM_THREADS=$threads ./orchestrator bench --zoo --batch-sizes 64 256 --seconds "$seconds" --packs 1 2 4
echo "## PyTorch"
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads /usr/bin/python3 scripts/bench-zoo-pytorch.py "$threads" "$seconds" 64 256
