#!/usr/bin/env bash
# Scores `argus rca offline` on the PetShop root-cause benchmark: bench/petshop.sh PETSHOP_DIR PETSHOP_SCORER
# e.g. bench/petshop.sh ../shared/datasets/petshop-dev ../shared/eval/petshop.py
set -euo pipefail
dataset="$1"; scorer="$2"; out="${3:-${TMPDIR:-/tmp}/argus-petshop-cases}"
here="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$out"
python3 "$scorer" export "$dataset" "$out"
python3 "$scorer" score "$out" "node '$here/bin/argus.js' rca offline"
