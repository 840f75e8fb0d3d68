#!/usr/bin/env bash
# Checks a machine with an NVIDIA GPU end to end, in at most 8 minutes, and prints one summary table:
#   1. the build for that machine's libtorch (TorchBackend=system: the managed TorchSharp on its PyTorch's CUDA libtorch),
#   2. a short `local` sweep on CUDA: a resnet20 teacher, cached soft targets, a pack of 8 resnet8 students (Fashion-MNIST),
#   3. the zoo's KD step (resnet32x4 -> resnet8x4, wrn-40-2 -> wrn-16-2, batch 64 and 256) and packs of K = 1..64 resnet8,
#   4. the same KD step in that machine's PyTorch, for the ratio.
# On a machine with the .NET SDK it builds there. On the lent device (no .NET), prepare .device/ here first as
# scripts/gpu-device.sh says, then run through the device tool with carry [".device"]:  scripts/gpu-check.sh
# Never part of the test suite. Results go to docs/benchmarks.md (GPU check) with the machine and the date.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
out=${GPU_CHECK_OUT:-/tmp/gpu-check}
rm -rf "$out" && mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

# 1. build
if command -v dotnet >/dev/null && dotnet --list-sdks 2>/dev/null | grep -q .; then
  dotnet publish src/Coordinator -c Release -r linux-x64 --self-contained false -p:TorchBackend=system -o "$out/app" >"$out/build.log" 2>&1
  TORCH_LIB=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
  export LD_LIBRARY_PATH=$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  ORCHESTRATOR="dotnet $out/app/orchestrator.dll"
  built="built here ($(dotnet --version))"
else
  source scripts/gpu-device.sh   # the app built on the development machine, the .NET runtime unpacked, its libtorch on the path
  built="built on the development machine, run on this machine's libtorch"
fi
torch=$(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')

# 2. a short sweep on CUDA
cat > "$out/sweep.yaml" <<'YAML'
name: gpu-check
dataset: { name: fashion-mnist, validation: 5000 }
teacher: { model: resnet20, epochs: 2, batch_size: 256, optimizer: { name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005 }, seed: 1 }
student: { model: resnet8, epochs: 2, batch_size: 256, optimizer: { name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005 }, loss: { weights: { ce: 0.1, hinton: 0.9 }, temperature: 4 } }
execution: { pack: 8 }
parameters:
  temperature: { values: [1, 2, 4, 8] }
  student.loss.weights.hinton: { values: [0.5, 0.9] }
seeds: [1]
YAML
sweep_start=$SECONDS
$ORCHESTRATOR local "$out/sweep.yaml" --out "$out/sweep" >"$out/sweep.log" 2>&1
sweep_seconds=$((SECONDS - sweep_start))
best=$(grep -m1 -o 'best recipe.*' "$out/sweep.log" || tail -1 "$out/sweep.log")
ran=$(awk -F, 'NR > 1 && $3 == "done"' "$out/sweep/results.csv" | wc -l)
failed=$(awk -F, 'NR > 1 && $3 == "failed"' "$out/sweep/results.csv" | wc -l)

# 3. the zoo step and packs on CUDA; 4. PyTorch's step
$ORCHESTRATOR bench --zoo --device cuda:0 --batch-sizes 64 256 --seconds 5 --packs 1 2 4 8 16 32 64 | tee "$out/bench.txt"
python3 scripts/bench-zoo-pytorch.py 1 5 64 256 --device cuda | tee "$out/pytorch.txt"

rate() { grep -F "| $2 | $3 |" "$1" | awk -F'|' '{gsub(/[ ,]/, "", $4); print $4}'; }
echo
echo "## GPU check, $(date -u +%F), $(head -1 "$out/gpu.txt"), $torch, $built; $((SECONDS - started)) s in all"
echo "| check | result |"
echo "|---|---|"
echo "| local sweep on CUDA (resnet20 teacher, soft targets, 8 resnet8 students packed) | $ran job(s) done, $failed failed, ${sweep_seconds} s; $best |"
for pair in "resnet32x4 -> resnet8x4" "wrn-40-2 -> wrn-16-2"; do
  for batch in 64 256; do
    ours=$(rate "$out/bench.txt" "$pair" "$batch"); theirs=$(rate "$out/pytorch.txt" "$pair" "$batch")
    echo "| KD step $pair, batch $batch | ${ours} samples/s here, ${theirs} in PyTorch: $(python3 -c "print(f'{$ours / $theirs:.2f}x')") |"
  done
done
echo
echo "packs of K resnet8 students on CUDA (trials x samples/s, speed-up over K = 1):"
grep -E '^\| (K|[0-9]+) \|' "$out/bench.txt" || true
