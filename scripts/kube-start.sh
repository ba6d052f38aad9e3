#!/usr/bin/env bash
# Starts a local Kubernetes control plane on loopback for tests and prints its kubeconfig path:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from the k8s.io/kubernetes Go module
# (scripts/kube/go.mod pins the release and its staging modules), and kwok, which plays the
# kubelets of fake nodes so Deployments really get ReplicaSets and Running pods.
#
# Binaries are built once into ~/.cache/argus (first build: about 5 min on 2 cores, plus module
# downloads). Certificates and etcd data live in KUBE_STATE_DIR; running it again starts only the
# components that are not running (tests restart the API server that way). KUBE_FRESH=1 wipes state.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version=v1.36.3
cache="${ARGUS_CACHE_DIR:-$HOME/.cache/argus}"
bin="$cache/kube-$version/bin"
state="${KUBE_STATE_DIR:-${TMPDIR:-/tmp}/argus-kube}"
api_port="${KUBE_API_PORT:-16443}"
etcd_port="${KUBE_ETCD_PORT:-12379}"
etcd_peer_port="$((etcd_port + 1))"
kcm_port="${KUBE_KCM_PORT:-20257}"
scheduler_port="${KUBE_SCHEDULER_PORT:-20259}"
# kwok serves the fake kubelets' endpoints (metrics) here; the API server's node proxy reaches it.
kubelet_port="${KUBE_KUBELET_PORT:-20250}"
# The API server refuses to proxy to loopback addresses, so the fake nodes get this machine's
# first non-loopback IPv4 address (without one, everything but kubelet metrics still works).
node_ip="$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -1 || true)"
node_ip="${node_ip:-127.0.0.1}"
nodes="${KUBE_FAKE_NODES:-2}"

if [ ! -f "$bin/.complete" ]; then
  echo "kube: building etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok ($version) into $bin (first run only)" >&2
  mkdir -p "$bin"
  minor="$(echo "$version" | cut -d. -f2)"
  stamp="-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
  stamp="$stamp -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  (cd "$here/kube" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w $stamp" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    sigs.k8s.io/kwok/cmd/kwok ./cmd/etcd) >&2
  touch "$bin/.complete"
fi

if [ "${KUBE_FRESH:-0}" = "1" ]; then
  KUBE_STATE_DIR="$state" bash "$here/kube-stop.sh"
  rm -rf "$state"
fi
mkdir -p "$state/pki" "$state/logs"
pki="$state/pki"

# --- certificates (once per state dir) ---
client_cert() { # name, CN, O
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -subj "/CN=$2${3:+/O=$3}" -out "$pki/$1.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 365 \
    -extfile <(printf 'extendedKeyUsage=clientAuth') -out "$pki/$1.crt" 2>/dev/null
}
kubeconfig() { # name
  cat > "$state/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: argus-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $pki/ca.crt
users:
- name: $1
  user:
    client-certificate: $pki/$1.crt
    client-key: $pki/$1.key
contexts:
- name: argus-test
  context: {cluster: argus-test, user: $1}
current-context: argus-test
KC
}
if [ ! -f "$pki/.complete" ]; then
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -subj "/CN=argus-test-ca" -days 365 -out "$pki/ca.crt" 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/apiserver.key" -subj "/CN=kube-apiserver" -out "$pki/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 365 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth') \
    -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  # kwok's kubelet endpoint (the API server's node proxy does not verify it, as with real kubelets
  # unless --kubelet-certificate-authority is set).
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/kubelet.key" -subj "/CN=kwok-kubelet" -out "$pki/kubelet.csr" 2>/dev/null
  openssl x509 -req -in "$pki/kubelet.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 365 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth') -out "$pki/kubelet.crt" 2>/dev/null
  client_cert admin argus-test-admin system:masters
  client_cert controller-manager system:kube-controller-manager
  client_cert scheduler system:kube-scheduler
  # kwok plays every kubelet; it needs broad node and pod status rights, so it runs as an admin.
  client_cert kwok kwok system:masters
  for name in admin controller-manager scheduler kwok; do kubeconfig "$name"; done
  touch "$pki/.complete"
fi

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
launch() { # name, command...
  local name="$1"; shift
  nohup "$@" > "$state/logs/$name.log" 2>&1 &
  echo $! > "$state/$name.pid"
}
wait_for() { # name, seconds, check command...
  local name="$1" seconds="$2"; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! running "$name"; then
      echo "kube: $name exited during start; see $state/logs/$name.log" >&2
      tail -20 "$state/logs/$name.log" >&2
      exit 1
    fi
    sleep 0.25
  done
  echo "kube: $name not ready after $seconds s; see $state/logs/$name.log" >&2
  tail -20 "$state/logs/$name.log" >&2
  exit 1
}
api() { # method, path, [json body]
  curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" -X "$1" \
    -H 'content-type: application/json' ${3:+--data "$3"} "https://127.0.0.1:$api_port$2"
}

if ! running etcd; then
  launch etcd "$bin/etcd" --name default --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "default=http://127.0.0.1:$etcd_peer_port" --log-level warn
fi
wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"

if ! running kube-apiserver; then
  launch kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$api_port" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" --authorization-mode Node,RBAC \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.96.0.0/16 \
    --kubelet-preferred-address-types InternalIP --allow-privileged \
    --shutdown-watch-termination-grace-period 2s
fi
wait_for kube-apiserver 90 api GET /readyz

if ! running kube-controller-manager; then
  launch kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=true --cluster-name argus-test \
    --node-monitor-grace-period 40s
fi
wait_for kube-controller-manager 60 curl -sfk "https://127.0.0.1:$kcm_port/healthz"

if ! running kube-scheduler; then
  launch kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$scheduler_port" --leader-elect=false
fi
wait_for kube-scheduler 60 curl -sfk "https://127.0.0.1:$scheduler_port/healthz"

if ! running kwok; then
  launch kwok "$bin/kwok" --kubeconfig "$state/kwok.kubeconfig" \
    --config "$here/kube/stages/kwok-stages.yaml" --config "$here/kube/stages/kwok-metrics-resource.yaml" \
    --config "$here/kube/stages/kwok-metrics-cadvisor.yaml" --config "$here/kube/stages/kwok-usage-from-annotation.yaml" \
    --node-port "$kubelet_port" --server-address "$node_ip:$kubelet_port" \
    --tls-cert-file "$pki/kubelet.crt" --tls-private-key-file "$pki/kubelet.key" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip "$node_ip" --node-lease-duration-seconds 40
fi

# Fake nodes, managed by kwok; the scheduler places pods on them.
for i in $(seq 1 "$nodes"); do
  name="kwok-node-$i"
  api GET "/api/v1/nodes/$name" >/dev/null 2>&1 && continue
  api POST /api/v1/nodes "$(cat <<NODE
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$name","annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},
 "labels":{"kubernetes.io/hostname":"$name","kubernetes.io/os":"linux","type":"kwok"}},
 "spec":{"taints":[]},
 "status":{"allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},"capacity":{"cpu":"32","memory":"256Gi","pods":"110"},
  "nodeInfo":{"architecture":"amd64","kubeletVersion":"fake","kubeProxyVersion":"fake","operatingSystem":"linux"}}}
NODE
)" >/dev/null
done
node_ready() {
  api GET "/api/v1/nodes/kwok-node-$nodes" | node -e \
    'const n = JSON.parse(require("fs").readFileSync(0, "utf8")); process.exit(n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? 0 : 1)'
}
wait_for kwok 60 node_ready

echo "$state/admin.kubeconfig"
