#!/usr/bin/env bash
# Stops the local control plane started by kube-start.sh, in reverse order of start.
set -euo pipefail
state="${KUBE_STATE_DIR:-${TMPDIR:-/tmp}/argus-kube}"
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  [ -f "$state/$name.pid" ] || continue
  pid="$(cat "$state/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$state/$name.pid"
done
