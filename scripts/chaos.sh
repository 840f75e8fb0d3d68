#!/usr/bin/env bash
# A benchmark, not a test (docs/benchmarks.md, "Chaos"): a sweep of synthetic student trials on one coordinator and
# three GPU nodes (CPU slots) while faults strike at seeded random intervals: the coordinator killed with SIGKILL and
# restarted three times, nodes killed with SIGKILL and restarted, nodes stopped with SIGSTOP (with their workers) for
# 40 s, and the disk every process writes to (a 512 MB tmpfs when run as root) filled for 20 s. Then it reports
# trials expected / done / failed / lost, trials restarted from scratch, finished trials whose files changed after
# they finished, metrics files holding an epoch twice or missing one, and each recovery's time.
#
#   scripts/chaos.sh [--trials 200] [--seed 1] [--out DIR]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
trials=200 seed=1 out=""
while (($#)); do
  case $1 in
    --trials) trials=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: scripts/chaos.sh [--trials N (a multiple of 5)] [--seed S] [--out DIR]" >&2; exit 2 ;;
  esac
done
((trials % 5 == 0 && trials > 0)) || { echo "--trials: a positive multiple of 5 (5 learning rates x seeds)" >&2; exit 2; }
RANDOM=$seed
out=${out:-$(mktemp -d /tmp/orchestrator-chaos.XXXXXX)}
mkdir -p "$out/logs" "$out/disk"
orchestrator="$root/orchestrator"
"$orchestrator" --help >/dev/null || exit 1 # builds it first if needed

disk="$out/disk"
small_disk=false
if [[ $(id -u) == 0 ]] && mount -t tmpfs -o size=512m chaos "$disk" 2>/dev/null; then small_disk=true; fi
serve="$disk/serve"
trials_dir="$serve/chaos/trials"
results="$serve/chaos/results.csv"

seeds=$(seq -s, 1 $((trials / 5)))
cat >"$out/chaos.yaml" <<EOF
name: chaos
dataset: { name: synthetic, validation: 200 }
student: { model: mlp-256, epochs: 16 }
parameters:
  lr: { values: [0.0005, 0.001, 0.002, 0.003, 0.005] }
seeds: [$seeds]
EOF

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port) grpc=$(free_port)
endpoint="http://127.0.0.1:$grpc"
declare -A pid
runs=0
# Each process leads its own process group, so a signal reaches the node and its slot workers together.
start_coordinator() {
  runs=$((runs + 1))
  setsid "$orchestrator" serve --port "$port" --grpc-port "$grpc" --out "$serve" --sweep "$out/chaos.yaml" >"$out/logs/coordinator-$runs.log" 2>&1 &
  pid[coordinator]=$!
}
start_node() {
  setsid "$orchestrator" gpunode --seed-nodes "akka.tcp://orchestrator@127.0.0.1:$port" --devices cpu --name "node$1" >>"$out/logs/node$1.log" 2>&1 &
  pid[node$1]=$!
}
# The sweep's row of `orchestrator status`: | sweep | state | jobs | queued | running | done | failed | cancelled | best |
sweep_row() { "$orchestrator" status --endpoint "$endpoint" 2>/dev/null | awk -F'|' '$2 ~ /chaos/ { print $6 + 0, $7 + 0 }'; }
running() { local row; row=$(sweep_row); echo "${row%% *}" | grep -E '^[0-9]+$' || echo 0; }
complete() { [[ -f $results ]]; }
# Seconds from $1 (date +%s.%N) until `$2` succeeds (or the sweep completes), polled; "over 300" if it never does.
seconds_until() {
  local since=$1 condition=$2
  until eval "$condition" || complete; do
    (($(date +%s) - ${since%.*} > 300)) && { echo "over 300"; return; }
    sleep 0.5
  done
  printf '%.1f\n' "$(echo "$(date +%s.%N) - $since" | bc)"
}

start_coordinator
for n in 1 2 3; do start_node $n; done
started=$(date +%s)

