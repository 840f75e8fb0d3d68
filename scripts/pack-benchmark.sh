#!/usr/bin/env bash
# Packs on a whole sweep (docs/benchmarks.md): examples/sweeps/fmnist-pack-grid.yaml (16 points of mlp-400 distilled
# from the MLP teacher, one seed, 8 epochs) on one slot, with execution.pack 1 (each trial alone) and auto (packs),
# with the teacher's outputs cached and computed online. For each: wall time, the students' slot-seconds, the best
# validation accuracy and its test accuracy, and how far each trial's best validation accuracy moved from pack 1.
#
#   scripts/pack-benchmark.sh [--modes "cached online"] [--packs "1 auto"] [--out runs/packs]
# ORCHESTRATOR (default ./orchestrator) is the command that runs the CLI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
modes="cached online" packs="1 auto" out=runs/packs
while (($#)); do
  case $1 in
    --modes) modes=$2; shift 2 ;;
    --packs) packs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
read -r -a run <<<"${ORCHESTRATOR:-./orchestrator}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
teacher="$out/teacher-mlp"
[[ -f $teacher/best.ckpt ]] || "${run[@]}" trial examples/trials/fmnist-teacher-mlp.yaml --seed 1 --out "$teacher"

# The sweep file of a variant: its own name, the shared teacher checkpoint, the soft-target mode and the pack size.
sweep_file() {
  awk -v name="packs-$1-$2" -v teacher="$teacher/best.ckpt" -v mode="$1" -v pack="$2" '
    /^name:/ { print "name: " name; next }
    /^teacher:/ { print "teacher: { checkpoint: " teacher " }"; skipping = 1; next }
    skipping && /^[^ ]/ { skipping = 0 }
    skipping { next }
    /^soft_targets:/ { print "soft_targets: { mode: " mode " }"; next }
    /^execution:/ { print "execution: { pack: " pack " }"; next }
    { print }' examples/sweeps/fmnist-pack-grid.yaml
}

# Students' best validation accuracy by job id, from a results.csv.
accuracies() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) column[$i] = i; next }
    $column["kind"] == "student" { print $column["job"], $column["best_val_accuracy"], $column["best_epoch"] }' "$1" | sort
}

# One row: students, their slot-seconds, the best validation accuracy and its test accuracy.
row() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) column[$i] = i; next }
    $column["kind"] == "student" {
      students++; seconds += $column["seconds"]
      if ($column["best_val_accuracy"] > best) { best = $column["best_val_accuracy"]; test = $column["test_accuracy"] }
    }
    END { printf "%d | %.0f | %.4f | %.2f %%", students, seconds, best, 100 * test }' "$1"
}

table="$out/table.md"
echo "| teacher outputs | pack | students | student slot-seconds | best val accuracy | its test accuracy | wall (s) | largest change of a trial's best val accuracy vs pack 1 | trials with another best epoch |" >"$table"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|" >>"$table"
for mode in $modes; do
  for pack in $packs; do
    file="$out/$mode-$pack.yaml"
    sweep_file "$mode" "$pack" >"$file"
    started=$(date +%s)
    "${run[@]}" local "$file" --slots 1 --out "$out/$mode-$pack" --soft-targets "$out/soft-targets" </dev/null
    wall=$(($(date +%s) - started))
    change="" epochs=""
    if [[ $pack != 1 && -f $out/$mode-1/results.csv ]]; then
      read -r change epochs < <(join <(accuracies "$out/$mode-1/results.csv") <(accuracies "$out/$mode-$pack/results.csv") |
        awk '{ d = $2 - $4; if (d < 0) d = -d; if (d > most) most = d; if ($3 != $5) moved++ } END { printf "%.4f %d\n", most, moved }')
    fi
    echo "| $mode | $pack | $(row "$out/$mode-$pack/results.csv") | $wall | $change | $epochs |" >>"$table"
  done
done
cat "$table"
