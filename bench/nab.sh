#!/usr/bin/env bash
# Scores `argus detect` on a NAB corpus: bench/nab.sh NAB_DIR NAB_SCORER [OUT_DIR]
# e.g. bench/nab.sh ../shared/datasets/nab-dev ../shared/eval/nab_score.py
# ARGUS_DETECT_FLAGS adds flags to `argus detect` (e.g. --no-model: statistics only).
# The whole corpus goes through one `argus detect` run (a directory in, a directory out).
set -euo pipefail
nab="$1"; scorer="$2"; out="${3:-${TMPDIR:-/tmp}/argus-nab-results}"
here="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$out"
started=$EPOCHREALTIME
# shellcheck disable=SC2086 # the flags are words
node "$here/bin/argus.js" detect --input "$nab/data" --output "$out" ${ARGUS_DETECT_FLAGS:-}
awk -v a="$started" -v b="$EPOCHREALTIME" -v n="$(find "$nab/data" -name '*.csv' | wc -l)" \
  'BEGIN { printf "argus detect: %d files in %.1f s\n", n, b - a }'
python3 "$scorer" "$nab" "$out"