# Hashes each trial's files once it has finished (its summary says COMPLETED), to compare at the end.
(
  while ! complete; do
    for summary in "$trials_dir"/*/summary.json; do
      [[ -f $summary ]] || continue
      trial=$(dirname "$summary")
      grep -q '"TRIAL_STATUS_COMPLETED"' "$summary" 2>/dev/null || continue
      grep -q "  $trial/" "$out/finished.sha256" 2>/dev/null && continue
      sha256sum "$trial"/* >>"$out/finished.sha256" 2>/dev/null
    done
    sleep 1
  done
) &
hasher=$!

faults=(coordinator node-kill node-stop coordinator disk node-kill node-stop coordinator)
recoveries=()
for fault in "${faults[@]}"; do
  sleep $((10 + RANDOM % 15))
  complete && break
  case $fault in
    coordinator)
      kill -KILL -- "-${pid[coordinator]}" 2>/dev/null
      t=$(date +%s.%N)
      start_coordinator
      recoveries+=("coordinator SIGKILL + restart: Get answers after $(seconds_until "$t" '[[ -n $(sweep_row) ]]') s")
      ;;
    node-kill)
      n=$((1 + RANDOM % 3))
      kill -KILL -- "-${pid[node$n]}" 2>/dev/null
      sleep 2
      t=$(date +%s.%N)
      start_node $n
      recoveries+=("node$n SIGKILL (node and workers) + restart: 3 slots busy again after $(seconds_until "$t" '(( $(running) >= 3 ))') s")
      ;;
    node-stop)
      n=$((1 + RANDOM % 3))
      kill -STOP -- "-${pid[node$n]}" 2>/dev/null
      sleep 40
      kill -CONT -- "-${pid[node$n]}" 2>/dev/null
      t=$(date +%s.%N)
      recoveries+=("node$n SIGSTOP 40 s (node and workers) + SIGCONT: 3 slots busy again after $(seconds_until "$t" '(( $(running) >= 3 ))') s")
      ;;
    disk)
      $small_disk || { recoveries+=("disk full: skipped (needs root to mount a small tmpfs)"); continue; }
      dd if=/dev/zero of="$disk/filler" bs=1M status=none 2>/dev/null
      sleep 20
      rm -f "$disk/filler"
      t=$(date +%s.%N)
      recoveries+=("disk full for 20 s, then freed: 3 slots busy again after $(seconds_until "$t" '(( $(running) >= 3 ))') s")
      ;;
  esac
  echo "$(($(date +%s) - started)) s: ${recoveries[-1]}"
done

deadline=$(($(date +%s) + 1800))
until complete || (($(date +%s) > deadline)); do sleep 2; done
sleep 5
kill "$hasher" 2>/dev/null
wall=$(($(date +%s) - started))

done_count=0 failed_count=0
if complete; then
  done_count=$(awk -F, 'NR > 1 && $3 == "done"' "$results" | wc -l)
  failed_count=$(awk -F, 'NR > 1 && $3 == "failed"' "$results" | wc -l)
fi
changed=$(sha256sum --quiet -c "$out/finished.sha256" 2>/dev/null | grep -c FAILED)
finished_hashed=$(cut -d' ' -f3 "$out/finished.sha256" 2>/dev/null | xargs -r -n1 dirname | sort -u | wc -l)
bad_metrics=0
for metrics in "$trials_dir"/*/metrics.jsonl; do
  [[ -f $metrics ]] || continue
  [[ $(grep -o '"epoch": *[0-9]*' "$metrics" | grep -o '[0-9]*$' | tr '\n' ' ') == "$(seq -s' ' 1 16) " ]] || bad_metrics=$((bad_metrics + 1))
done
from_scratch=$(grep -ho 'trial-[^ ]* attempt [0-9]*: no checkpoint' "$out"/logs/node*.log | awk '{print $1}' | sort | uniq -c | awk '$1 > 1' | wc -l)
superseded=$(grep -hc 'was superseded by' "$out"/logs/node*.log | paste -sd+ | bc)
attempts=$(grep -h 'slot [0-9]*: starting' "$out"/logs/node*.log | wc -l)

{
  echo "# Chaos run: $trials trials, seed $seed, $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "| trials expected | done | failed | lost | attempts started | trials started from scratch twice | superseded attempts stopped | finished trials hashed | finished files changed | metrics files with an epoch twice or missing | wall |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "| $trials | $done_count | $failed_count | $((trials - done_count - failed_count)) | $attempts | $from_scratch | ${superseded:-0} | $finished_hashed | $changed | $bad_metrics | $wall s |"
  echo
  for line in "${recoveries[@]}"; do echo "- $line"; done
  echo
  echo "Logs: $out/logs. A trial started from scratch twice lost its first attempt before its first checkpoint (its node died in epoch 1)."
} | tee "$out/report.md"

for p in "${pid[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
sleep 5
for p in "${pid[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
$small_disk && { cp -r "$serve/chaos/results.csv" "$out/" 2>/dev/null; umount "$disk"; }
((done_count == trials && changed == 0 && bad_metrics == 0))
