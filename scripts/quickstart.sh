#!/usr/bin/env bash
# The README's first command: installs Fashion-MNIST if missing, builds, trains the MLP teacher, then the
# 784-400-10 student twice (labels only, and distilled from the teacher with Hinton KD), and compares them.
# About 3 minutes on 2 CPU cores (plus the first build). Outputs in runs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-prerequisites.sh
./orchestrator trial examples/trials/fmnist-teacher-mlp.yaml
./orchestrator trial examples/trials/fmnist-student-alone.yaml
./orchestrator trial examples/trials/fmnist-student-hinton.yaml
echo
./orchestrator summarize runs/fmnist-teacher-mlp runs/fmnist-student-alone runs/fmnist-student-hinton
