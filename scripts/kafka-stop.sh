#!/usr/bin/env bash
# Stops the test broker started by kafka-start.sh: SIGTERM, then SIGKILL after 30 s.
set -euo pipefail
state="${KAFKA_STATE_DIR:-${TMPDIR:-/tmp}/argus-kafka}"
[ -f "$state/broker.pid" ] || exit 0
pid="$(cat "$state/broker.pid")"
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
fi
rm -f "$state/broker.pid"
