#!/usr/bin/env bash
# Scores `argus logs mine` on LogHub 2k samples: bench/loghub.sh LOGHUB_DIR LOGHUB_GA_SCORER
# e.g. bench/loghub.sh ../shared/datasets/loghub-dev ../shared/eval/loghub_ga.py
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python3 "$2" "$1" "node $here/bin/argus.js logs mine"
