#!/usr/bin/env bash
# Accuracy on real Fashion-MNIST over several seeds (docs/benchmarks.md): MLP and CNN teachers, the mlp-400
# student alone, distilled with Hinton KD from each teacher, and with triplet + Hinton KD from the CNN teacher.
# Every test accuracy is that of the checkpoint chosen on validation. Ends with `orchestrator summarize`.
#
#   scripts/accuracy-benchmark.sh [--device cpu|cuda:0|auto] [--seeds "1 2 3"] [--out runs/accuracy] [--part mlp|cnn|all]
# ORCHESTRATOR (default ./orchestrator) is the command that runs the CLI, e.g. "dotnet .device/app/orchestrator.dll".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
device=auto seeds="1 2 3" out=runs/accuracy part=all
while (($#)); do
  case $1 in
    --device) device=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
read -r -a run <<<"${ORCHESTRATOR:-./orchestrator}"
trial() { "${run[@]}" trial "$@" --device "$device"; }
t=examples/trials
for seed in $seeds; do
  if [[ $part == mlp || $part == all ]]; then
    trial $t/fmnist-teacher-mlp.yaml --seed "$seed" --out "$out/teacher-mlp/seed$seed"
    trial $t/fmnist-student-alone.yaml --seed "$seed" --out "$out/student-alone/seed$seed"
    trial $t/fmnist-student-hinton.yaml --seed "$seed" --teacher "$out/teacher-mlp/seed$seed/best.ckpt" --out "$out/student-hinton-mlp/seed$seed"
  fi
  if [[ $part == cnn || $part == all ]]; then
    trial $t/fmnist-teacher-cnn.yaml --seed "$seed" --out "$out/teacher-cnn/seed$seed"
    trial $t/fmnist-student-alone.yaml --seed "$seed" --epochs 40 --name fmnist-student-alone-40-epochs --out "$out/student-alone-40/seed$seed"
    trial $t/fmnist-student-hinton-cnn.yaml --seed "$seed" --teacher "$out/teacher-cnn/seed$seed/best.ckpt" --out "$out/student-hinton-cnn/seed$seed"
    trial $t/fmnist-student-triplet-hinton.yaml --seed "$seed" --teacher "$out/teacher-cnn/seed$seed/best.ckpt" \
      --out "$out/student-triplet-hinton-cnn/seed$seed"
  fi
done
"${run[@]}" summarize "$out"
