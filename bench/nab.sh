#!/usr/bin/env bash
# Scores `argus detect` on a NAB corpus: bench/nab.sh NAB_DIR NAB_SCORER [OUT_DIR]
# e.g. bench/nab.sh ../shared/datasets/nab-dev ../shared/eval/nab_score.py
# ARGUS_DETECT_FLAGS adds flags to every `argus detect` (e.g. --no-model: statistics only).
set -euo pipefail
nab="$1"; scorer="$2"; out="${3:-${TMPDIR:-/tmp}/argus-nab-results}"
here="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$out"
for file in "$nab"/data/*/*.csv; do
  category="$(basename "$(dirname "$file")")"
  mkdir -p "$out/$category"
  printf '%s\n%s\n' "$file" "$out/$category/$(basename "$file")"
done | xargs -P 2 -n 2 sh -c 'node "$0/bin/argus.js" detect --input "$1" --output "$2" ${ARGUS_DETECT_FLAGS:-}' "$here"
python3 "$scorer" "$nab" "$out"
