#!/usr/bin/env bash
# Builds the bench module (offline) and runs one benchmark class with the JVM flags Spark needs.
# usage: bench/bench.sh ScoreBenchmark|TrainBenchmark|SelectBenchmark [flags...]   (from the repository root)
# JAVA_OPTS adds JVM flags (default -Xmx4g); SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
main="$1"; shift
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -o -q -B -pl bench -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
fi
opens=$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' pom.xml)
echo "# uptime at start: $(uptime)" >&2
# shellcheck disable=SC2086
SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} java ${JAVA_OPTS:--Xmx4g} $opens \
  -cp "bench/target/semiweak-bench-0.1.0-SNAPSHOT.jar:$(cat bench/target/classpath.txt)" \
  "org.semiweak.bench.$main" "$@"
echo "# uptime at end: $(uptime)" >&2
