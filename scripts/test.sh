#!/usr/bin/env bash
# The README's test command (and CI's): installs prerequisites, builds, runs every test project, and ends
# with one line "N passed, N failed, N skipped" counted from the TRX results. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-prerequisites.sh --tests || exit 1
scripts/check-disk-space.sh . "${TMPDIR:-/tmp}" || { echo "0 passed, 1 failed (not enough disk space)"; exit 1; }
# Everything the tests write to temporary folders (datasets, journals, PostgreSQL data, workers' checkpoints) goes
# under one folder for this run, removed when the run ends however it ends: a killed or hung test host cannot
# leave gigabytes behind in /tmp (leftovers of earlier runs once filled the disk and failed a CI build).
run_temp=$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-test-run.XXXXXX") || exit 1
chmod 755 "$run_temp"   # PostgreSQL runs as the postgres user and must reach its data folder in here
trap 'rm -rf "$run_temp"' EXIT
export TMPDIR=$run_temp
results=TestResults
rm -rf "$results"
dotnet build Orchestrator.sln -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed (the build failed)"; exit 1; }
status=0
# A test that hangs fails its project after this long instead of stalling CI until its limit.
hang_timeout=${TEST_HANG_TIMEOUT:-10m}
timings=()
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  started=$SECONDS
  dotnet test "$project" --no-build --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" || status=1
  timings+=("$name $((SECONDS - started)) s")
done
printf 'time per project: %s\n' "$(IFS=,; echo "${timings[*]}" | sed 's/,/, /g')"
passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [[ -f $trx ]] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done
if ((files == 0)); then echo "no test results were written (build failure?)"; status=1; fi
((status == 0 && failed > 0)) && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
