#!/usr/bin/env bash
# Prometheus and Alertmanager from Debian's packages, for bench/alertmanager-compare.ts only (the
# tests do not need them). Needs root (apt-get); does nothing when both are installed.
set -euo pipefail
if command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null; then
  echo "prometheus and prometheus-alertmanager are installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager
# The packages start no services here (no init system); the benchmark runs its own instances.
