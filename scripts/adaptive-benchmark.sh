#!/usr/bin/env bash
# Adaptive sweeps on real Fashion-MNIST (docs/benchmarks.md): the space of examples/sweeps/fmnist-kd-hyperband.yaml
# (lr log-uniform, alpha, temperature, dropout, batch size; 40 points of mlp-400, 15 epochs) searched three ways,
# each distilling the same MLP teacher checkpoint (trained once, first): random with every point trained to its last
# epoch; random with hyperband (min_iter 2, eta 3); bayes with hyperband. For each sweep: the best validation accuracy
# found (a point is one seed), that trial's test accuracy, and the slot-seconds its students took (results.csv).
#
#   scripts/adaptive-benchmark.sh [--sampling-seeds "1 2 3"] [--slots 2] [--variants "random hyperband bayes"] [--out runs/adaptive]
# ORCHESTRATOR (default ./orchestrator) is the command that runs the CLI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seeds="1 2 3" slots=2 variants="random hyperband bayes" out=runs/adaptive
while (($#)); do
  case $1 in
    --sampling-seeds) seeds=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
read -r -a run <<<"${ORCHESTRATOR:-./orchestrator}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
teacher="$out/teacher-mlp"
[[ -f $teacher/best.ckpt ]] || "${run[@]}" trial examples/trials/fmnist-teacher-mlp.yaml --seed 1 --out "$teacher"

# The sweep file of a variant: its own name and sampling seed, the shared teacher checkpoint, and (random) no early_terminate.
sweep_file() {
  local variant=$1 seed=$2 source=examples/sweeps/fmnist-kd-hyperband.yaml
  [[ $variant == bayes ]] && source=examples/sweeps/fmnist-kd-bayes.yaml
  awk -v name="adaptive-$variant-$seed" -v seed="$seed" -v teacher="$teacher/best.ckpt" -v plain="$([[ $variant == random ]] && echo 1)" '
    /^teacher:/ { print "teacher: { checkpoint: " teacher " }"; skipping = 1; next }
    skipping && /^[^ ]/ { skipping = 0 }
    skipping { next }
    /^name:/ { print "name: " name; next }
    /^sampling_seed:/ { print "sampling_seed: " seed; next }
    /^early_terminate:/ && plain { next }
    { print }' "$source"
}

# One row from a sweep's results.csv: students done and stopped, the best validation accuracy, its test accuracy, slot-seconds.
row() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) column[$i] = i; next }
    $column["kind"] == "student" {
      students++; if ($column["state"] == "stopped") stopped++
      seconds += $column["seconds"]; epochs += $column["epochs_run"]
      if ($column["best_val_accuracy"] > best) { best = $column["best_val_accuracy"]; test = $column["test_accuracy"] }
    }
    END { printf "%d | %d | %d | %.4f | %.2f %% | %.0f", students, stopped, epochs, best, 100 * test, seconds }' "$1"
}

table="$out/table.md"
echo "| sweep | sampling seed | students | stopped | epochs trained | best val accuracy | its test accuracy | student slot-seconds | wall (s) |" >"$table"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|" >>"$table"
for seed in $seeds; do
  for variant in $variants; do
    file="$out/$variant-$seed.yaml"
    sweep_file "$variant" "$seed" >"$file"
    started=$(date +%s)
    "${run[@]}" local "$file" --slots "$slots" --out "$out/$variant-$seed" --soft-targets "$out/soft-targets" </dev/null
    echo "| $variant | $seed | $(row "$out/$variant-$seed/results.csv") | $(($(date +%s) - started)) |" >>"$table"
  done
done
cat "$table"
