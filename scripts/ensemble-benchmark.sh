#!/usr/bin/env bash
# Ensemble teachers on real Fashion-MNIST (docs/benchmarks.md): runs examples/sweeps/fmnist-ensemble.yaml from
# scratch twice, with cached soft targets (a fresh store, so their generation is timed) and with online teachers,
# then prints each sweep's wall time, the time its jobs took by kind, the students' training samples/s (mean of
# their epochs, from metrics.jsonl) and accuracy per point (mean ± std over seeds, test accuracy of the
# checkpoint chosen on validation).
#
#   scripts/ensemble-benchmark.sh [--device auto|cpu] [--slots 1] [--out runs/ensemble-benchmark]
# ORCHESTRATOR (default ./orchestrator) is the command that runs the CLI, e.g. "dotnet .device/app/orchestrator.dll".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
device=auto slots=1 out=runs/ensemble-benchmark
while (($#)); do
  case $1 in
    --device) device=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
read -r -a run <<<"${ORCHESTRATOR:-./orchestrator}"
rm -rf "$out" && mkdir -p "$out"
sed -e 's/^name: fmnist-ensemble$/name: fmnist-ensemble-online/' -e 's/mode: cached/mode: online/' \
  examples/sweeps/fmnist-ensemble.yaml > "$out/fmnist-ensemble-online.yaml"
for mode in cached online; do
  sweep=examples/sweeps/fmnist-ensemble.yaml
  [[ $mode == online ]] && sweep=$out/fmnist-ensemble-online.yaml
  start=$(date +%s)
  "${run[@]}" local "$sweep" --device "$device" --slots "$slots" --out "$out/$mode" --soft-targets "$out/soft-targets" | tee "$out/$mode.log"
  echo "$mode $(($(date +%s) - start))" >> "$out/wall-seconds.txt"
done

python3 - "$out" <<'PY'
import json, statistics, sys, pathlib
out = pathlib.Path(sys.argv[1])
wall = dict(line.split() for line in (out / "wall-seconds.txt").read_text().splitlines())
def rate(job_dir):
    lines = (job_dir / "metrics.jsonl").read_text().splitlines()
    return statistics.mean(json.loads(l)["samples_per_second"] for l in lines)
print("| mode | whole sweep (s) | teachers (s) | soft-target jobs (s) | students (s) | student samples/s: alone | 1 teacher | 3 teachers |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for mode in ("cached", "online"):
    rows = json.loads((out / mode / "results.json").read_text())
    seconds = lambda kinds: sum(r["seconds"] or 0 for r in rows if r["kind"] in kinds)
    students = [r for r in rows if r["kind"] == "student"]
    def group_rate(count, alone):
        picked = [r for r in students if (r["losses"] == "[ce]") == alone and (alone or r["teacher.count"] == count)]
        return statistics.mean(rate(out / mode / "trials" / r["job"]) for r in picked)
    print(f"| {mode} | {wall[mode]} | {seconds({'teacher'}):.0f} | {seconds({'soft-targets', 'soft-target-shard'}):.0f} | {seconds({'student'}):.0f} "
          f"| {group_rate(None, True):,.0f} | {group_rate('1', False):,.0f} | {group_rate('3', False):,.0f} |")
PY
