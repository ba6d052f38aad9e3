#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft) on loopback for tests and prints its address.
# The broker comes from Maven Central (scripts/kafka/pom.xml), cached under ~/.cache/argus.
# Restarting on the same KAFKA_STATE_DIR keeps the log (for crash tests); KAFKA_FRESH=1 wipes it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version=3.9.1
cache="${ARGUS_CACHE_DIR:-$HOME/.cache/argus}"
libs="$cache/kafka-$version/libs"
state="${KAFKA_STATE_DIR:-${TMPDIR:-/tmp}/argus-kafka}"
port="${KAFKA_PORT:-19092}"
controller_port="${KAFKA_CONTROLLER_PORT:-19093}"

if [ ! -f "$libs/.complete" ]; then
  echo "kafka: resolving broker $version from Maven Central into $libs (first run only)" >&2
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
fi

if [ "${KAFKA_FRESH:-0}" = "1" ]; then
  # A broker still running on this state would lose its files under it: stop it first.
  KAFKA_STATE_DIR="$state" bash "$here/kafka-stop.sh"
  rm -rf "$state"
fi
mkdir -p "$state"
if [ -f "$state/broker.pid" ] && kill -0 "$(cat "$state/broker.pid")" 2>/dev/null; then
  echo "127.0.0.1:$port"
  exit 0
fi

cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
cat > "$state/log4j.properties" <<'LOG'
log4j.rootLogger=WARN, file
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
LOG

# The heap and GC options Kafka's own kafka-server-start.sh gives a broker (what docker-compose's
# image runs), so tests and benchmarks measure the broker users run.
java_opts=(-Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
  "-Dkafka.logs.dir=$state" "-Dlog4j.configuration=file:$state/log4j.properties")
if [ ! -f "$state/data/meta.properties" ]; then
  cluster_id="$(java -cp "$libs/*" "${java_opts[@]}" kafka.tools.StorageTool random-uuid)"
  java -cp "$libs/*" "${java_opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" --ignore-formatted >&2
fi

: > "$state/broker.log"
nohup java -cp "$libs/*" "${java_opts[@]}" kafka.Kafka "$state/server.properties" > "$state/stdout.log" 2>&1 &
echo $! > "$state/broker.pid"

for _ in $(seq 1 120); do
  if grep -q "Kafka Server started" "$state/broker.log" 2>/dev/null; then
    echo "127.0.0.1:$port"
    exit 0
  fi
  if ! kill -0 "$(cat "$state/broker.pid")" 2>/dev/null; then
    echo "kafka: broker exited during start; see $state/stdout.log" >&2
    tail -20 "$state/stdout.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "kafka: broker not ready after 60 s; see $state/broker.log" >&2
exit 1
