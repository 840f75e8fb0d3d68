#!/usr/bin/env bash
# The README's first command: installs Fashion-MNIST if missing, builds, and runs the quickstart sweep on an
# in-process cluster: the MLP teacher on every label, then students given 1 % of the labels, distilled at 8 points
# (alpha x T x loss) and alone, 2 seeds, with a live view, results.csv and the best recipe chosen on validation.
# About 4 minutes on 2 CPU cores, the first build included. Outputs in runs/.
# Run it again to resume an interrupted sweep; finished trials are not run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-prerequisites.sh
./orchestrator local examples/sweeps/fmnist-quickstart.yaml
