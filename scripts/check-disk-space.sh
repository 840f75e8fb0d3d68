#!/usr/bin/env bash
# Fails with a clear message when a folder's file system has less free space than a build and a test run need:
# the build writes about 11 GiB (TorchSharp's native libraries are copied into each project's output) and a test
# run up to about 3 GiB of temporary files. Usage: check-disk-space.sh FOLDER... (REQUIRED_GIB overrides 16).
set -uo pipefail
required_gib=${REQUIRED_GIB:-16}
status=0
for folder in "$@"; do
  free_kib=$(df -Pk "$folder" | awk 'NR == 2 { print $4 }')
  if ((free_kib < required_gib * 1024 * 1024)); then
    echo "error: only $((free_kib / 1024 / 1024)) GiB free on the file system of $folder ($(df -P "$folder" | awk 'NR == 2 { print $6 }')); building and testing need about $required_gib GiB." >&2
    echo "  free some space (old test folders: rm -rf ${TMPDIR:-/tmp}/orchestrator-test-run.* ${TMPDIR:-/tmp}/orchestrator-tests; build outputs: dotnet clean), or set REQUIRED_GIB if you know less will do" >&2
    status=1
  fi
done
exit $status
